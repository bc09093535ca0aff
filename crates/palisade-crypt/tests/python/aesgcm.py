"""Cross-checks palisade-crypt's raw AEAD layer with Python `cryptography` (pinned in
xtask/python/crypt.txt). Reads JSON cases from stdin, each {algorithm, key, nonce, aad,
plaintext, sealed} in hex, where `sealed` is palisade-crypt's output: checks that
`cryptography` opens it to the plaintext, then seals the same plaintext under a nonce of its
own and prints those ({nonce, sealed}) for palisade-crypt to open.
"""
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESGCMSIV

AEADS = {"A256GCM": AESGCM, "A256GCM-SIV": AESGCMSIV}
out = []
for i, case in enumerate(json.load(sys.stdin)):
    aead = AEADS[case["algorithm"]](bytes.fromhex(case["key"]))
    aad = bytes.fromhex(case["aad"])
    plaintext = bytes.fromhex(case["plaintext"])
    opened = aead.decrypt(bytes.fromhex(case["nonce"]), bytes.fromhex(case["sealed"]), aad)
    if opened != plaintext:
        sys.exit(f"case {i}: cryptography opened other bytes")
    nonce = os.urandom(12)
    out.append({"nonce": nonce.hex(), "sealed": aead.encrypt(nonce, plaintext, aad).hex()})
json.dump(out, sys.stdout)
