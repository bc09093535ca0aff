"""External truth for palisade-sql (issue #6), all from pinned PyPI packages.

    corpus.py sqlmap      sqlmap's payload tests rendered with its boundaries into statement
                          templates, one JSON object per line, with libinjection's verdicts
    corpus.py benign      benign SQL nobody here wrote, one JSON object per line: the PostgreSQL
                          regression suite from the pglast sdist, sqlglot's identity.sql, and
                          the statements SQLAlchemy and Django compile for a sample schema
    corpus.py fingerprint-speed FILE
                          nanoseconds pglast.fingerprint takes per statement of FILE (one per line)

sqlmap (GPL) and libinjection-python are installed in the project venv from
`xtask/python/sql.txt`; the pglast and sqlglot sdists are fetched into `target/sql-corpus/` at
test time. Nothing of them is kept in the repository.
"""

import json
import os
import random
import re
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET

PGLAST_SDIST = "pglast==8.8"
SQLGLOT_SDIST = "sqlglot==30.31.0"

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(HERE, "..", "..", "..", "..", "target")
CACHE = os.path.join(os.path.abspath(TARGET), "sql-corpus")


def emit(record):
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------------------------
# sqlmap


def expand(numbers):
    """sqlmap's `1,2,3` and `1-8` lists; `0` means every clause."""
    out = set()
    for part in (numbers or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-")
            out.update(range(int(lo), int(hi) + 1))
        else:
            out.add(int(part))
    return out


ALL_CLAUSES = set(range(1, 10))

# Where the injected value sits, by sqlmap's clause number, with the original value a user
# would send there. `{v}` is the value as the template quotes it (by the boundary's ptype).
CLAUSE_TEMPLATES = {
    1: ("SELECT id, name FROM users WHERE id = {v}", "1"),
    2: ("SELECT name, count(*) FROM users GROUP BY {v}", "name"),
    3: ("SELECT id, name FROM users ORDER BY {v}", "name"),
    4: ("SELECT id, name FROM users LIMIT {v}", "10"),
    5: ("SELECT id, name FROM users LIMIT 10 OFFSET {v}", "0"),
    6: ("SELECT TOP {v} id, name FROM users", "10"),
    7: ("SELECT id, name FROM {v}", "users"),
    8: ("SELECT id, {v} FROM users", "name"),
    9: ("UPDATE users SET name = {v} WHERE id = 1", "1"),
}

# How each ptype quotes the value in the WHERE template (the LIKE ones search by name).
WHERE_BY_PTYPE = {
    1: ("SELECT id, name FROM users WHERE id = {v}", "1"),
    2: ("SELECT id, name FROM users WHERE name = '{v}'", "alice"),
    3: ("SELECT id, name FROM users WHERE name LIKE '%{v}%'", "ali"),
    4: ('SELECT id, name FROM users WHERE name = "{v}"', "alice"),
    5: ('SELECT id, name FROM users WHERE name LIKE "%{v}%"', "ali"),
    6: ("SELECT id, name FROM users WHERE {v} IS NOT NULL", "email"),
    7: ("SELECT id, name FROM users WHERE id = /*{v}*/ 1", "x"),
    8: ("SELECT id, name FROM users WHERE name = $${v}$$", "alice"),
}

QUOTES = {1: "{v}", 2: "'{v}'", 3: "'%{v}%'", 4: '"{v}"', 5: '"%{v}%"', 6: "{v}", 7: "/*{v}*/", 8: "$${v}$$"}


# ptype 8's prefix says which alternative quoting it closes: PostgreSQL's `$$`, or one of
# Oracle's q-quotes (`q'[...]'`), which none of the guard's dialects has.
Q_QUOTES = {"]'": "q'[{v}]'", "}'": "q'{{v}}'", ")'": "q'({v})'", ">'": "q'<{v}>'"}


def template(clause, ptype, prefix):
    if ptype == 8 and prefix in Q_QUOTES:
        text, original = CLAUSE_TEMPLATES[clause] if clause != 1 else WHERE_BY_PTYPE[1]
        return text.replace("{v}", Q_QUOTES[prefix]), "alice"
    if clause == 1:
        return WHERE_BY_PTYPE[ptype]
    text, original = CLAUSE_TEMPLATES[clause]
    slot = QUOTES[ptype]
    return text.replace("{v}", slot), original


class Filler:
    """Fills sqlmap's placeholders the way sqlmap does: random numbers and strings, a five
    second sleep, its delimiters."""

    def __init__(self, seed):
        self.random = random.Random(seed)

    def randnum(self):
        return str(self.random.randint(1000, 9999))

    def randstr(self):
        return "".join(self.random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4))

    def fill(self, text, original):
        values = {
            "[SLEEPTIME]": "5",
            "[DELAYED]": "5",
            "[DELIMITER_START]": "0x71766a7671",
            "[DELIMITER_STOP]": "0x7178627671",
            "[GENERIC_SQL_COMMENT]": "-- " + self.randstr(),
            "[ORIGVALUE]": original,
            "[ORIGINAL]": original,
            "[QUERY]": "SELECT 1",
            "[INFERENCE]": self.randnum() + "=" + self.randnum(),
            "[SPACE_REPLACE]": " ",
            "[DOLLAR_REPLACE]": "$",
            "[HASH_REPLACE]": "#",
            "[AT_REPLACE]": "@",
        }
        for key, value in values.items():
            text = text.replace(key, value)
        # Same-named placeholders take one value per test, as sqlmap's do.
        for name, make in (("RANDNUM", self.randnum), ("RANDSTR", self.randstr)):
            for key in sorted(set(re.findall(r"\[" + name + r"\d*\]", text))):
                text = text.replace(key, make())
        return text


