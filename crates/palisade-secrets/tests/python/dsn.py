"""palisade-secrets' DSN differential test, Python half: the drivers' own parsers (pinned in
xtask/python/dsn.txt) read each DSN, so the hosts, credentials and TLS options Dsn reports can
be compared with what the drivers will use.

    dsn.py corpus   the generated corpus: one JSON string per line on stdout (fixed seed)
    dsn.py parse    reads DSNs (one JSON string per line) on stdin; prints one JSON line each:
                    {"dsn", "parsers": {NAME: RESULT}}, NAME one of the parsers meant for
                    the DSN's scheme, RESULT {"error": "..."} or
                    {"hosts": [[host, port], ...], "user", "password": bool, "database",
                     "tls": {key: value}, "loopback": [bool per host], ...}

    target/venv/bin/python dsn.py corpus | target/venv/bin/python dsn.py parse

Parsers, each run only on the schemes it is meant for:
- libpq: psycopg.conninfo.conninfo_to_dict, which is libpq's PQconninfoParse (psycopg-binary
  ships libpq), on `postgres://` and `postgresql://` URLs and on key=value strings. Hosts are
  paired with ports as libpq's connectOptions2 pairs them: `host` and `port` are comma lists,
  one port serves every host, a non-empty `hostaddr` entry is what libpq connects to (in
  place of that `host` entry, which then serves only for SNI and certificate checks); a count
  mismatch libpq refuses at connect time is reported as "hosts_error". An empty host entry is
  "" (libpq's default socket or PGHOST), no host at all is []. A port that is no number stays
  a string (libpq refuses it at connect time).
- sqlalchemy: sqlalchemy.engine.make_url on every `scheme://` URL but MongoDB's. make_url does
  not split host lists or percent-decode the host; for PostgreSQL URLs "connect_hosts" also
  gives what SQLAlchemy's psycopg dialect would hand the driver (create_connect_args).
- pymongo: pymongo.uri_parser.parse_uri on `mongodb://` and `mongodb+srv://`. For
  `mongodb+srv` the SRV and TXT look-ups are replaced by a resolver that returns the SRV name
  itself, so nothing is resolved: every check parse_uri makes on the URI (one host, no port,
  not an IP address, the implied tls=true) still runs, "hosts" is [[srv-name, null]] and
  "srv" is true. pymongo's warnings (a repeated option: the last one counts) are "warnings".
"""

import json
import random
import re
import sys
import warnings

SEED = 20261206
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


def jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def port_value(text):
    if text is None or text == "":
        return None
    return int(text) if text.isdigit() else text


def is_tls_key(key):
    key = re.sub(r"[ _\-]", "", key.lower())
    return key.startswith(("ssl", "tls", "requiressl", "gssenc", "encrypt")) or key in (
        "trustservercertificate",
        "hostnameincertificate",
    )


# ---------------------------------------------------------------------------- parsers


def libpq(dsn):
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    hosts, problem = libpq_hosts(params)
    result = {
        "hosts": hosts,
        "user": params.get("user"),
        "password": "password" in params,
        "database": params.get("dbname"),
        "tls": {k: v for k, v in params.items() if is_tls_key(k)},
        "raw": {k: params[k] for k in ("host", "hostaddr", "port", "service") if k in params},
    }
    if problem:
        result["hosts_error"] = problem
    return result


def libpq_hosts(params):
    """[host, port] pairs libpq connects to, as its connectOptions2 makes them, before any
    default (PGHOST, PGPORT, the socket directory)."""
    host = params.get("host")
    hostaddr = params.get("hostaddr")
    names = host.split(",") if host is not None else []
    addrs = hostaddr.split(",") if hostaddr is not None else []
    if addrs and names and len(addrs) != len(names):
        return [], "could not match %d host names to %d hostaddr values" % (len(names), len(addrs))
    count = max(len(names), len(addrs))
    if count == 0:
        if params.get("port") is not None:
            # No host: libpq's default (PGHOST or the socket) with this port.
            ports = params["port"].split(",")
            if len(ports) > 1:
                return [], "could not match %d port numbers to 1 hosts" % len(ports)
            return [["", port_value(ports[0])]], None
        return [], None
    ports = params["port"].split(",") if params.get("port") is not None else [""]
    if len(ports) == 1:
        ports = ports * count
    elif len(ports) != count:
        return [], "could not match %d port numbers to %d hosts" % (len(ports), count)
    hosts = []
    for index in range(count):
        # What libpq connects to: a non-empty hostaddr entry, else the host entry (the name
        # then serves only for SNI and certificate checks).
        addr = addrs[index] if index < len(addrs) else ""
        name = names[index] if index < len(names) else ""
        hosts.append([addr or name, port_value(ports[index])])
    return hosts, None


