"""Known-answer hashes from the real libraries, for palisade-password's tests and benchmarks.

Run with the project venv's Python (target/venv, from `cargo xtask services up`):

    hashes.py make             JSON list of {"scheme", "password", "hash"} on stdout
    hashes.py verify           reads [{"password", "hash"}] on stdin, prints
                               [{"passlib": bool, "argon2_cffi": bool}]
    hashes.py bench RUNS       median seconds of the Python peers, as JSON

Every hash is made here, by passlib, Django, argon2-cffi, bcrypt or Apache's htpasswd, at the
lowest costs they accept so the tests stay quick; nothing is copied from anywhere.
"""

import base64
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

import argon2
import bcrypt
from passlib import hash as passlib_hash

PASSWORDS = [
    "correct horse battery staple",
    "pässwörd-🔑-ünïcödé",
    # 80 bytes: past bcrypt's 72-byte limit.
    "L" * 40 + "long-password-past-the-bcrypt-limit-...!",
]


def django_hashers():
    from django.conf import settings

    settings.configure(PASSWORD_HASHERS=[])
    from django.contrib.auth import hashers

    class Pbkdf2(hashers.PBKDF2PasswordHasher):
        iterations = 1000

    class Argon2(hashers.Argon2PasswordHasher):
        time_cost = 2
        memory_cost = 1024
        parallelism = 1

    class BcryptSha256(hashers.BCryptSHA256PasswordHasher):
        rounds = 4

    class Scrypt(hashers.ScryptPasswordHasher):
        work_factor = 2**4

    return {
        "django-pbkdf2-sha256": Pbkdf2(),
        "django-argon2": Argon2(),
        "django-bcrypt-sha256": BcryptSha256(),
        "django-scrypt": Scrypt(),
    }


def b64(data):
    return base64.b64encode(data).decode().rstrip("=")


def phc_pbkdf2(name, digest, password, iterations=1000):
    """PHC form as RustCrypto's pbkdf2 writes it; the digest is hashlib's."""
    salt = os.urandom(16)
    out = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    return f"${name}$i={iterations},l={len(out)}${b64(salt)}${b64(out)}"


def argon2_cffi(kind, password):
    hasher = argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1, type=kind)
    return hasher.hash(password)


def htpasswd(password):
    out = subprocess.run(
        ["htpasswd", "-niB", "-C", "4", "user"],
        input=password.encode(),
        capture_output=True,
        check=True,
    )
    return out.stdout.decode().strip().split(":", 1)[1]


def make():
    django = django_hashers()
    makers = {
        "passlib-argon2id": lambda p: passlib_hash.argon2.using(
            type="ID", rounds=2, memory_cost=1024, parallelism=1
        ).hash(p),
        "argon2-cffi-argon2id": lambda p: argon2_cffi(argon2.Type.ID, p),
        "argon2-cffi-argon2i": lambda p: argon2_cffi(argon2.Type.I, p),
        "argon2-cffi-argon2d": lambda p: argon2_cffi(argon2.Type.D, p),
        "passlib-bcrypt-2b": lambda p: passlib_hash.bcrypt.using(rounds=4, ident="2b").hash(p),
        "passlib-bcrypt-2a": lambda p: passlib_hash.bcrypt.using(rounds=4, ident="2a").hash(p),
        "passlib-bcrypt-2y": lambda p: passlib_hash.bcrypt.using(rounds=4, ident="2y").hash(p),
        "bcrypt-2b": lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode(),
        "htpasswd-2y": htpasswd,
        "passlib-bcrypt-sha256-v2": lambda p: passlib_hash.bcrypt_sha256.using(rounds=4).hash(p),
        "passlib-bcrypt-sha256-v1": lambda p: passlib_hash.bcrypt_sha256.using(
            rounds=4, version=1
        ).hash(p),
        "passlib-pbkdf2-sha256": lambda p: passlib_hash.pbkdf2_sha256.using(rounds=1000).hash(p),
        "passlib-pbkdf2-sha512": lambda p: passlib_hash.pbkdf2_sha512.using(rounds=1000).hash(p),
        "phc-pbkdf2-sha256": lambda p: phc_pbkdf2("pbkdf2-sha256", "sha256", p),
        "phc-pbkdf2-sha512": lambda p: phc_pbkdf2("pbkdf2-sha512", "sha512", p),
        "passlib-scrypt": lambda p: passlib_hash.scrypt.using(rounds=4).hash(p),
    }
    for scheme, hasher in django.items():
        makers[scheme] = lambda p, h=hasher: h.encode(p, h.salt())
    vectors = [
        {"scheme": scheme, "password": password, "hash": make(password)}
        for scheme, make in makers.items()
        for password in PASSWORDS
    ]
    json.dump(vectors, sys.stdout, ensure_ascii=False, indent=1)


def verify():
    results = []
    for item in json.load(sys.stdin):
        password, stored = item["password"], item["hash"]
        try:
            cffi = argon2.PasswordHasher().verify(stored, password)
        except argon2.exceptions.VerificationError:
            cffi = False
        results.append(
            {"passlib": passlib_hash.argon2.verify(password, stored), "argon2_cffi": cffi}
        )
    json.dump(results, sys.stdout)


def median_seconds(runs, call):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(runs):
    password = PASSWORDS[0]
    cffi = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
    argon2_hash = cffi.hash(password)
    bcrypt_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(12))
    salt = os.urandom(16)
    json.dump(
        {
            "argon2_cffi_hash": median_seconds(runs, lambda: cffi.hash(password)),
            "argon2_cffi_verify": median_seconds(runs, lambda: cffi.verify(argon2_hash, password)),
            "bcrypt_12_verify": median_seconds(
                runs, lambda: bcrypt.checkpw(password.encode(), bcrypt_hash)
            ),
            "bcrypt_12_hash": bcrypt_hash.decode(),
            "pbkdf2_sha256_600000": median_seconds(
                runs, lambda: hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)
            ),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "make":
        make()
    elif command == "verify":
        verify()
    elif command == "bench":
        bench(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