def union_payload(request, dbms, filler):
    """sqlmap's UNION test: as many columns as the template selects (2) when the range
    allows, each the test's character, plus the FROM that the DBMS needs."""
    char = request.findtext("char") or "NULL"
    char = filler.fill(char.replace("[CHAR]", "NULL"), "")
    columns = request.findtext("columns") or "1-10"
    columns = columns.replace("[COLSTART]", "1").replace("[COLSTOP]", "10")
    lo, _, hi = columns.partition("-")
    count = 2 if int(lo) <= 2 <= int(hi or lo) else int(lo)
    select = "UNION ALL SELECT " + ",".join([char] * count)
    if dbms in ("Oracle",):
        select += " FROM DUAL"
    return select


def sqlmap_records():
    import libinjection
    import sqlmap

    xml_dir = os.path.join(os.path.dirname(sqlmap.__file__), "data", "xml")
    boundaries = ET.parse(os.path.join(xml_dir, "boundaries.xml")).getroot().findall("boundary")
    assert len(boundaries) == 53, len(boundaries)  # the 55 `<boundary>` a grep finds include 2 in the format comment
    filler = Filler(6)
    tests = 0
    for name in sorted(os.listdir(os.path.join(xml_dir, "payloads"))):
        root = ET.parse(os.path.join(xml_dir, "payloads", name)).getroot()
        for test in root.findall("test"):
            tests += 1
            title = test.findtext("title")
            test_clauses = expand(test.findtext("clause")) or {1}
            test_where = expand(test.findtext("where"))
            request = test.find("request")
            dbms = test.findtext("details/dbms") or ""
            comment = request.findtext("comment")
            payload = request.findtext("payload") or ""
            for b, boundary in enumerate(boundaries):
                b_clauses = expand(boundary.findtext("clause"))
                clauses = (ALL_CLAUSES if 0 in test_clauses else test_clauses) & (
                    ALL_CLAUSES if 0 in b_clauses else b_clauses
                )
                wheres = test_where & expand(boundary.findtext("where"))
                ptype = int(boundary.findtext("ptype"))
                for clause in sorted(clauses):
                    for where in sorted(wheres):
                        tmpl, original = template(clause, ptype, boundary.findtext("prefix") or "")
                        body = union_payload(request, dbms, filler) if name == "union_query.xml" else payload
                        body = filler.fill(body, original)
                        prefix = filler.fill(boundary.findtext("prefix") or "", original)
                        suffix = filler.fill(boundary.findtext("suffix") or "", original)
                        # agent.prefixQuery / suffixQuery: the prefix, a space unless the
                        # payload stacks or the prefix opens a bracket, the payload, then the
                        # comment or the suffix (neither when the value is replaced).
                        if where == 3:
                            value = body
                        else:
                            glue = "" if body.startswith(";") or prefix.endswith("(") or test_clauses in ({2, 3}, {2}, {3}) else " "
                            value = prefix + glue + body
                            if comment is not None:
                                value += filler.fill(comment, original)
                            elif suffix:
                                if re.search(r"\w\Z", value) and re.search(r"\A\w", suffix):
                                    value += " "
                                value += suffix
                        value = re.sub(r";\W*;", ";", value)
                        if where == 1:
                            value = original + value
                        elif where == 2:
                            value = "-" + filler.randnum() + value
                        sql = tmpl.replace("{v}", value)
                        emit(
                            {
                                "file": name,
                                "title": title,
                                "dbms": dbms,
                                "boundary": b,
                                "clause": clause,
                                "where": where,
                                "ptype": ptype,
                                "template": tmpl.replace("{v}", original),
                                "sql": sql,
                                "libinjection_value": bool(libinjection.is_sql_injection(value)["is_sqli"]),
                                "libinjection_sql": bool(libinjection.is_sql_injection(sql)["is_sqli"]),
                            }
                        )
    assert tests == 365, tests  # the 367 `<test>` a grep finds include 2 in the format comments


