/**
 * The ID.me plugin against a real OpenID Provider (`oidc-provider`, configured like ID.me: group
 * scopes, `status` and `attributes` claims, PKCE required) with the real `openid-client` on our
 * side: the full code + PKCE flow through GraphQL and through the browser callback (which hands
 * ID.me's answer to the frontend and completes nothing), every way it must refuse (state unknown,
 * expired, reused, another user's; code replayed; ID token signed by another key or for another
 * audience; provider unreachable), with nothing stored, and a victim opening an attacker's URL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startIdmeProvider, type IdmeAccount, type IdmeProvider } from './support/idme-provider.ts';
import { runCli } from './support/processes.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs, type TestWsClient } from './support/ws-client.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const FRONTEND = 'http://app.example.test/verified';

let db: TestDatabase;
let gateway: TestGateway;
let idme: IdmeProvider;
const sockets: TestWsClient[] = [];

type Body = {
  data?: Record<string, never> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};
const gql = async (headers: Record<string, string>, query: string, variables: Record<string, unknown> = {}) =>
  (await gateway.gql(query, { variables, headers })).body as Body;
const asUser = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });

const AUTHORIZE = 'mutation($groups: [IdmeGroup!]) { idmeAuthorizationUrl(groups: $groups) { url state expiresAt } }';
const VERIFY = `mutation($code: String!, $state: String!) { verifyIdme(code: $code, state: $state) {
  userId subject verified scopes email givenName
  groups { group verified subgroups } badges { group badge } attributes { handle name value }
} }`;

const veteran: IdmeAccount = {
  sub: 'idme-sub-veteran-1',
  email: 'vera@example.test',
  given_name: 'Vera',
  family_name: 'Stone',
  status: [{ group: 'military', subgroups: ['Veteran', 'Retiree'], verified: true }],
  attributes: [
    { handle: 'branch', name: 'Branch', value: 'Navy' },
    { handle: 'service_era', name: 'Service Era', value: 'Post-9/11' },
  ],
};

/** Starts an authorization as `userId` and walks it at the provider: the code and state to verify. */
async function authorize(
  userId: string,
  groups: string[] = ['MILITARY'],
): Promise<{ code: string; state: string; url: URL }> {
  const body = await gql(await asUser(userId), AUTHORIZE, { groups });
  expect(body.errors).toBeUndefined();
  const { url, state } = (body.data as unknown as { idmeAuthorizationUrl: { url: string; state: string } })
    .idmeAuthorizationUrl;
  const back = await idme.authorize(url);
  expect(back.searchParams.get('state')).toBe(state);
  return { code: back.searchParams.get('code')!, state, url: new URL(url) };
}

const counts = async () =>
  (
    await db.pool.query<{ v: number; g: number; b: number; a: number }>(
      'SELECT (SELECT count(*) FROM idme.verifications)::int AS v, (SELECT count(*) FROM idme.groups)::int AS g, (SELECT count(*) FROM idme.badges)::int AS b, (SELECT count(*) FROM idme.attributes)::int AS a',
    )
  ).rows[0]!;

/** Runs `work`, expecting the error code, with no verification data written. */
async function refused(work: () => Promise<Body>, code: string): Promise<Body> {
  const before = await counts();
  const body = await work();
  expect(body.errors?.[0]?.extensions?.['code'], JSON.stringify(body.errors)).toBe(code);
  expect(await counts()).toEqual(before);
  return body;
}

beforeAll(async () => {
  [db, idme] = await Promise.all([createTestDatabase(), startIdmeProvider()]);
  idme.addAccount(veteran);
  idme.addAccount({
    sub: 'idme-sub-student-2',
    email: 'sam@example.test',
    given_name: 'Sam',
    family_name: 'Reed',
    status: [{ group: 'student', subgroups: [], verified: false }],
    attributes: [],
  });
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      IDME_CLIENT_ID: idme.clientId,
      IDME_CLIENT_SECRET: idme.clientSecret,
      IDME_REDIRECT_URI: idme.redirectUri,
      IDME_ISSUER_URL: idme.issuer,
    },
  });
});

