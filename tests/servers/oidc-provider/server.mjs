// Test OpenID Provider for the oauth-clients integration tests, built on
// panva/oidc-provider (the certified OpenID provider). Loopback only, no TLS.
//
// Environment:
//   PORT              port to listen on, 0 (default) = pick a free one
//   ACCESS_TOKEN_TTL  access token / client credentials lifetime in seconds (default 300)
//   REFRESH_TOKEN_TTL refresh token lifetime in seconds (default 86400)
//   DEVICE_CODE_TTL   device code lifetime in seconds (default 600)
//   DEVICE_INTERVAL   if set, added as `interval` to device authorization
//                     responses (oidc-provider sends none: clients then use 5 s)
//   REDIRECT_URIS     extra redirect URIs (comma separated) added to every client
//   JWT_CLIENT_JWKS   path to a JSON file {"keys":[...]} with the PUBLIC keys of
//                     `jwt-client` (private_key_jwt); the client is skipped when unset
//   REQUIRE_OFFLINE_ACCESS  "1" = stock OIDC behaviour (refresh tokens only with
//                     scope offline_access + prompt=consent); default: always issue
//   DEBUG_PROVIDER    "1" = log every provider error to stderr
//
// On start it prints exactly one line to stdout: `listening on http://127.0.0.1:<port>`.
// Everything else goes to stderr.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

// oidc-provider prints notices with console.info; keep stdout for the single
// "listening on" line a test reads.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const HOST = '127.0.0.1';

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < 0 || String(value) !== raw.trim()) {
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const PORT = intEnv('PORT', 0);
const ACCESS_TOKEN_TTL = intEnv('ACCESS_TOKEN_TTL', 300);
const REFRESH_TOKEN_TTL = intEnv('REFRESH_TOKEN_TTL', 86400);
const DEVICE_CODE_TTL = intEnv('DEVICE_CODE_TTL', 600);
const DEVICE_INTERVAL = process.env.DEVICE_INTERVAL ? intEnv('DEVICE_INTERVAL', 5) : undefined;
const REQUIRE_OFFLINE_ACCESS = process.env.REQUIRE_OFFLINE_ACCESS === '1';

// ---- listen first, so that PORT=0 resolves to the real port before the
// ---- provider (whose issuer contains the port) is built.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, resolve);
});
const { port } = server.address();
const ISSUER = `http://${HOST}:${port}`;

// Resource server (RFC 8707 resource indicator) for API scopes.
const API_RESOURCE = 'urn:oauth-clients:test-api';
const API_SCOPES = ['api:read', 'api:write'];

// ---- clients -------------------------------------------------------------
// application_type "native" turns on RFC 8252 §7.3 loopback redirect matching
// in oidc-provider: for http://127.0.0.1, http://localhost and http://[::1]
// redirect URIs the port is ignored, so http://127.0.0.1:<any>/callback works.
const extraRedirects = (process.env.REDIRECT_URIS ?? '')
  .split(',').map((s) => s.trim()).filter(Boolean);
const redirectUris = [
  'http://127.0.0.1/callback',
  'http://localhost/callback',
  'http://[::1]/callback',
  ...extraRedirects,
];

// client `scope` may only list the provider's OIDC scopes; resource (api:*) scopes
// are governed by getResourceServerInfo below
const ALL_SCOPES = ['openid', 'profile', 'email', 'offline_access'].join(' ');
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const clients = [
  {
    client_id: 'basic-client',
    client_secret: 's3cr3t@:/+&=%x',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT],
  },
  {
    client_id: 'post-client',
    client_secret: 'post-s3cr3t@:/+&=%x',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT],
  },
  {
    client_id: 'public-client',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  },
  {
    client_id: 'device-client',
    token_endpoint_auth_method: 'none',
    grant_types: [DEVICE_GRANT, 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
  {
    // HS256 needs a secret of at least 32 bytes
    client_id: 'secret-jwt-client',
    client_secret: 'secret-jwt-client-0123456789abcdefghijklmnopqrstuv',
    token_endpoint_auth_method: 'client_secret_jwt',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT],
  },
];