def sqlalchemy(dsn):
    from sqlalchemy.engine import make_url

    url = make_url(dsn)
    query = {k: list(v) if isinstance(v, tuple) else v for k, v in url.query.items()}
    result = {
        "drivername": url.drivername,
        "hosts": [] if url.host is None else [[url.host, url.port]],
        "user": url.username,
        "password": url.password is not None,
        "database": url.database,
        "tls": {k: v for k, v in query.items() if is_tls_key(k)},
        "query": query,
    }
    if url.drivername.split("+")[0] in ("postgres", "postgresql"):
        try:
            target = url.set(drivername="postgresql+psycopg")
            _, kwargs = target.get_dialect()().create_connect_args(target)
            result["connect_hosts"], problem = libpq_hosts(
                {k: str(v) for k, v in kwargs.items() if k in ("host", "hostaddr", "port")}
            )
            if problem:
                result["connect_hosts_error"] = problem
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            result["connect_hosts_error"] = "%s: %s" % (type(exc).__name__, exc)
    return result


class OfflineSrvResolver:
    """pymongo's SRV resolver with its checks and without DNS: the SRV name is the host."""

    def __init__(self, fqdn, *args, **kwargs):
        from pymongo.synchronous.srv_resolver import _SrvResolver

        _SrvResolver(fqdn, *args, **kwargs)  # the constructor's checks, no look-up
        self.fqdn = fqdn.lower()

    def get_hosts(self):
        return [(self.fqdn, None)]

    def get_options(self):
        return None


def pymongo(dsn):
    import pymongo.synchronous.srv_resolver as srv_resolver
    import pymongo.synchronous.uri_parser as uri_parser

    uri_parser._SrvResolver = OfflineSrvResolver

    def no_dns(*args, **kwargs):
        raise RuntimeError("srv needs dns")

    srv_resolver._resolve = no_dns
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parsed = uri_parser.parse_uri(dsn, validate=True, warn=False)
    options = parsed["options"]
    result = {
        "hosts": [[host, port] for host, port in parsed["nodelist"]],
        "srv": parsed.get("fqdn") is not None,
        "user": parsed["username"],
        "password": parsed["password"] is not None,
        "database": parsed["database"],
        "tls": jsonable({k: v for k, v in options.items() if is_tls_key(k)}),
    }
    if caught:
        result["warnings"] = [str(w.message) for w in caught]
    return result


def parsers_for(dsn):
    match = SCHEME.match(dsn)
    scheme = match.group(1).lower() if match else None
    if scheme in ("postgres", "postgresql") or (scheme is None and "=" in dsn):
        yield "libpq", libpq
    is_url = scheme is not None and dsn[match.end() :].startswith("//")
    if is_url and not scheme.startswith("mongodb"):
        yield "sqlalchemy", sqlalchemy
    if scheme in ("mongodb", "mongodb+srv"):
        yield "pymongo", pymongo


def loopback(host):
    """Whether a host the parser reports is this machine, by the C library's reading: a
    socket path, `localhost`, or an address (any form glibc's inet_aton takes, `127.1` too) in
    the loopback range. An empty host is the environment's choice (PGHOST): not known local."""
    import ipaddress
    import socket

    if not isinstance(host, str) or not host:
        return False
    if host.startswith(("/", "@")) or host.rstrip(".").lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
        # An IPv4-mapped address (`::ffff:127.0.0.1`) reaches the IPv4 address it maps.
        mapped = getattr(ip, "ipv4_mapped", None)
        return ip.is_loopback or (mapped is not None and mapped.is_loopback)
    except ValueError:
        pass
    try:
        return socket.inet_aton(host)[0] == 127
    except OSError:
        return False


def parse():
    for line in sys.stdin:
        if not line.strip():
            continue
        dsn = json.loads(line)
        results = {}
        for name, parser in parsers_for(dsn):
            try:
                result = jsonable(parser(dsn))
                if isinstance(result.get("hosts"), list):
                    result["loopback"] = [loopback(host) for host, _ in result["hosts"]]
                results[name] = result
            except Exception as exc:  # noqa: BLE001 - each parser's refusal is data
                message = " ".join(str(exc).split())
                results[name] = {"error": "%s: %s" % (type(exc).__name__, message)}
        print(json.dumps({"dsn": dsn, "parsers": results}, ensure_ascii=False))


# ---------------------------------------------------------------------------- corpus