afterAll(async () => {
  for (const socket of sockets) await socket.client.dispose();
  await gateway?.close();
  await Promise.all([db?.drop(), idme?.close()]);
});

describe('verification through OpenID Connect', () => {
  it('runs the code + PKCE flow and stores the verification, groups, badges and attributes', async () => {
    const ws = connectWs(gateway.wsUrl, { 'x-hasura-admin-secret': ADMIN_SECRET });
    sockets.push(ws);
    await ws.connected;
    const events = ws.subscribe<{ idmeVerified: { userId: string; verified: boolean; groups: string[] } }>(
      'subscription { idmeVerified { userId verified groups } }',
    );
    // Kept: lets the server register the subscription (graphql-ws does not acknowledge it); were it
    // too short, the event would be missed and the test would fail, not pass wrongly.
    await sleep(150);

    idme.signInAs(veteran.sub);
    const { code, state, url } = await authorize('vera');
    // What went to ID.me: PKCE S256, a nonce, our client and redirect, the group's scope.
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('scope')!.split(' ').sort()).toEqual(['email', 'military', 'openid', 'profile']);

    const body = await gql(await asUser('vera'), VERIFY, { code, state });
    expect(body.errors).toBeUndefined();
    expect((body.data as unknown as { verifyIdme: unknown }).verifyIdme).toEqual({
      userId: 'vera',
      subject: veteran.sub,
      verified: true,
      scopes: ['openid', 'email', 'profile', 'military'],
      email: 'vera@example.test',
      givenName: 'Vera',
      groups: [{ group: 'military', verified: true, subgroups: ['Veteran', 'Retiree'] }],
      badges: [
        { group: 'military', badge: 'Retiree' },
        { group: 'military', badge: 'Veteran' },
      ],
      attributes: [
        { handle: 'branch', name: 'Branch', value: 'Navy' },
        { handle: 'service_era', name: 'Service Era', value: 'Post-9/11' },
      ],
    });
    expect((await events.next()).data?.idmeVerified).toEqual({ userId: 'vera', verified: true, groups: ['military'] });
    const stored = await db.pool.query(
      "SELECT verified, expires_at > now() + interval '364 days' AS a_year FROM idme.verifications WHERE user_id = $1",
      ['vera'],
    );
    expect(stored.rows).toEqual([{ verified: true, a_year: true }]);
    // The state is kept hashed; no tokens anywhere.
    const request = await db.pool.query(
      'SELECT state_hash, used_at FROM idme.authorization_requests WHERE user_id = $1',
      ['vera'],
    );
    expect(request.rows[0].state_hash.toString('base64url')).not.toBe(state);
    expect(request.rows[0].used_at).not.toBeNull();
  });

  it('reads a verification as its user or an admin only', async () => {
    const query =
      '{ idmeVerification(userId: "vera") { verified groups: badges { badge } } idmeGroups(userId: "vera") { group verified } }';
    expect((await gql(await asUser('vera'), query)).data).toMatchObject({
      idmeGroups: [{ group: 'military', verified: true }],
    });
    expect((await gql(admin, query)).data).toMatchObject({ idmeVerification: { verified: true } });
    expect((await gql(await asUser('mallory'), query)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await gql(admin, '{ idmeVerification(userId: "nobody") { verified } }')).data).toEqual({
      idmeVerification: null,
    });
  });

  it('stores a group ID.me did not confirm as unverified', async () => {
    idme.signInAs('idme-sub-student-2');
    const { code, state } = await authorize('sam', ['STUDENT']);
    const body = await gql(await asUser('sam'), VERIFY, { code, state });
    expect((body.data as unknown as { verifyIdme: unknown }).verifyIdme).toMatchObject({
      verified: false,
      groups: [{ group: 'student', verified: false }],
      badges: [],
    });
  });

  it('hands code and state on at the browser callback, completing nothing, for verifyIdme to complete', async () => {
    idme.signInAs(veteran.sub);
    const { code, state } = await authorize('vera');
    const callback = (query: string) => fetch(`${gateway.url}/auth/idme/callback?${query}`);
    // Without IDME_FRONTEND_URL the callback answers JSON: what the page passes to verifyIdme.
    const before = await counts();
    const response = await callback(`code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ code, state });
    expect(await counts()).toEqual(before);
    const request = await db.pool.query(
      "SELECT used_at FROM idme.authorization_requests WHERE state_hash = sha256(convert_to($1, 'UTF8'))",
      [state],
    );
    expect(request.rows).toEqual([{ used_at: null }]);

    expect((await gql(await asUser('vera'), VERIFY, { code, state })).errors).toBeUndefined();
    const again = await callback(`code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`);
    expect(again.status).toBe(400);
    expect(((await again.json()) as Body).errors?.[0]?.extensions?.['code']).toBe('IDME_STATE_USED');
    const denied = await callback('error=access_denied&state=x');
    expect(((await denied.json()) as Body).errors?.[0]?.extensions?.['code']).toBe('IDME_AUTHORIZATION_DENIED');
    for (const query of [
      `state=${encodeURIComponent(state)}`,
      `code=x&state=${'s'.repeat(513)}`,
      `code=x&state=${encodeURIComponent(state)}&iss=${'i'.repeat(513)}`,
    ]) {
      const bad = await callback(query);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as Body).errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    }
  });
});

describe('refusals, with nothing stored', () => {
  it("refuses an unknown state, a state used before, and another user's state, which it spends", async () => {
    idme.signInAs(veteran.sub);
    const { code, state } = await authorize('vera');
    await refused(
      async () => gql(await asUser('vera'), VERIFY, { code, state: 'not-a-state-we-issued' }),
      'IDME_STATE_INVALID',
    );
    expect((await gql(await asUser('vera'), VERIFY, { code, state })).errors).toBeUndefined();
    await refused(async () => gql(await asUser('vera'), VERIFY, { code, state }), 'IDME_STATE_USED');
    // Another user's state reads as unknown, and cannot be completed afterwards by anyone.
    const other = await authorize('vera');
    await refused(async () => gql(await asUser('mallory'), VERIFY, other), 'IDME_STATE_INVALID');
    await refused(async () => gql(await asUser('vera'), VERIFY, other), 'IDME_STATE_USED');
  });

  it('refuses an expired state', async () => {
    idme.signInAs(veteran.sub);
    const { code, state } = await authorize('vera');
    await db.pool.query(
      "UPDATE idme.authorization_requests SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    );
    await refused(async () => gql(await asUser('vera'), VERIFY, { code, state }), 'IDME_STATE_EXPIRED');
  });

  it('refuses a replayed code under a fresh state', async () => {
    idme.signInAs(veteran.sub);
    const first = await authorize('vera');
    expect((await gql(await asUser('vera'), VERIFY, first)).errors).toBeUndefined();
    const second = await authorize('vera');
    await refused(
      async () => gql(await asUser('vera'), VERIFY, { code: first.code, state: second.state }),
      'IDME_CODE_REJECTED',
    );
  });

  it('refuses an ID token signed by a key the issuer does not publish, or for another audience', async () => {
    idme.signInAs(veteran.sub);
    const forged = await authorize('vera');
    idme.tamper('foreign-key');
    const signature = await refused(async () => gql(await asUser('vera'), VERIFY, forged), 'IDME_TOKEN_INVALID');
    expect(signature.errors![0]!.message).toMatch(/signature/);

    const misaddressed = await authorize('vera');
    idme.tamper('audience');
    const audience = await refused(async () => gql(await asUser('vera'), VERIFY, misaddressed), 'IDME_TOKEN_INVALID');
    expect(audience.errors![0]!.message).toMatch(/aud/);
  });

  it('answers a retryable IDME_UNAVAILABLE when ID.me cannot be reached, and keeps the state usable', async () => {
    const provider = await startIdmeProvider();
    provider.addAccount(veteran);
    provider.signInAs(veteran.sub);
    const offline = await startTestGateway({
      databaseUrl: db.url,
      env: {
        IDME_CLIENT_ID: provider.clientId,
        IDME_CLIENT_SECRET: provider.clientSecret,
        IDME_REDIRECT_URI: provider.redirectUri,
        IDME_ISSUER_URL: provider.issuer,
        IDME_HTTP_TIMEOUT: '2',
      },
    });
    try {
      const started = (
        await offline.gql(AUTHORIZE, { headers: await asUser('olga'), variables: { groups: ['MILITARY'] } })
      ).body as Body;
      const { url, state } = (started.data as unknown as { idmeAuthorizationUrl: { url: string; state: string } })
        .idmeAuthorizationUrl;
      const code = (await provider.authorize(url)).searchParams.get('code')!;
      await provider.close();
      const before = await counts();
      const body = (await offline.gql(VERIFY, { headers: await asUser('olga'), variables: { code, state } }))
        .body as Body;
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'IDME_UNAVAILABLE', retryable: true });
      expect(await counts()).toEqual(before);
      const request = await db.pool.query('SELECT used_at FROM idme.authorization_requests WHERE user_id = $1', [
        'olga',
      ]);
      expect(request.rows).toEqual([{ used_at: null }]);
    } finally {
      await offline.close();
    }
  });
});

describe('operations', () => {
  const cliEnv = () => ({
    DATABASE_URL: db.url,
    IDME_CLIENT_ID: idme.clientId,
    IDME_CLIENT_SECRET: idme.clientSecret,
    IDME_REDIRECT_URI: idme.redirectUri,
    IDME_ISSUER_URL: idme.issuer,
  });

  it('shows a verification and groups, and checks discovery and credentials', async () => {
    const verify = await runCli(['idme', 'verify', 'vera'], cliEnv());
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/vera\s+yes/);
    expect(verify.stdout).toMatch(/branch\s+Branch\s+Navy/);
    const groups = await runCli(['idme', 'groups', 'vera'], cliEnv());
    expect(groups.stdout).toMatch(/military\s+yes\s+Veteran, Retiree/);
    const test = await runCli(['idme', 'test'], cliEnv());
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/credentials ok/);
    const wrong = await runCli(['idme', 'test'], { ...cliEnv(), IDME_CLIENT_SECRET: 'not-the-secret' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the client credentials/);
    expect(wrong.stderr).not.toContain('not-the-secret');
  });

  it('names a bad issuer URL and never prints the client secret', async () => {
    const bad = await runCli(['idme', 'test'], { ...cliEnv(), IDME_ISSUER_URL: 'http://idme.example.com/oidc' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/IDME_ISSUER_URL/);
    expect(bad.stderr).not.toContain(idme.clientSecret);
  });
});

describe('redirect to the frontend', () => {
  it('sends the browser to IDME_FRONTEND_URL with the outcome', async () => {
    const withFrontend = await startTestGateway({
      databaseUrl: db.url,
      env: {
        IDME_CLIENT_ID: idme.clientId,
        IDME_CLIENT_SECRET: idme.clientSecret,
        IDME_REDIRECT_URI: idme.redirectUri,
        IDME_ISSUER_URL: idme.issuer,
        IDME_FRONTEND_URL: FRONTEND,
      },
    });
    try {
      const response = await fetch(`${withFrontend.url}/auth/idme/callback?code=x&state=unknown`, {
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(`${FRONTEND}?idme=error&code=IDME_STATE_INVALID`);
    } finally {
      await withFrontend.close();
    }
  });
});

describe("an authorization URL opened in someone else's browser", () => {
  // The gateway as ID.me and browsers know it; the test browser reaches it at its local port.
  const GATEWAY_HOST = 'gateway.example.test';
  const victim: IdmeAccount = {
    sub: 'idme-sub-victim-3',
    email: 'victor@example.test',
    given_name: 'Victor',
    family_name: 'Hale',
    status: [{ group: 'military', subgroups: ['Service Member'], verified: true }],
    attributes: [{ handle: 'branch', name: 'Branch', value: 'Army' }],
  };
  let provider: IdmeProvider;
  let served: TestGateway;

  beforeAll(async () => {
    provider = await startIdmeProvider({ redirectUri: `http://${GATEWAY_HOST}/auth/idme/callback` });
    provider.addAccount(victim);
    served = await startTestGateway({
      databaseUrl: db.url,
      env: {
        IDME_CLIENT_ID: provider.clientId,
        IDME_CLIENT_SECRET: provider.clientSecret,
        IDME_REDIRECT_URI: provider.redirectUri,
        IDME_ISSUER_URL: provider.issuer,
        IDME_FRONTEND_URL: FRONTEND,
      },
    });
  });

  afterAll(async () => {
    await served?.close();
    await provider?.close();
  });

  const start = async (userId: string) => {
    const body = (await served.gql(AUTHORIZE, { headers: await asUser(userId), variables: { groups: ['MILITARY'] } }))
      .body as Body;
    expect(body.errors).toBeUndefined();
    return (body.data as unknown as { idmeAuthorizationUrl: { url: string; state: string } }).idmeAuthorizationUrl;
  };
  /** What the frontend page does with the parameters it was sent to: verifyIdme as its signed-in user. */
  const verifyAs = async (userId: string, landed: URL) =>
    (
      await served.gql(VERIFY, {
        headers: await asUser(userId),
        variables: { code: landed.searchParams.get('code'), state: landed.searchParams.get('state') },
      })
    ).body as Body;
  const verificationsOf = async (...userIds: string[]) =>
    (
      await db.pool.query<{ user_id: string; subject: string }>(
        'SELECT user_id, subject FROM idme.verifications WHERE user_id = ANY($1) OR subject = $2 ORDER BY user_id',
        [userIds, victim.sub],
      )
    ).rows;

  it("does not give the attacker the identity of a victim who consents at the attacker's URL", async () => {
    // The attacker, signed in, gets an authorization URL and sends it to the victim.
    const attack = await start('mallory');
    // The victim opens it in their own browser, signs in at ID.me and consents; ID.me sends the
    // browser to the gateway's callback, which sends it on to the frontend.
    const browser = provider.browser({ account: victim.sub, hosts: { [GATEWAY_HOST]: served.url } });
    const landed = await browser.open(attack.url);
    expect(await verificationsOf('mallory', 'victor')).toEqual([]);
    expect(`${landed.origin}${landed.pathname}`).toBe(FRONTEND);
    expect(Object.fromEntries(landed.searchParams)).toEqual({
      idme: 'verify',
      code: expect.any(String),
      state: attack.state,
      iss: provider.issuer,
    });

    // The victim's page completes it as the victim: the state is not theirs, and it is spent, so
    // the code that landed in the victim's browser is no use to the attacker even if it leaks.
    await refused(() => verifyAs('victor', landed), 'IDME_STATE_INVALID');
    await refused(() => verifyAs('mallory', landed), 'IDME_STATE_USED');
    expect(await verificationsOf('mallory', 'victor')).toEqual([]);

    // The victim is not locked out: they verify their own account in the same browser.
    const own = await start('victor');
    const back = await browser.open(own.url);
    expect(back.searchParams.get('state')).toBe(own.state);
    const body = await verifyAs('victor', back);
    expect(body.errors).toBeUndefined();
    expect((body.data as unknown as { verifyIdme: unknown }).verifyIdme).toMatchObject({
      userId: 'victor',
      subject: victim.sub,
      verified: true,
      badges: [{ group: 'military', badge: 'Service Member' }],
    });
    expect(await verificationsOf('mallory', 'victor')).toEqual([{ user_id: 'victor', subject: victim.sub }]);
  });
});
