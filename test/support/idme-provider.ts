/**
 * An ID.me-like OpenID Connect provider for tests: the `oidc-provider` package (a certified
 * OpenID Provider) configured with ID.me's group scopes (military, veteran, …) and the claims
 * ID.me returns for them from userinfo: `status` ([{ group, subgroups, verified }]) and
 * `attributes` ([{ handle, name, value }]). Authorization code flow with PKCE required, client
 * secret (basic), RS256 ID tokens from a key published in its JWKS.
 *
 * `authorize(url)` plays the browser: it follows the authorization URL through login and consent
 * (both approved for the account set with `signInAs`, cookies kept) and returns the redirect to
 * the client with `code` and `state`. `browser()` is a browser of one person, with its own cookie
 * jar, that follows redirects on through local servers standing in for public hosts (the gateway's
 * callback). `tamper(kind)` forges the next token response's ID token, signed by a key the JWKS
 * does not publish, or for another audience.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import Provider from 'oidc-provider';

export const IDME_GROUP_SCOPES = [
  'military',
  'veteran',
  'responder',
  'government',
  'teacher',
  'student',
  'nurse',
] as const;

export interface IdmeAccount {
  sub: string;
  email: string;
  given_name: string;
  family_name: string;
  status: { group: string; subgroups: string[]; verified: boolean }[];
  attributes: { handle: string; name: string; value: string }[];
}

/** Which account a test browser logs in as at the provider (instead of `signInAs`'s). */
const ACCOUNT_HEADER = 'x-idme-test-account';

export type Tamper = 'foreign-key' | 'audience';

/** One person's browser: its own cookies, signed in at the provider as its own account. */
export interface TestBrowser {
  /**
   * Navigates to `url` and follows redirects (through the provider and `hosts`) until one leads
   * elsewhere, such as the frontend: returns that URL.
   */
  open(url: string): Promise<URL>;
}

export interface IdmeProvider {
  /** The issuer URL (discovery at `${issuer}/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  addAccount(account: IdmeAccount): void;
  /** Who logs in on the next authorization. */
  signInAs(sub: string): void;
  /** Walks an authorization URL like a browser; returns the redirect back to the client. */
  authorize(url: string): Promise<URL>;
  /**
   * A browser that logs in at the provider as `account` (default: the `signInAs` one) and reaches
   * each host of `hosts` (e.g. `gateway.example.test`) at the given local origin.
   */
  browser(options?: { account?: string; hosts?: Record<string, string> }): TestBrowser;
  /** Forges the ID token of the next successful token response. */
  tamper(kind: Tamper): void;
  close(): Promise<void>;
}

export async function startIdmeProvider(options: { redirectUri?: string } = {}): Promise<IdmeProvider> {
  const clientId = 'plugboard-test';
  const clientSecret = 'idme-test-client-secret-0123456789';
  const redirectUri = options.redirectUri ?? 'http://app.example.test/idme/return';
  const accounts = new Map<string, IdmeAccount>();
  let current: string | undefined;
  let tampering: Tamper | null = null;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const rogue = await generateKeyPair('RS256');
  const signingJwk = { ...(await exportJWK(signing.privateKey)), kid: 'idme-test-1', alg: 'RS256', use: 'sig' };

  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oidc`;
  const issuerOrigin = new URL(issuer).origin;

  const groupClaims = Object.fromEntries(IDME_GROUP_SCOPES.map((scope) => [scope, ['status', 'attributes']]));
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['idme-test-cookie-key'] },
    scopes: ['openid', 'email', 'profile', ...IDME_GROUP_SCOPES],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['given_name', 'family_name'],
      ...groupClaims,
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/oidc/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account, email_verified: true }) };
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('idme test provider:', error));

  // Forges the ID token after oidc-provider issued it, as a man in the middle would.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (!tampering || ctx.method !== 'POST' || !ctx.path.endsWith('/token') || ctx.status !== 200 || !body?.id_token)
      return;
    const header = decodeProtectedHeader(body.id_token);
    const claims = decodeJwt(body.id_token);
    const key: CryptoKey = tampering === 'foreign-key' ? rogue.privateKey : signing.privateKey;
    body.id_token = await new SignJWT(tampering === 'audience' ? { ...claims, aud: 'someone-else' } : claims)
      .setProtectedHeader({ alg: 'RS256', kid: header.kid! })
      .sign(key);
    tampering = null;
  });

  const handle = provider.callback();
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const path = new URL(request.url ?? '/', issuer).pathname;
    if (request.method === 'GET' && path.startsWith('/oidc/interaction/')) {
      void interact(request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
      return;
    }
    if (!path.startsWith('/oidc')) {
      response.statusCode = 404;
      response.end();
      return;
    }
    // oidc-provider is mounted under /oidc, as Express would mount it (it reads originalUrl).
    (request as http.IncomingMessage & { originalUrl?: string }).originalUrl = request.url;
    request.url = request.url!.slice('/oidc'.length) || '/';
    handle(request, response);
  });

  /** Login as the chosen account, then consent to every requested scope. */
  async function interact(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(request, response);
    if (details.prompt.name === 'login') {
      const account = request.headers[ACCOUNT_HEADER] ?? current;
      if (typeof account !== 'string') throw new Error('idme test provider: call signInAs(sub) first');
      await provider.interactionFinished(
        request,
        response,
        { login: { accountId: account } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const grant = details.grantId
      ? (await provider.Grant.find(details.grantId))!
      : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params['client_id']) });
    grant.addOIDCScope(String(details.params['scope']));
    await provider.interactionFinished(
      request,
      response,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  }

  /**
   * Follows redirects from `url` like a browser, with `jar`'s cookies (per host), until `done`;
   * a host in `hosts` is reached at the local origin given for it.
   */
  async function walk(
    url: string,
    jar: Map<string, Map<string, string>>,
    headers: Record<string, string>,
    done: (next: URL) => boolean,
    hosts: Record<string, string> = {},
  ): Promise<URL> {
    let next = new URL(url);
    for (let hop = 0; hop < 12; hop++) {
      if (done(next)) return next;
      const cookies = jar.get(next.host) ?? new Map<string, string>();
      jar.set(next.host, cookies);
      const target = hosts[next.host] ? new URL(`${next.pathname}${next.search}`, hosts[next.host]) : next;
      const response = await fetch(target, {
        redirect: 'manual',
        headers: {
          ...(next.origin === issuerOrigin ? headers : {}),
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const pair = cookie.split(';', 1)[0]!;
        const at = pair.indexOf('=');
        const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
        if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) cookies.delete(name);
        else cookies.set(name, value);
      }
      const location = response.headers.get('location');
      if (!location)
        throw new Error(`the browser stopped at ${next.href} with ${response.status}: ${await response.text()}`);
      await response.body?.cancel();
      next = new URL(location, next);
    }
    throw new Error(`the browser was still being redirected after 12 hops from ${url}`);
  }

  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri,
    addAccount: (account) => void accounts.set(account.sub, account),
    signInAs: (sub) => {
      current = sub;
    },
    tamper: (kind) => {
      tampering = kind;
    },
    authorize: (url) => walk(url, new Map(), {}, (next) => next.href.startsWith(redirectUri)),
    browser({ account, hosts = {} } = {}) {
      const jar = new Map<string, Map<string, string>>();
      const headers: Record<string, string> = account ? { [ACCOUNT_HEADER]: account } : {};
      return {
        open: (url) => walk(url, jar, headers, (next) => next.origin !== issuerOrigin && !(next.host in hosts), hosts),
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
