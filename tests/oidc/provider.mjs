// Test-only OpenID Provider for the integration tests: a real oidc-provider (panva)
// with an in-memory store, our own login page (sets amr) and a /__control API so each
// test can register its own client and accounts, make the ID token misbehave (wrong
// aud / expired / wrong nonce, still signed by the provider's key) and rotate the key.
// Protocol: see tests/oidc/README.md. Never use outside tests.
import { createRequire } from 'node:module';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

// oidc-provider prints notices with console.info; stdout carries only the issuer line.
console.log = console.info = (...args) => console.error(...args);

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules = process.env.OIDC_NODE_MODULES || path.resolve(here, '../../target/npm/node_modules');
const require = createRequire(path.join(nodeModules, 'noop.js'));
let main; // <node_modules>/oidc-provider/lib/index.js
try { main = require.resolve('oidc-provider'); } catch {
  console.error(`oidc-provider not found in ${nodeModules}; install it with: npm install --no-save `
    + `--prefix <repo>/target/npm "$(cat tests/oidc/VERSION)" (or set OIDC_NODE_MODULES)`);
  process.exit(2);
}
const { default: Provider } = await import(pathToFileURL(main).href);
// Internal per-provider state (keystore, published JWKS); used only by rotate-key.
const { default: internals } = await import(pathToFileURL(path.join(path.dirname(main), 'helpers/weak_cache.js')).href);

const epoch = () => Math.floor(Date.now() / 1000);

// Plain Map storage, no eviction (the bundled MemoryAdapter is an LRU capped at 1000 entries).
const stores = new Map();
class MapAdapter {
  constructor(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    this.m = stores.get(name);
  }
  async upsert(id, payload, expiresIn) {
    this.m.set(id, { payload, exp: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
  }
  async find(id) {
    const e = this.m.get(id);
    if (e && e.exp < Date.now()) this.m.delete(id);
    return e && e.exp >= Date.now() ? e.payload : undefined;
  }
  async findByUid(uid) { return this.findBy((p) => p.uid === uid); }
  async findByUserCode(code) { return this.findBy((p) => p.userCode === code); }
  async findBy(pred) {
    for (const [id, e] of this.m) if (pred(e.payload)) return this.find(id);
    return undefined;
  }
  async consume(id) { const e = this.m.get(id); if (e) e.payload.consumed = epoch(); }
  async destroy(id) { this.m.delete(id); }
  async revokeByGrantId(grantId) {
    for (const s of stores.values()) for (const [id, e] of s) if (e.payload.grantId === grantId) s.delete(id);
  }
}

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

const accounts = new Map(); // sub -> { claims, amr, id_token }

// Bind the port first: the issuer must contain it before the Provider is built.
let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = createServer((req, res) => handler(req, res));
await new Promise((ok) => server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', ok));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  jwks: { keys: [newSigningKey()] },
  cookies: { keys: ['orgs-oidc-test-cookie-key-1', 'orgs-oidc-test-cookie-key-2'] },
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  responseTypes: ['code'],
  pkce: { required: () => true },
  conformIdTokenClaims: false, // scope claims (email, ...) go into the ID token too
  claims: {
    openid: ['sub', 'amr'], // amr is only emitted when a scope asks for it
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username',
      'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  },
  // Same values as the defaults; set explicitly to silence the "you SHOULD change" notices.
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600,
    Session: 14 * 86400, Grant: 14 * 86400, RefreshToken: 14 * 86400,
  },
  async findAccount(ctx, sub) {
    const account = accounts.get(sub);
    return account && { accountId: sub, claims: async () => ({ ...account.claims, sub }) };
  },
  async renderError(ctx, out) { ctx.type = 'json'; ctx.body = out; },
});

// Misbehaving ID tokens: adjust what IdToken#issue signs, the signature stays genuine.
const { issue } = provider.IdToken.prototype;
provider.IdToken.prototype.issue = function (opts = {}) {
  const o = opts.use === 'idtoken' && accounts.get(this.available.sub)?.id_token;
  if (!o) return issue.call(this, opts);
  if ('nonce' in o) this.extra.nonce = o.nonce;
  if (o.aud !== undefined) { // signing uses client.clientId as aud: sign with a look-alike client
    const real = this.client;
    this.client = new Proxy(real, {
      get: (t, p) => (p === 'clientId' ? o.aud : typeof t[p] === 'function' ? t[p].bind(t) : t[p]),
    });
  }
  const expiresAt = o.exp_offset_seconds ? epoch() + o.exp_offset_seconds : opts.expiresAt;
  return issue.call(this, { ...opts, expiresAt });
};

function rotateKey() {
  const state = internals(provider);
  const key = newSigningKey();
  const old = [...state.keystore];
  state.keystore.clear(); // the first matching key signs, so the new key goes first
  for (const k of [key, ...old]) state.keystore.add(k);
  const { kty, use, kid, alg, e, n } = key;
  state.jwks.keys.unshift({ kty, use, kid, alg, e, n });
  return kid;
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
async function readBody(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return data;
}
async function readJson(ctx) {
  try { return JSON.parse(await readBody(ctx.req)) || {}; } catch { return ctx.throw(400, 'invalid JSON body'); }
}

provider.use(async (ctx, next) => {
  const json = (status, body) => { ctx.status = status; ctx.body = body; };
  if (ctx.method === 'POST' && ctx.path === '/__control/clients') {
    const b = await readJson(ctx);
    let client;
    try {
      client = new provider.Client({
        client_id: b.client_id,
        client_secret: b.client_secret,
        redirect_uris: b.redirect_uris,
        token_endpoint_auth_method: 'client_secret_basic',
        response_types: ['code'],
        grant_types: ['authorization_code'],
      });
    } catch (err) {
      return json(400, { error: err.message, error_description: err.error_description });
    }
    await provider.Client.adapter.upsert(client.clientId, client.metadata());
    return json(201, {});
  }
  if (ctx.method === 'POST' && ctx.path === '/__control/accounts') {
    const b = await readJson(ctx);
    if (typeof b.sub !== 'string' || !b.sub) return json(400, { error: 'sub is required' });
    accounts.set(b.sub, { claims: b.claims || {}, amr: b.amr, id_token: b.id_token });
    return json(201, {});
  }
  if (ctx.method === 'POST' && ctx.path === '/__control/rotate-key') {
    return json(201, { kid: rotateKey() });
  }

  const m = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!m) return next();
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== m[1]) throw new Error('interaction uid mismatch');
  } catch (err) {
    ctx.status = 400; ctx.type = 'text'; ctx.body = `interaction error: ${err.error_description || err.message}`;
    return undefined;
  }
  const { params, prompt } = details;

