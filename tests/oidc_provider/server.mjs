// The OpenID provider the idgov tests run against: node's oidc-provider (OpenID certified),
// on a loopback port, with the clients, accounts and signing keys the test harness hands it.
//
//   node server.mjs CONFIG.json
//
// CONFIG: {"port", "issuer", "clients": [...client metadata], "accounts": {"ID": {claims}},
//          "jwks": {"keys": [private JWKs]}}
// Each account may carry "password" (default "pw"), "acr" and "amr" (set at login).
//
// The login screen is our own (the built-in development screens set no acr/amr), and consent
// is given by loadExistingGrant for these first-party clients. Test-only controls, never part
// of a real provider:
//   POST /__test/lax        {"on": true}  ignore prompt=login and max_age (authentik's bug)
//   POST /__test/id-token   {"id_token"}  the next token response carries this ID token
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts;
const controls = { lax: false, idToken: null };

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ['idgov-test-cookie-key-0123456789'] },
  claims: {
    // acr and amr go into ID tokens without a claims request parameter.
    openid: ['sub', 'acr', 'amr'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // The claims asked for by scope go into the ID token, as Keycloak and Entra ID put them.
  conformIdTokenClaims: false,
  acrValues: ['urn:idgov:test:pwd', 'urn:idgov:test:mfa'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 300 },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid profile email groups');
    grant.addOIDCClaims(['acr', 'amr', 'auth_time']);
    await grant.save();
    return grant;
  },
});
provider.proxy = false;

const page = (uid, hint, error) => `<!doctype html><html><body><h1>Test provider login</h1>
${error ? `<p id="error">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label for="login">Login</label><input id="login" name="login" value="${hint || ''}">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`;

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// Test controls and the login screen, in front of the provider's own routes.
provider.use(async (ctx, next) => {
  const { path, method } = ctx;
  if (path === '/__test/lax' && method === 'POST') {
    controls.lax = JSON.parse(await body(ctx.req)).on === true;
    ctx.status = 204;
    return;
  }
  if (path === '/__test/id-token' && method === 'POST') {
    controls.idToken = JSON.parse(await body(ctx.req)).id_token;
    ctx.status = 204;
    return;
  }
  if (controls.lax && path === '/auth') {
    // A provider that reuses its SSO session whatever the relying party asks.
    const query = new URLSearchParams(ctx.querystring);
    query.delete('max_age');
    query.delete('prompt');
    ctx.querystring = query.toString();
  }
  const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (interaction) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (!interaction[2]) {
      ctx.type = 'html';
      ctx.body = page(details.uid, details.params.login_hint);
      return;
    }
    const form = Object.fromEntries(new URLSearchParams(await body(ctx.req)));
    const account = accounts[form.login];
    if (!account || form.password !== (account.password || 'pw')) {
      ctx.type = 'html';
      ctx.status = 401;
      ctx.body = page(details.uid, form.login, 'wrong login or password');
      return;
    }
    const login = { accountId: form.login };
    if (account.acr) login.acr = account.acr;
    if (account.amr) login.amr = account.amr;
    await provider.interactionFinished(ctx.req, ctx.res, { login }, { mergeWithLastSubmission: false });
    ctx.respond = false;
    return;
  }
  await next();
  if (path === '/token' && controls.idToken && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: controls.idToken };
    controls.idToken = null;
  }
});

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${config.issuer}`);
});