# ----------------------------------------------------------------------------------------------
# benign SQL


def sdist(requirement):
    """The sdist of `requirement`, downloaded once into target/sql-corpus."""
    os.makedirs(CACHE, exist_ok=True)
    name, version = requirement.split("==")

    def cached():
        for entry in os.listdir(CACHE):
            if entry.lower().startswith(f"{name}-{version}".lower()) and entry.endswith(".tar.gz"):
                return os.path.join(CACHE, entry)
        return None

    if cached() is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
             "--no-binary", ":all:", "-d", CACHE, requirement],
            check=True,
            stdout=sys.stderr,
        )
    found = cached()
    if found is None:
        raise SystemExit(f"pip downloaded no {name}-{version}*.tar.gz into {CACHE}")
    return found


def members(archive, pattern):
    with tarfile.open(archive) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            if member.isfile() and re.search(pattern, member.name):
                yield member.name, tar.extractfile(member).read().decode("utf-8", "replace")


def pg_regress():
    """Every statement of the PostgreSQL regression suite in libpg_query's copy, split by
    libpg_query's own scanner; psql meta-commands (lines starting with a backslash) and the
    COPY data that follows `FROM stdin` are left out, as psql consumes them."""
    import pglast

    files = 0
    for path, text in members(sdist(PGLAST_SDIST), r"libpg_query/test/sql/postgres_regress/[^/]+\.sql$"):
        files += 1
        lines, in_copy = [], False
        for line in text.splitlines():
            if in_copy:
                in_copy = line.strip() != "\\."
                lines.append("")
                continue
            if line.lstrip().startswith("\\"):
                lines.append("")
                continue
            lines.append(line)
            if re.search(r"\bfrom\s+stdin\b", line, re.I):
                in_copy = True
        sql = "\n".join(lines)
        try:
            statements = pglast.split(sql, with_parser=False)
        except Exception:  # noqa: BLE001 - the scanner refuses a token somewhere in the file
            # Fall back to the suite's own layout: a statement ends with `;` at a line's end.
            statements = re.split(r";[ \t]*(?:--[^\n]*)?\n", sql)
        for statement in statements:
            statement = without_comments(statement).strip()
            if statement:
                emit({"source": "pg-regress", "dialect": "postgres", "sql": statement, "params": None})
    assert files == 233, files


def without_comments(statement):
    """The statement with its comments blanked out, as libpg_query's scanner finds them: the
    guard refuses comments by policy, and the benign figures are about what the statements do."""
    from pglast.parser import scan

    try:
        tokens = scan(statement)
    except Exception:  # noqa: BLE001 - the guard will report it as unparsable
        return statement
    chars = list(statement)
    for token in tokens:
        if token.name in ("SQL_COMMENT", "C_COMMENT"):
            for i in range(token.start, token.end + 1):
                chars[i] = " "
    return "".join(chars)


def sqlglot_identity():
    """sqlglot's identity fixtures: one statement per line, written to survive a round trip."""
    found = False
    for _, text in members(sdist(SQLGLOT_SDIST), r"tests/fixtures/identity\.sql$"):
        found = True
        for line in text.splitlines():
            if line.strip():
                emit({"source": "sqlglot-identity", "dialect": "generic", "sql": line.strip(), "params": None})
    assert found


