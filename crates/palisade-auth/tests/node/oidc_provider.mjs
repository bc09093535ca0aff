// A real OpenID provider for tests/oidc.rs: panva's oidc-provider (pinned in xtask/node),
// on a loopback port, with one confidential client `crud`, PKCE required, JWT access tokens
// for the resource `api://crud`, and interactions completed at once for the user named in
// `login_hint` (the authorization-code flow itself is the provider's).
//
// Usage: node oidc_provider.mjs NODE_MODULES_DIR [REDIRECT_URI]
// (the client's one redirect URI; default http://127.0.0.1:9/callback, which nothing serves)
// Prints {"issuer": URL} when listening; then reads commands on stdin, one per line,
// answering one line each: `rotate` (a new signing key signs, the old one stays published),
// `retire` (only the newest key is published).
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

// stdout is the line protocol with the test: the provider's notices go to stderr.
for (const level of ['log', 'info', 'warn', 'debug']) {
  console[level] = (...args) => process.stderr.write(`${args.join(' ')}\n`);
}

const modules = process.argv[2];
const load = (name, file) => import(pathToFileURL(path.join(modules, name, file)).href);
const { default: Provider } = await load('oidc-provider', 'lib/index.js');
const jose = await load('jose', 'dist/webapi/index.js');

export const CLIENT = { id: 'crud', secret: 'a-test-client-secret-of-more-than-32-bytes' };
const REDIRECT = process.argv[3] || 'http://127.0.0.1:9/callback';

let generation = 0;
async function signingKeys() {
  generation += 1;
  const make = async (alg, crv) => {
    const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, crv });
    return { ...(await jose.exportJWK(privateKey)), kid: `${alg.toLowerCase()}-${generation}`, alg, use: 'sig' };
  };
  return [await make('RS256'), await make('ES256')];
}

function provider(issuer, keys) {
  const oidc = new Provider(issuer, {
    clients: [{
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks: { keys },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'api://crud',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'api:read',
          audience: 'api://crud',
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    // The email scope's claims go into the ID token too (as many providers do), so a client
    // needs no userinfo call.
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    conformIdTokenClaims: false,
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true }),
    }),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['a-cookie-signing-key-for-tests-only'] },
  });
  // Login and consent done at once: the user is the request's login_hint.
  oidc.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/interaction/')) return next();
    const details = await oidc.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: String(params.login_hint || 'anonymous') } };
    } else {
      const grant = new oidc.Grant({ accountId: session.accountId, clientId: params.client_id });
      grant.addOIDCScope('openid email');
      grant.addResourceScope('api://crud', 'api:read');
      result = { consent: { grantId: await grant.save() } };
    }
    await oidc.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  });
  return oidc;
}

let current;
let published;
const server = http.createServer((req, res) => current.callback()(req, res));
server.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  published = await signingKeys();
  current = provider(issuer, published);
  process.stdout.write(`${JSON.stringify({ issuer, client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uri: REDIRECT })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'rotate') {
      published = [...(await signingKeys()), ...published];
    } else if (line === 'retire') {
      published = published.slice(0, 2);
    }
    current = provider(issuer, published);
    process.stdout.write(`${JSON.stringify({ kids: published.map((key) => key.kid) })}\n`);
  }
});