# Credentials are short and plainly fake: a scanner must not take them for real ones.
USERINFO = ["", "u@", "u:p@", "user:pw@", "u%40x:p%3Aw@", "us%20er:p%2Fw@", "u:p%23w@", "u:p%40w@"]
ODD_USERINFO = [
    "u:@", ":p@", "u:p@w@", "u:p#w@", "u:p/w@", "u:p?w@", "u:p:w@", "u%3Ax:pw@", "localhost#@",
]


def userinfo(rng):
    return rng.choice(ODD_USERINFO if rng.random() < 0.3 else USERINFO)
NAMES = [
    "db.example.com", "DB.Example.COM", "db-1.internal", "db_1.internal", "localhost",
    "LOCALHOST", "localhost.", "localhost.example.com", "127.0.0.1", "127.1", "0x7f.1",
    "2130706433", "0177.0.0.1", "127.0.0.1.nip.io", "10.0.0.5", "192.168.1.10", "0.0.0.0",
    "[::1]", "[2001:db8::1]", "[::ffff:127.0.0.1]", "[fe80::1%25eth0]", "[::]", "::1",
    "xn--bcher-kva.example", "db%2Eexample.com",
]
SOCKETS = ["%2Fvar%2Frun%2Fpostgresql", "%2Ftmp", "%2fvar%2frun%2fmysqld"]
PORTS = [None, None, "5432", "5433", "3306", "27017", "0", "65535", "65536", "", "x1"]


def entry(rng, names, ports):
    name = rng.choice(names)
    port = rng.choice(ports)
    return name if port is None else "%s:%s" % (name, port)


def host_list(rng, names, ports, multi=True):
    roll = rng.random()
    if not multi or roll < 0.55:
        return entry(rng, names, ports)
    if roll < 0.9:
        return ",".join(entry(rng, names, ports) for _ in range(rng.randint(2, 3)))
    parts = [entry(rng, names, ports) for _ in range(2)]
    return rng.choice([",".join([parts[0], "", parts[1]]), parts[0] + ",", "," + parts[0]])


