"""Writes tests/vectors/format-v1.json: known-answer ciphertexts of palisade-crypt's format,
made by an independent implementation (this script, on Python `cryptography`'s AESGCM and
AESGCMSIV) from the byte layout documented in src/format.rs and src/context.rs.

Run from the crate directory with the project venv:
    ../../target/venv/bin/python tests/python/make_vectors.py > tests/vectors/format-v1.json
Deterministic: every key, nonce and id below is fixed.
"""
import json
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESGCMSIV


def context_bytes(pairs):
    out = b"PCX1" + struct.pack(">H", len(pairs))
    for name, value in sorted(pairs.items()):
        n, v = name.encode(), value.encode()
        out += bytes([len(n)]) + n + struct.pack(">H", len(v)) + v
    return out


ALGORITHMS = {1: ("A256GCM", AESGCM), 2: ("A256GCM-SIV", AESGCMSIV)}


def vector(kek, kek_version, key_name, scope, data_key_id, algorithm, data_key, wrap_nonce,
           nonce, context, plaintext, comment):
    name, aead = ALGORITHMS[algorithm]
    wrap_context = {
        "palisade:key-name": key_name,
        "palisade:data-key": data_key_id.hex(),
        "palisade:scope": scope,
        "palisade:algorithm": name,
    }
    wrap_aad = b"palisade-crypt local wrap v1" + context_bytes(wrap_context)
    wrapped = wrap_nonce + AESGCM(kek).encrypt(wrap_nonce, data_key, wrap_aad)
    header = (bytes([1, algorithm, len(key_name)]) + key_name.encode()
              + struct.pack(">I", kek_version) + data_key_id + nonce)
    body = aead(data_key).encrypt(nonce, plaintext, header + context_bytes(context))
    import base64
    text = base64.urlsafe_b64encode(header + body).rstrip(b"=").decode()
    return {
        "comment": comment,
        "kek": kek.hex(),
        "kek_version": kek_version,
        "key_name": key_name,
        "scope": scope,
        "data_key_id": data_key_id.hex(),
        "algorithm": name,
        "data_key": data_key.hex(),
        "wrapped_key": wrapped.hex(),
        "nonce": nonce.hex(),
        "context": context,
        "plaintext": plaintext.hex(),
        "ciphertext": text,
    }


vectors = [
    vector(bytes(range(32)), 1, "pii", "user:42", bytes([0xA0 + i % 16 for i in range(16)]), 1,
           bytes([0x11] * 32), bytes([0x22] * 12), bytes([0x33] * 12),
           {"tenant": "acme", "table": "patients", "field": "ssn", "id": "7"},
           b"078-05-1120", "AES-256-GCM, a text field bound to tenant, table, field and row"),
    vector(bytes(range(32, 64)), 7, "billing.v2", "tenant:acme", bytes(range(16)), 2,
           bytes([0x44] * 32), bytes([0x55] * 12), bytes([0x66] * 12),
           {"collection": "invoices", "field": "iban", "id": "65f0c0ffee0000000000abcd"},
           "DE89 3704 0044 0532 0130 00 · ünïcödé".encode(), "AES-256-GCM-SIV, key version 7, UTF-8"),
    vector(bytes([0xFF] * 32), 4294967295, "k", "s", bytes([0] * 16), 1,
           bytes([0] * 32), bytes([0] * 12), bytes([0] * 12), {}, b"",
           "empty plaintext, empty context, largest key version"),
]
json.dump({"format": 1, "vectors": vectors}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
