"""PyJWT as external truth for palisade-auth's tokens (tests/interop.rs).

Reads one JSON request on stdin:
  {"sign": [{"alg", "kid", "key", "claims"}...], "verify": [{"token", "alg", "key", "aud", "iss"}...]}
where `key` is a PEM private key (ES256, EdDSA) or an HMAC secret for signing and a PEM public
key or the secret for verifying. Prints {"signed": [token...], "verified": [claims or error...]}.
"""
import json
import sys

import jwt

request = json.load(sys.stdin)
signed = [
    jwt.encode(item["claims"], item["key"], algorithm=item["alg"], headers={"kid": item["kid"]})
    for item in request.get("sign", [])
]
verified = []
for item in request.get("verify", []):
    try:
        claims = jwt.decode(
            item["token"],
            item["key"],
            algorithms=[item["alg"]],
            audience=item.get("aud"),
            issuer=item.get("iss"),
            options={"require": ["exp", "iat", "nbf", "sub", "jti"]},
        )
        verified.append({"ok": claims})
    except jwt.PyJWTError as error:
        verified.append({"error": type(error).__name__})
print(json.dumps({"signed": signed, "verified": verified}))
