"""palisade-redact's external corpora, made at test time by real tools (pinned in
xtask/python/redact.txt), and its peers run on them.

    corpus.py labelled            JSON lines: {"kind", "format", "text", "secret"} on stdout
    corpus.py benign DIR          materialize the benign corpus under DIR (changelogs, stdlib)
    corpus.py speed FILE          seconds detect-secrets takes to scan FILE (imports excluded)
    corpus.py pii                 JSON lines: {"kind", "national", "text", "value"}, personal data
                                  made by Faker in five locales, for the `pii` profile
    corpus.py peers LABELLED DIR  recall of detect-secrets and credsweeper on the labelled
                                  corpus (file LABELLED, as written by `labelled`) and their
                                  findings on the benign corpus DIR; one JSON object on stdout
    corpus.py tree ROOT           findings of detect-secrets and credsweeper on the files of
                                  ROOT listed (relative, one per line) on stdin; one JSON object

The labelled corpus: JWTs signed by PyJWT (HS256, RS256, ES256, EdDSA); PEM private keys made
by openssl (PKCS#8, traditional RSA and EC, encrypted PKCS#8) and ssh-keygen (OpenSSH); vendor
tokens in each vendor's documented format; card numbers made by Faker for each network and the
networks' published test numbers; SSNs made by Faker; DSNs for every scheme in
REQUIREMENTS.md (R-SEC-7) rendered by SQLAlchemy's URL, pymongo's documented quoting and the
ADO.NET keyword syntax; authorization headers; password pairs. Each is embedded in realistic
log records: JSON logs (json.dumps), logfmt lines, Apache combined access log lines, Python
tracebacks (traceback.format_exception of a real exception), YAML and .env files.
"""

import base64
import json
import os
import random
import re
import secrets
import string
import subprocess
import sys
import tempfile
import traceback
import urllib.parse
import zlib

SEED = 20261125
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def rand(alphabet, n):
    return "".join(random.choice(alphabet) for _ in range(n))


# ---------------------------------------------------------------------------- secrets


def jwts():
    import jwt  # PyJWT
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    claims = {"sub": "user-%d" % random.randint(1, 10**6), "iat": 1764000000, "scope": "orders:read"}
    yield "jwt", jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")
    yield "jwt", jwt.encode(claims, rsa.generate_private_key(65537, 2048), algorithm="RS256")
    yield "jwt", jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    yield "jwt", jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA")
    yield "jwt", jwt.encode(claims, secrets.token_bytes(64), algorithm="HS512", headers={"kid": "2026-11"})


def pem_keys():
    with tempfile.TemporaryDirectory() as tmp:
        commands = [
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            ["openssl", "genpkey", "-algorithm", "ED25519"],
            ["openssl", "genrsa", "-traditional", "2048"],
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"],
            ["openssl", "genpkey", "-algorithm", "RSA", "-aes256", "-pass", "pass:corpus"],
        ]
        for command in commands:
            yield "pem-private-key", subprocess.run(
                command, check=True, capture_output=True, text=True
            ).stdout
        key = os.path.join(tmp, "id_ed25519")
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "corpus", "-f", key], check=True
        )
        with open(key) as f:
            yield "pem-private-key", f.read()


def github_token(prefix):
    # https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/:
    # prefix, 30 random base62 characters, and the CRC32 of those in 6 base62 digits.
    body = rand(BASE62, 30)
    crc = zlib.crc32(body.encode())
    digits = ""
    for _ in range(6):
        crc, digit = divmod(crc, 62)
        digits = BASE62[digit] + digits
    return prefix + body + digits


