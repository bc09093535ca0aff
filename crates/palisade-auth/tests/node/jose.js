// jose (npm, panva) as external truth for palisade-auth's tokens (tests/interop.rs).
//
// Usage: node jose.js NODE_MODULES_DIR < request.json
// The request is {"sign": [{alg, kid, key, claims}], "verify": [{token, alg, key, aud, iss}]}
// with PEM keys (PKCS#8 private for signing, SPKI public for verifying) or HMAC secrets; prints
// {"signed": [token...], "verified": [{"ok": claims} | {"error": code}...]}.
'use strict';

const path = require('path');
const jose = require(path.resolve(process.argv[2], 'jose'));

async function key(alg, text, forSigning) {
  if (alg.startsWith('HS')) return new TextEncoder().encode(text);
  return forSigning ? jose.importPKCS8(text, alg) : jose.importSPKI(text, alg);
}

async function main() {
  const request = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const signed = [];
  for (const item of request.sign || []) {
    signed.push(
      await new jose.SignJWT(item.claims)
        .setProtectedHeader({ alg: item.alg, kid: item.kid })
        .sign(await key(item.alg, item.key, true)),
    );
  }
  const verified = [];
  for (const item of request.verify || []) {
    try {
      const { payload } = await jose.jwtVerify(item.token, await key(item.alg, item.key, false), {
        algorithms: [item.alg],
        audience: item.aud,
        issuer: item.iss,
        requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'],
      });
      verified.push({ ok: payload });
    } catch (error) {
      verified.push({ error: error.code || error.name });
    }
  }
  process.stdout.write(JSON.stringify({ signed, verified }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
