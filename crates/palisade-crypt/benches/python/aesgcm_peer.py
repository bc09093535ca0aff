"""The peer of benches/crypt.rs: Python `cryptography`'s AESGCM (pinned in
xtask/python/crypt.txt) encrypting then decrypting SIZE bytes with a fresh random nonce
(os.urandom) per value and the same associated data, as a Python back end would.

Usage: python aesgcm_peer.py KEY_HEX AAD_HEX SIZE SECONDS -> {"ns_per_pair": N}
"""
import json
import os
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

key, aad, size, seconds = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
aead = AESGCM(key)
plaintext = os.urandom(size)
samples = []
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    n = 2000
    start = time.perf_counter_ns()
    for _ in range(n):
        nonce = os.urandom(12)
        sealed = aead.encrypt(nonce, plaintext, aad)
        assert aead.decrypt(nonce, sealed, aad) is not None
    samples.append((time.perf_counter_ns() - start) / n)
samples.sort()
json.dump({"ns_per_pair": samples[len(samples) // 2]}, sys.stdout)