def vendor_tokens():
    # AWS: access key ids are 20 characters, a 4-letter type prefix and base32; secret keys 40
    # characters of base64 (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html).
    for prefix in ["AKIA", "ASIA"]:
        yield "aws-access-key-id", prefix + rand(string.ascii_uppercase + "234567", 16)
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]:
        yield "github-token", github_token(prefix)
    # Fine-grained personal access tokens: github_pat_, 22 characters, _, 59 characters.
    yield "github-token", "github_pat_" + rand(BASE62, 22) + "_" + rand(BASE62, 59)
    # https://docs.gitlab.com/security/tokens/#token-prefixes: glpat- and 20 characters.
    yield "gitlab-token", "glpat-" + rand(BASE62 + "-_", 20)
    # https://api.slack.com/authentication/token-types
    yield "slack-token", "xoxb-%d-%d-%s" % (
        random.randint(10**10, 10**13), random.randint(10**10, 10**13), rand(BASE62, 24))
    yield "slack-token", "xoxp-%d-%d-%d-%s" % (
        random.randint(10**10, 10**13), random.randint(10**10, 10**13),
        random.randint(10**10, 10**13), rand("0123456789abcdef", 32))
    # https://docs.stripe.com/keys: sk_live_, rk_live_, sk_test_ and base62.
    for prefix in ["sk_live_", "rk_live_", "sk_test_"]:
        yield "stripe-key", prefix + rand(BASE62, 24)
    yield "stripe-key", "sk_live_" + rand(BASE62, 99)


def aws_secret_key():
    return rand(string.ascii_letters + string.digits + "+/", 40)


# Published test card numbers: Visa, Mastercard (5-series and 2-series), American Express,
# Discover, JCB, Diners Club, UnionPay (https://docs.stripe.com/testing#cards and
# https://developer.paypal.com/tools/sandbox/card-testing/).
PUBLISHED_CARDS = [
    "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222",
    "5200828282828210", "378282246310005", "371449635398431", "6011111111111117",
    "6011000990139424", "3566002020360505", "3056930009020004", "36227206271667",
    "6200000000000005", "4111111111111111", "5105105105105100",
]


def card_numbers():
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for number in PUBLISHED_CARDS:
        yield "card-number", number
    for card_type in ["visa16", "visa13", "mastercard", "amex", "discover", "jcb15", "jcb16",
                      "diners"]:
        for _ in range(3):
            yield "card-number", fake.credit_card_number(card_type=card_type)


def grouped(number):
    """A card number as people type it: Amex 4-6-5, the others in fours."""
    if len(number) == 15 and number[:2] in ("34", "37"):
        return " ".join([number[:4], number[4:10], number[10:]])
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def ssns():
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(SEED)
    for _ in range(25):
        yield "us-ssn", fake.ssn()


def passwords():
    yield secrets.token_urlsafe(12)
    yield "Tr0ub4dor&3"
    yield "p@ss:w/rd?#1"
    yield "correct horse battery staple"
    yield rand(string.ascii_letters + string.digits + "!$%^*-_=+", 20)


def dsns():
    """(scheme, rendered DSN, the password as it appears in it) for every DSN scheme of R-SEC-7
    that carries a password (sqlite has none)."""
    from sqlalchemy.engine import URL

    for password in passwords():
        for drivername, port in [("postgresql", 5432), ("postgresql+psycopg", 5432),
                                 ("mysql+pymysql", 3306), ("mariadb+mariadbconnector", 3306),
                                 ("mssql+pyodbc", 1433)]:
            url = URL.create(drivername, username="app", password=password, host="db.internal",
                             port=port, database="orders")
            rendered = url.render_as_string(hide_password=False)
            # The password as SQLAlchemy escaped it: between the user's ':' and the last '@'.
            userinfo = rendered.split("://", 1)[1].rsplit("@", 1)[0]
            yield rendered, userinfo.split(":", 1)[1]
        quoted = urllib.parse.quote_plus(password)
        # libpq's URI form (https://www.postgresql.org/docs/current/libpq-connect.html) and
        # the JDBC-style sqlserver:// form.
        yield "postgres://app:%s@db.internal:5432/orders?sslmode=require" % quoted, quoted
        yield "sqlserver://app:%s@db.internal:1433?database=orders&encrypt=true" % quoted, quoted
        # pymongo: "username and password must be percent-escaped with urllib.parse.quote_plus".
        yield "mongodb://app:%s@mongo-0:27017,mongo-1:27017/orders?replicaSet=rs0&tls=true" % quoted, quoted
        yield "mongodb+srv://app:%s@cluster0.example.mongodb.net/orders?retryWrites=true" % quoted, quoted
        # ADO.NET keyword syntax; a value with ; or a quote is double-quoted.
        ado_value = '"%s"' % password.replace('"', '""') if any(c in password for c in ";'\" ") else password
        yield ("Server=tcp:db.internal,1433;Database=orders;User ID=app;Password=%s;Encrypt=yes;"
               % ado_value), password