if (process.env.JWT_CLIENT_JWKS) {
  const jwks = JSON.parse(fs.readFileSync(process.env.JWT_CLIENT_JWKS, 'utf8'));
  if (!jwks || !Array.isArray(jwks.keys)) {
    throw new Error(`${process.env.JWT_CLIENT_JWKS}: expected a JSON object {"keys":[...]}`);
  }
  clients.push({
    client_id: 'jwt-client',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_GRANT],
    // only public members may be registered
    jwks: {
      keys: jwks.keys.map(({
        d, p, q, dp, dq, qi, oth, k, ...pub
      }) => pub),
    },
  });
}

for (const client of clients) {
  client.application_type = 'native';
  client.scope = ALL_SCOPES;
  client.redirect_uris ??= redirectUris;
  client.response_types ??= ['code'];
}

// ---- accounts: any login is accepted; sub = the login name -----------------
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        name: sub,
        preferred_username: sub,
        email: `${sub}@example.test`,
        email_verified: true,
      };
    },
  };
}

// ---- keys -----------------------------------------------------------------
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

function isApiRequest(ctx) {
  const scope = String(ctx.oidc.params?.scope ?? '');
  return scope.split(' ').some((s) => API_SCOPES.includes(s));
}

const configuration = {
  clients,
  findAccount,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  pkce: {
    // public clients must use PKCE (oidc-provider's default); only S256 is
    // supported by oidc-provider at all ("plain" is rejected)
    required: (_ctx, client) => client.clientAuthMethod === 'none',
  },
  rotateRefreshToken: true,
  expiresWithSession: async () => false,
  ...(REQUIRE_OFFLINE_ACCESS ? {} : {
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  }),
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    AuthorizationCode: 600,
    DeviceCode: DEVICE_CODE_TTL,
    IdToken: 3600,
    RefreshToken: REFRESH_TOKEN_TTL,
    Grant: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // client_credentials without `resource` gets the test API; an
      // authorization / device request that asks for an api:* scope too.
      defaultResource(ctx, _client, oneOf) {
        if (oneOf) return oneOf;
        if (ctx.oidc.params?.grant_type === 'client_credentials') return API_RESOURCE;
        if (['authorization', 'device_authorization'].includes(ctx.oidc.route) && isApiRequest(ctx)) {
          return API_RESOURCE;
        }
        return undefined;
      },
      useGrantedResource: async () => true,
      async getResourceServerInfo(_ctx, resourceIndicator) {
        if (resourceIndicator !== API_RESOURCE) {
          throw new Provider.errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
        }
        return {
          scope: API_SCOPES.join(' '),
          audience: API_RESOURCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
  renderError(ctx, out, error) {
    if (process.env.DEBUG_PROVIDER === '1') console.error('renderError', error);
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html><head><title>oops</title></head><body><h1>oops! something went wrong</h1><pre>${
      Object.entries(out).map(([k, v]) => `${k}: ${String(v).replace(/[<>&"]/g, '')}`).join('\n')
    }</pre></body></html>`;
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = false;

if (process.env.DEBUG_PROVIDER === '1') {
  for (const event of ['server_error', 'grant.error', 'authorization.error', 'introspection.error', 'revocation.error', 'device_authorization.error', 'code_verification.error']) {
    provider.on(event, (_ctx, err) => console.error(event, err));
  }
} else {
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
}

if (DEVICE_INTERVAL !== undefined) {
  // emitted synchronously before the response body is sent
  provider.on('device_authorization.success', (_ctx, body) => {
    body.interval = DEVICE_INTERVAL;
  });
}

server.on('request', provider.callback());

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

process.stdout.write(`listening on ${ISSUER}\n`);