  if (ctx.method === 'GET' && !m[2]) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Test OP sign-in</title></head><body>
<h1>Test OpenID Provider</h1>
<p>Client: <span id="client-id">${esc(params.client_id)}</span></p>
<p>Login hint: <span id="login-hint">${esc(params.login_hint)}</span></p>
<p>Prompt: <span id="prompt">${esc(prompt.name)}</span></p>
<form method="post" action="/interaction/${esc(details.uid)}/login">
<input name="sub" id="sub">
<button type="submit" id="sign-in">Sign in</button></form></body></html>`;
    return undefined;
  }
  if (ctx.method !== 'POST' || !m[2]) return next();

  const sub = new URLSearchParams(await readBody(ctx.req)).get('sub');
  const account = sub && accounts.get(sub);
  if (!account) {
    ctx.status = 400; ctx.type = 'text'; ctx.body = `unknown account: ${sub}`;
    return undefined;
  }
  // Log in and auto-consent to everything requested (login and consent prompts alike).
  let grant = details.grantId && await provider.Grant.find(details.grantId);
  if (!grant || grant.accountId !== sub) grant = new provider.Grant({ accountId: sub, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  if (details.session?.accountId && details.session.accountId !== sub) {
    // Switching user: drop the old OP session, otherwise oidc-provider first shows
    // an auto-submitting "log out the previous user" form instead of redirecting.
    await provider.Session.adapter.destroy(details.session.cookie);
    delete details.session;
  }
  details.result = { login: { accountId: sub, ...(account.amr && { amr: account.amr }) }, consent: { grantId } };
  await details.persist();
  ctx.status = 303;
  ctx.redirect(details.returnTo);
  return undefined;
});

handler = provider.callback();
process.stdout.write(`${JSON.stringify({ issuer })}\n`);

// Exit when the parent goes away (its end of our stdin closes) or on SIGTERM/SIGINT.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