# ---------------------------------------------------------------------------- embeddings


def json_log(message, **fields):
    record = {"ts": "2026-11-25T10:%02d:%02d.%03dZ" % (random.randint(0, 59), random.randint(0, 59),
                                                        random.randint(0, 999)),
              "level": random.choice(["info", "warn", "error"]), "logger": "app.db", "msg": message}
    record.update(fields)
    return json.dumps(record)


def logfmt(**fields):
    def value(v):
        v = str(v)
        return '"%s"' % v.replace('"', '\\"') if any(c in v for c in ' "=') else v
    return " ".join("%s=%s" % (k, value(v)) for k, v in fields.items())


def access_log(path, auth=None):
    line = '10.0.%d.%d - - [25/Nov/2026:10:12:07 +0000] "GET %s HTTP/1.1" 200 %d "-" "python-requests/2.34.2"' % (
        random.randint(0, 255), random.randint(1, 254), path, random.randint(100, 9000))
    if auth:
        line += ' "%s"' % auth
    return line


def traceback_text(message):
    try:
        raise ConnectionError(message)
    except ConnectionError as exc:
        return "".join(traceback.format_exception(exc))


def records():
    for kind, token in jwts():
        yield kind, "access-log", access_log("/api/orders?access_token=" + token), token
        yield kind, "json-log", json_log("request authenticated", authorization="Bearer " + token), token
        yield kind, "logfmt", logfmt(level="debug", msg="session restored", session=token), token
    for kind, key in pem_keys():
        yield kind, "pem-file", key, key
        yield kind, "json-log", json_log("loaded signing key", key=key), key
        yield kind, "yaml", "tls:\n  cert: /etc/app/tls.crt\n  key: |\n" + "".join(
            "    " + line + "\n" for line in key.splitlines()), key
    for kind, token in vendor_tokens():
        yield kind, "logfmt", logfmt(level="info", msg="calling vendor api", credential=token), token
        yield kind, "json-log", json_log("webhook configured", value=token), token
        yield kind, "env", "export VENDOR_TOKEN=%s\n" % token, token
        yield kind, "traceback", traceback_text("vendor rejected credential %s" % token), token
    for _ in range(3):
        secret = aws_secret_key()
        yield "aws-secret-access-key", "env", "AWS_SECRET_ACCESS_KEY=%s\n" % secret, secret
        yield "aws-secret-access-key", "ini", "[default]\naws_access_key_id = AKIA%s\naws_secret_access_key = %s\n" % (
            rand(string.ascii_uppercase + "234567", 16), secret), secret
        yield "aws-secret-access-key", "json-log", json_log("assumed role", aws_secret_access_key=secret), secret
    for kind, number in card_numbers():
        yield kind, "json-log", json_log("payment declined", card=number, amount=1999), number
        spaced = grouped(number)
        yield kind, "logfmt", logfmt(level="warn", msg="charge failed", pan=spaced), spaced
        yield kind, "access-log", access_log("/checkout?card=%s&cvc=123" % number), number
    for kind, ssn in ssns():
        yield kind, "json-log", json_log("applicant verified", ssn=ssn), ssn
        yield kind, "logfmt", logfmt(msg="kyc check", customer="c-%d" % random.randint(1, 9999), tin=ssn), ssn
    for dsn, password in dsns():
        yield "dsn", "json-log", json_log("connecting", dsn=dsn), password
        yield "dsn", "logfmt", logfmt(level="error", msg="pool failed", url=dsn), password
        yield "dsn", "traceback", traceback_text("cannot connect to %s" % dsn), password
        yield "dsn", "env", "DATABASE_URL=%s\n" % dsn, password
    for password in passwords():
        basic = base64.b64encode(("ann:%s" % password).encode()).decode()
        yield "authorization", "access-log", access_log("/admin", auth="Authorization: Basic " + basic), basic
        bearer = secrets.token_urlsafe(32)
        yield "authorization", "json-log", json_log("upstream call", headers={"Authorization": "Bearer " + bearer}), bearer
        yield "secret-pair", "json-log", json_log("user created", user="ann", password=password), password
        yield "secret-pair", "yaml", "database:\n  user: app\n  password: '%s'\n" % password.replace("'", "''"), password
        if " " not in password and "&" not in password and "#" not in password:
            token = secrets.token_hex(16)
            yield "secret-pair", "logfmt", "level=info msg=login user=ann password=%s" % password, password
            yield "secret-pair", "access-log", access_log("/login?user=ann&api_key=%s" % token), token
            yield "secret-pair", "env", "CLIENT_SECRET=%s\n" % password, password