def query(rng, options):
    picked = [rng.choice(options) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
    return "?" + "&".join(picked) if picked else ""


def tail(rng):
    if rng.random() < 0.8:
        return ""
    return rng.choice(["#frag", "#@evil.example.com", "#x?sslmode=disable"])


PG_OPTIONS = [
    "sslmode=disable", "sslmode=allow", "sslmode=prefer", "sslmode=require", "sslmode=verify-ca",
    "sslmode=verify-full", "sslmode=REQUIRE", "SSLMODE=require", "ssl=true", "requiressl=1",
    "sslrootcert=system", "sslnegotiation=direct", "gssencmode=disable",
    "host=db.example.com", "host=localhost", "host=%2Fvar%2Frun%2Fpostgresql",
    "host=/var/run/postgresql", "host=db1,db2", "hostaddr=127.0.0.1", "hostaddr=10.0.0.5",
    "port=5433", "port=5432,5433", "application_name=api", "options=-csearch_path%3Dapp",
    "target_session_attrs=read-write", "service=svc", "password=pw", "connect_timeout=5",
    "sslmode=require&sslmode=disable", "sslmode=disable&sslmode=verify-full",
]
MYSQL_OPTIONS = [
    "ssl-mode=REQUIRED", "ssl-mode=VERIFY_IDENTITY", "ssl-mode=DISABLED", "ssl_mode=REQUIRED",
    "sslmode=required", "ssl=true", "ssl=1", "ssl=false", "tls=true", "ssl-ca=%2Fetc%2Fca.pem",
    "ssl_verify_cert=true", "socket=/run/mysqld/mysqld.sock", "charset=utf8mb4",
    "ssl-mode=REQUIRED&ssl-mode=DISABLED", "unix_socket=%2Ftmp%2Fmysql.sock",
]
MONGO_OPTIONS = [
    "tls=true", "tls=false", "ssl=true", "ssl=false", "TLS=true", "tlsInsecure=true",
    "tlsAllowInvalidCertificates=true", "tlsAllowInvalidHostnames=true",
    "sslAllowInvalidCertificates=true", "replicaSet=rs0",
    "authSource=admin", "directConnection=true", "retryWrites=true&w=majority",
    "tls=true&tls=false", "loadBalanced=true", "srvMaxHosts=2",
    "authMechanism=SCRAM-SHA-256",
]
MSSQL_OPTIONS = [
    "encrypt=true", "encrypt=false", "TrustServerCertificate=yes", "Encrypt=strict",
    "driver=ODBC+Driver+18+for+SQL+Server", "trustServerCertificate=true",
]

KV_HOSTS = [
    "db.example.com", "localhost", "127.0.0.1", "127.1", "::1", "2001:db8::1", "[::1]",
    "/var/run/postgresql", "/tmp", "@abstract", "db1,db2", "db1,,db2", "localhost,db.example.com",
    "'db.example.com'", "''", "'/var/run/my dir'", "db1, db2",
]
KV_OTHER = [
    "port=5432", "port=5432,5433", "port=", "port=''", "hostaddr=127.0.0.1",
    "hostaddr=10.0.0.5,127.0.0.1", "user=u", "user='u x'", "password=pw", "password='p w'",
    "password='p\\'w'", "dbname=app", "dbname='my app'", "sslmode=require", "sslmode=disable",
    "sslmode=verify-full", "sslmode = require", "requiressl=1", "sslrootcert=system",
    "service=svc", "application_name=api", "sslmode=require sslmode=disable",
]


def postgres_url(rng):
    schemes = ["postgres", "postgresql", "postgresql", "postgresql+psycopg"] * 4 + ["POSTGRES"]
    scheme = rng.choice(schemes)
    names = NAMES + SOCKETS + [""]
    hosts = host_list(rng, names, PORTS)
    database = rng.choice(["/app", "/app", "/", "", "/my%20app", "/app%2Fx"])
    return "%s://%s%s%s%s%s" % (
        scheme, userinfo(rng), hosts, database, query(rng, PG_OPTIONS), tail(rng)
    )


def libpq_kv(rng):
    parts = ["host=%s" % rng.choice(KV_HOSTS)] if rng.random() < 0.85 else []
    parts += rng.sample(KV_OTHER, rng.randint(1, 4))
    rng.shuffle(parts)
    return " ".join(parts)


def mysql_url(rng):
    scheme = rng.choice(["mysql", "mariadb", "mysql+pymysql", "mariadb+mariadbconnector"])
    names = NAMES + ["", "%2Frun%2Fmysqld%2Fmysqld.sock"]
    hosts = host_list(rng, names, PORTS, multi=rng.random() < 0.3)
    database = rng.choice(["/shop", "/shop", "/", ""])
    return "%s://%s%s%s%s%s" % (
        scheme, userinfo(rng), hosts, database, query(rng, MYSQL_OPTIONS), tail(rng)
    )


MONGO_CLEAN_OPTIONS = [
    "tls=true", "tls=false", "ssl=true", "replicaSet=rs0", "authSource=admin", "tlsInsecure=true",
    "tlsAllowInvalidCertificates=true", "tlsAllowInvalidHostnames=true", "retryWrites=true",
]


def mongodb_uri(rng):
    """Half of them well-formed (pymongo accepts them, so their hosts can be compared), half
    with anything the other families have."""
    if rng.random() < 0.5:
        names = [n for n in NAMES if n not in ("::1", "db%2Eexample.com")]
        ports = [None, None, "27017", "27018"]
        hosts = ",".join(entry(rng, names, ports) for _ in range(rng.randint(1, 3)))
        option = rng.choice([""] + MONGO_CLEAN_OPTIONS)
        return "mongodb://%s%s%s%s" % (
            rng.choice(USERINFO), hosts, rng.choice(["/app", "/", "", "/admin"]),
            "?" + option if option else "",
        )
    names = [n for n in NAMES if n != "::1"] + ["%2Ftmp%2Fmongodb-27017.sock", ""]
    if rng.random() < 0.35:
        scheme = "mongodb+srv"
        hosts = rng.choice(
            ["cluster0.example.mongodb.net", "cluster0.example.mongodb.net:27017", "localhost",
             "example.com", "a.b.c.example.com", "127.0.0.1", "c1.example.net,c2.example.net",
             "Cluster0.Example.Net", "[::1]"]
        )
    else:
        scheme = "mongodb"
        hosts = host_list(rng, names, [None, None, None, "27017", "27018", "0", "65536", "x1"])
    database = rng.choice(["/app", "/app", "/app", "/", "", "/app.coll", "/admin", "/my%20app"])
    return "%s://%s%s%s%s%s" % (
        scheme, userinfo(rng), hosts, database, query(rng, MONGO_OPTIONS), tail(rng)
    )


def other_url(rng):
    server = userinfo(rng) + entry(rng, NAMES, PORTS)
    options = query(rng, MSSQL_OPTIONS)
    return rng.choice(
        [
            "mssql://%s/master%s" % (server, options),
            "mssql+pyodbc://%s/master%s" % (server, options),
            "sqlserver://%s%s" % (server, options),
            "sqlite:///%s" % rng.choice(["app.db", "/var/lib/app.db", "app.db?mode=ro", ""]),
            "sqlite://",
            "sqlite+pysqlite:///:memory:",
        ]
    )


# Hand-picked cases where parsers are known to part ways, first in the corpus.
FIXED = [
    "postgres://u:p@db.example.com:5432/app?sslmode=verify-full",
    "postgresql://u:p@h1:5432,h2:5433/app?sslmode=require",
    "postgresql://u:p@h1,h2:5433/app",
    "postgresql://u:p@[::1]:5432,[2001:db8::1]/app",
    "postgresql://u@%2Fvar%2Frun%2Fpostgresql/app",
    "postgresql:///app?host=/var/run/postgresql",
    "postgresql://localhost/app?host=db.example.com",
    "postgresql://u:p@w@db.example.com/app",
    "postgresql://u:p#w@db.example.com/app",
    "postgresql://db.example.com/app#@localhost",
    "postgresql://localhost#@db.example.com/app",
    "postgresql://localhost?@db.example.com/app",
    "postgresql://localhost/app#x?sslmode=require",
    "POSTGRESQL://u:p@localhost/app",
    "postgresql://u:p@localhost/app?ssl=true",
    "postgresql://u:p@127.1/app",
    "postgresql://u:p@0x7f.1/app",
    "postgresql://u:p@2130706433/app",
    "postgresql://u:p@h1,,h2/app",
    "postgresql://u:p@h1,/app",
    "postgresql://u:p@:5432/app",
    "postgresql://u:p@db.example.com/app?host=localhost&hostaddr=10.0.0.5",
    "host=db1,db2 port=5432,5433 user=u password=pw dbname=app sslmode=require",
    "host=db1,db2 port=5432",
    "host=db1,db2,db3 port=5432,5433",
    "host=/var/run/postgresql dbname=app",
    "host= hostaddr=127.0.0.1 dbname=app",
    "host=localhost sslmode=require sslmode=disable",
    "host='db.example.com' port='5432' user='u' password='p w'",
    "mysql://u:p@db.example.com:3306/shop?ssl-mode=VERIFY_IDENTITY",
    "mysql://u:p@localhost/shop?socket=/run/mysqld/mysqld.sock",
    "mysql://u:p@h1:3306,h2:3306/shop",
    "mariadb://u:p@[::1]:3306/shop?ssl=true",
    "mysql://u:p@w@db.example.com/shop",
    "mysql://u:p#w@db.example.com/shop",
    "mysql://localhost#@db.example.com/shop",
    "mysql://localhost:3306?@db.example.com/shop",
    "mongodb://u:p@mongo1.example.com:27017,mongo2.example.com:27017/app?replicaSet=rs0&tls=true",
    "mongodb://u:p@%2Ftmp%2Fmongodb-27017.sock/app",
    "mongodb://u:p@localhost/app?tls=true&tlsInsecure=true",
    "mongodb://u:p@w@localhost/app",
    "mongodb://localhost/app#@db.example.com",
    "mongodb://localhost#@db.example.com/app",
    "mongodb://u:p#@db.example.com/app?tls=false",
    "mongodb://localhost/app#x?tls=true",
    "mongodb+srv://u:p@cluster0.example.mongodb.net/app?retryWrites=true&w=majority",
    "mongodb+srv://cluster0.example.mongodb.net/?tls=false",
    "mongodb+srv://cluster0.example.mongodb.net:27017/",
    "mongodb+srv://localhost/",
    "mssql://sa:pw@sql.example.com:1433/master?encrypt=true",
    "sqlite:///var/lib/app/data.db?mode=ro",
]


def corpus():
    rng = random.Random(SEED)
    seen = set()
    out = []

    def add(dsn):
        if dsn not in seen:
            seen.add(dsn)
            out.append(dsn)

    for dsn in FIXED:
        add(dsn)
    families = [(postgres_url, 120), (libpq_kv, 70), (mysql_url, 80), (mongodb_uri, 100)]
    for make, count in families + [(other_url, 20)]:
        for _ in range(count):
            add(make(rng))
    for dsn in out:
        print(json.dumps(dsn, ensure_ascii=False))


def main():
    commands = {"corpus": corpus, "parse": parse}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    try:
        commands[sys.argv[1]]()
        sys.stdout.flush()
    except BrokenPipeError:  # `| head`
        sys.stdout = None


if __name__ == "__main__":
    main()
