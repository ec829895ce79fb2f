// A real, certified OpenID Provider (panva's oidc-provider) for adebox's integration tests
// (tests/it/signin_oidc.rs). Everything comes from the environment the test sets:
//   OIDC_PORT, OIDC_ISSUER          where it listens (HTTPS on 127.0.0.1) and its issuer URL
//   OIDC_TLS_CERT, OIDC_TLS_KEY     PEM files of the certificate the test made
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI   the one client (adebox)
//   OIDC_ACCOUNTS                   JSON {"alice": {"password", "name", "email", "groups"}}
// The login page is a minimal interaction built on the provider's documented API
// (interactionDetails / interactionFinished): a username and password form checked against
// the static accounts, then consent granted for the one client.
import Provider from 'oidc-provider';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`oidc-provider: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const accounts = JSON.parse(env('OIDC_ACCOUNTS'));
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(env('OIDC_ISSUER'), {
  clients: [{
    client_id: env('OIDC_CLIENT_ID'),
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: [env('OIDC_REDIRECT_URI')],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  // The claims go into the ID token itself (adebox reads no userinfo).
  conformIdTokenClaims: false,
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: a.name, email: a.email, groups: a.groups ?? [] };
      },
    };
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, error) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><title>Test provider sign-in</title></head><body>
<h1>Test provider sign-in</h1>${error ? `<p class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="login"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form></body></html>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16384) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'POST' && req.url.endsWith('/login')) {
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    const account = accounts[login];
    if (!account || account.password !== form.get('password')) {
      return loginPage(res, uid, 'Invalid username or password.');
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') return loginPage(res, uid);
  // Consent: granted for the one client, for everything it asked.
  const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = https.createServer(
  { cert: fs.readFileSync(env('OIDC_TLS_CERT')), key: fs.readFileSync(env('OIDC_TLS_KEY')) },
  (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((e) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${e.message}`);
      });
      return;
    }
    callback(req, res);
  },
);
server.listen(Number(env('OIDC_PORT')), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${env('OIDC_ISSUER')}`);
});