def labelled():
    random.seed(SEED)
    for kind, fmt, text, secret in records():
        print(json.dumps({"kind": kind, "format": fmt, "text": text, "secret": secret}))


# ---------------------------------------------------------------------------- benign corpus


def benign(out):
    """Debian changelogs of this machine's packages and the Python standard library's source."""
    import glob
    import gzip
    import shutil
    import sysconfig

    changelogs = os.path.join(out, "changelogs")
    os.makedirs(changelogs, exist_ok=True)
    for path in sorted(glob.glob("/usr/share/doc/*/changelog*.gz")):
        name = path.split("/")[4] + "." + os.path.basename(path)[:-3]
        with gzip.open(path, "rb") as src, open(os.path.join(changelogs, name), "wb") as dst:
            shutil.copyfileobj(src, dst)
    stdlib = sysconfig.get_paths()["stdlib"]
    target = os.path.join(out, "python-stdlib")
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "dist-packages", "__pycache__"))
        for name in sorted(files):
            if name.endswith(".py"):
                src = os.path.join(root, name)
                dst = os.path.join(target, os.path.relpath(src, stdlib))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)


# ---------------------------------------------------------------------------- peers


def detect_secrets_scan(path):
    """detect-secrets' findings in one file: [(line, type, secret)]."""
    from detect_secrets.core.scan import scan_file
    found = []
    for secret in scan_file(path):
        found.append((secret.line_number, secret.type, secret.secret_value))
    return found