def sqlalchemy_statements():
    """What SQLAlchemy 2 compiles for a sample schema, PostgreSQL and MySQL, named parameters."""
    from sqlalchemy import (Column, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Table,
                            and_, delete, exists, func, insert, or_, select, update)
    from sqlalchemy.dialects import mysql, postgresql

    md = MetaData()
    users = Table("users", md, Column("id", Integer, primary_key=True), Column("name", String(50)),
                  Column("email", String(100)), Column("org_id", Integer), Column("created_at", DateTime))
    orders = Table("orders", md, Column("id", Integer, primary_key=True),
                   Column("user_id", Integer, ForeignKey("users.id")), Column("total", Numeric(10, 2)),
                   Column("status", String(20)))
    queries = [
        select(users).where(users.c.id == 5),
        select(users.c.name, users.c.email).where(users.c.email.like("%@example.com")).order_by(users.c.name).limit(10).offset(20),
        select(users).where(users.c.id.in_([1, 2, 3])),
        select(users).where(or_(users.c.name == "a", users.c.email == "b")),
        select(users).where(and_(users.c.org_id == 7, users.c.created_at > func.now())),
        select(func.count()).select_from(users).where(users.c.org_id == 3),
        select(users.c.id, func.sum(orders.c.total)).join(orders, orders.c.user_id == users.c.id).group_by(users.c.id).having(func.sum(orders.c.total) > 100),
        select(users).where(exists(select(orders.c.id).where(orders.c.user_id == users.c.id))),
        select(users).where(users.c.id == select(orders.c.user_id).where(orders.c.id == 9).scalar_subquery()),
        select(orders).where(orders.c.status.is_(None)),
        select(orders).where(orders.c.status.is_not(None)).order_by(orders.c.total.desc()),
        select(users.c.name).distinct(),
        select(users).where(users.c.name.ilike("%bob%")),
        select(users).where(users.c.id.between(1, 9)),
        select(users).where(users.c.name.startswith("x")),
        insert(users).values(name="n", email="e"),
        update(users).where(users.c.id == 3).values(name="m"),
        delete(orders).where(orders.c.status == "void"),
        select(users).with_for_update().where(users.c.id == 1),
        select(users).where(users.c.id.not_in([4, 5])),
    ]
    for dialect, name in ((postgresql.dialect(paramstyle="named"), "postgres"),
                          (mysql.dialect(paramstyle="named"), "mysql")):
        for q in queries:
            compiled = q.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            emit({"source": "sqlalchemy", "dialect": name, "sql": str(compiled), "params": sorted(compiled.params)})


def django_statements():
    """What Django's ORM compiles for a sample schema (SQLite backend, `?` placeholders)."""
    import django
    from django.conf import settings

    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        USE_TZ=True,
    )
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.db.models import Count, Q

    querysets = [
        User.objects.filter(pk=5),
        User.objects.filter(username__iexact="bob"),
        User.objects.filter(email__endswith="@example.com").order_by("-date_joined")[10:20],
        User.objects.filter(Q(is_staff=True) | Q(is_superuser=True)),
        User.objects.filter(pk__in=[1, 2, 3]),
        User.objects.exclude(last_login__isnull=True),
        User.objects.filter(groups__name="admins").distinct(),
        Group.objects.annotate(n=Count("user")).filter(n__gt=2),
        User.objects.filter(username__contains="a", is_active=True).values("id", "username"),
        User.objects.filter(date_joined__year=2024),
        User.objects.all()[:5],
        User.objects.filter(first_name__startswith="J")[:1],
        Group.objects.filter(user__isnull=False, name__in=["a", "b"]),
    ]
    for qs in querysets:
        sql, params = qs.query.sql_with_params()
        sql = sql.replace("%s", "?")  # Django's SQLite backend runs `%s` as `?`
        emit({"source": "django", "dialect": "sqlite", "sql": sql, "params": len(params)})
    connection.close()


def benign():
    pg_regress()
    sqlglot_identity()
    sqlalchemy_statements()
    django_statements()


# ----------------------------------------------------------------------------------------------
# the fingerprint peer


def fingerprint_speed(path):
    import pglast

    with open(path, encoding="utf-8") as f:
        statements = [line.rstrip("\n") for line in f if line.strip()]
    for s in statements:  # warm up, and fail on one pglast cannot fingerprint
        pglast.fingerprint(s)
    best = None
    for _ in range(5):
        rounds = 0
        started = time.perf_counter_ns()
        while True:
            for s in statements:
                pglast.fingerprint(s)
            rounds += 1
            elapsed = time.perf_counter_ns() - started
            if elapsed > 200_000_000:
                break
        per = elapsed / (rounds * len(statements))
        best = per if best is None else min(best, per)
    print(json.dumps({"ns_per_statement": best}))


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "sqlmap":
        sqlmap_records()
    elif command == "benign":
        benign()
    elif command == "fingerprint-speed" and len(sys.argv) == 3:
        fingerprint_speed(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