def credsweeper_scan(paths):
    """credsweeper's findings (ML validation on, its default): {path: [(line, rule, value)]}."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        listing = os.path.join(tmp, "paths.txt")
        subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "credsweeper"), "--path", *paths,
             "--save-json", report, "--jobs", "1"],
            check=True, capture_output=True)
        with open(report) as f:
            data = json.load(f)
    found = {}
    for item in data:
        for line in item.get("line_data_list", []):
            found.setdefault(os.path.realpath(line["path"]), []).append(
                (line["line_num"], item["rule"], line.get("value") or ""))
    return found


def peers(labelled_path, original_benign):
    from detect_secrets.settings import default_settings

    with open(labelled_path) as f:
        records = [json.loads(line) for line in f if line.strip()]
    result = {}
    with tempfile.TemporaryDirectory() as tmp, default_settings():
        files = []
        for i, record in enumerate(records):
            # Each record as a file of its format, so each peer reads it as it would in a tree.
            suffix = {"env": ".env", "yaml": ".yaml", "ini": ".ini", "pem-file": ".pem"}.get(record["format"], ".log")
            path = os.path.realpath(os.path.join(tmp, "record-%04d%s" % (i, suffix)))
            with open(path, "w") as out:
                out.write(record["text"])
            files.append(path)

        def caught(found_values, secret):
            # A finding covers the secret when its value overlaps it (a PEM's first body line,
            # a DSN's password, a JWT).
            return any(v and (v in secret or secret in v) for v in found_values)

        detect = [caught([v for _, _, v in detect_secrets_scan(p)], r["secret"]) for p, r in zip(files, records)]
        creds = credsweeper_scan(files)
        cred = [caught([v for _, _, v in creds.get(p, [])], r["secret"]) for p, r in zip(files, records)]
        result["labelled"] = len(records)
        result["detect-secrets"] = {"recall": sum(detect), "missed_kinds": sorted({r["kind"] for r, ok in zip(records, detect) if not ok})}
        result["credsweeper"] = {"recall": sum(cred), "missed_kinds": sorted({r["kind"] for r, ok in zip(records, cred) if not ok})}

    # credsweeper silently skips paths under a `target` directory (and paths holding `..`):
    # both peers read a copy of the benign corpus in a temporary directory.
    import shutil
    copy_root = tempfile.mkdtemp(prefix="palisade-benign-")
    benign_dir = os.path.join(copy_root, "benign")
    shutil.copytree(original_benign, benign_dir)
    benign_files = []
    for root, dirs, names in os.walk(benign_dir):
        dirs.sort()
        benign_files.extend(os.path.realpath(os.path.join(root, n)) for n in sorted(names))
    with default_settings():
        result["detect-secrets"]["benign_findings"] = sum(len(detect_secrets_scan(p)) for p in benign_files)
    creds = credsweeper_scan([benign_dir])
    result["credsweeper"]["benign_findings"] = sum(len(v) for v in creds.values())
    result["benign_files"] = len(benign_files)
    shutil.rmtree(copy_root)
    print(json.dumps(result))


def tree(root):
    """Both peers on a sample of a real tree (the venv's site-packages), copied first: credsweeper
    skips paths under a `target` directory."""
    import shutil
    from detect_secrets.settings import default_settings

    relative = [line.strip() for line in sys.stdin if line.strip()]
    copy_root = tempfile.mkdtemp(prefix="palisade-tree-")
    tree_dir = os.path.join(copy_root, "tree")
    copies = []
    for rel in relative:
        target = os.path.join(tree_dir, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(root, rel), target)
        copies.append(os.path.realpath(target))
    with default_settings():
        detect = sum(len(detect_secrets_scan(p)) for p in copies)
    creds = sum(len(v) for v in credsweeper_scan([tree_dir]).values())
    shutil.rmtree(copy_root)
    print(json.dumps({"files": len(copies), "detect-secrets": detect, "credsweeper": creds}))


def speed(path):
    import time
    from detect_secrets.settings import default_settings

    with default_settings():
        started = time.perf_counter()
        detect_secrets_scan(path)
        print(time.perf_counter() - started)


def pii():
    """E-mail addresses, phone numbers, IPv4 and IPv6 addresses and IBANs made by Faker (fixed
    seeds) in five locales, each in a log line and a JSON log record. A phone number written
    without its country code (`+`, or `001-` before a North American number), and not in the
    North American form with its separators, is "national": its digits alone do not tell it
    from an id."""
    from faker import Faker

    for locale in ("en_US", "en_GB", "de_DE", "fr_FR", "nl_NL"):
        fake = Faker(locale)
        fake.seed_instance(20261206)
        for _ in range(40):
            phone = fake.phone_number()
            north_american = locale == "en_US" and re.match(r"^(\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}", phone)
            # `001-...`: the North American number dialled with the international prefix.
            north_american = north_american or (locale == "en_US" and phone.startswith("001-"))
            national = not (phone.startswith("+") or north_american)
            values = [
                ("email", fake.email()),
                ("phone", phone),
                ("ipv4", fake.ipv4()),
                ("ipv6", fake.ipv6()),
                ("iban", fake.iban()),
            ]
            for kind, value in values:
                for text in (
                    "%s user signed in from %s" % (fake.iso8601(), value),
                    json_log("account updated", contact=value, level="info"),
                ):
                    print(json.dumps({"kind": kind, "national": kind == "phone" and national,
                                      "text": text, "value": value}))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "labelled":
        labelled()
    elif command == "pii":
        pii()
    elif command == "benign" and len(sys.argv) == 3:
        benign(sys.argv[2])
    elif command == "speed" and len(sys.argv) == 3:
        speed(sys.argv[2])
    elif command == "tree" and len(sys.argv) == 3:
        tree(sys.argv[2])
    elif command == "peers" and len(sys.argv) == 4:
        peers(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
