import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../gateway/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

let db: TestDatabase;
let gateway: TestGateway;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  const log = createLogger('debug', {
    write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>),
  });
  gateway = await startTestGateway({ databaseUrl: db.url, log });
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('composition', () => {
  it('serves the core plugin: plugins and viewer', async () => {
    const { status, body } = await gateway.gql('{ plugins { name version enabled reason } viewer { role userId } }');
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      plugins: [
        { name: 'core', version: '0.1.0', enabled: true, reason: null },
        { name: 'jobs', version: '0.1.0', enabled: true, reason: null },
        { name: 'realtime', version: '0.1.0', enabled: true, reason: null },
        { name: 'notifications', version: '0.1.0', enabled: true, reason: null },
        {
          name: 'stripe',
          version: '0.1.0',
          enabled: false,
          reason: 'missing required configuration: STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET',
        },
        {
          name: 'github',
          version: '0.1.0',
          enabled: false,
          reason:
            'missing required configuration: GITHUB_WEBHOOK_SECRET, either GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY + GITHUB_APP_INSTALLATION_ID',
        },
        {
          name: 'shopify',
          version: '0.1.0',
          enabled: false,
          reason:
            'missing required configuration: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, either SHOPIFY_SHOP + SHOPIFY_ACCESS_TOKEN or SHOPIFY_APP_URL + SHOPIFY_SCOPES',
        },
        {
          name: 'idme',
          version: '0.1.0',
          enabled: false,
          reason: 'missing required configuration: IDME_CLIENT_ID, IDME_CLIENT_SECRET, IDME_REDIRECT_URI',
        },
        { name: 'files', version: '0.1.0', enabled: true, reason: null },
        { name: 'echo', version: '1.2.3', enabled: true, reason: null },
      ],
      viewer: { role: 'anonymous', userId: null },
    });
  });

  it('serves fields of several plugins in one operation (merged, each with its own resolver)', async () => {
    const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
    const written = await gateway.gql('mutation { echo(body: "hi") { id body } }', { headers: admin });
    expect(written.body.errors).toBeUndefined();
    const { body } = await gateway.gql('{ echoCount viewer { role } }', { headers: admin });
    expect(body.data).toEqual({ echoCount: 1, viewer: { role: 'admin' } });
  });

  it("pages a plugin's Relay connection", async () => {
    const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
    for (const body of ['two', 'three'])
      await gateway.gql(`mutation { echo(body: "${body}") { id } }`, { headers: admin });
    const first = await gateway.gql(
      '{ echoMessages(first: 2) { edges { node { body } } pageInfo { hasNextPage endCursor } } }',
    );
    const page = first.body.data?.['echoMessages'] as {
      edges: { node: { body: string } }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page.edges.map((e) => e.node.body)).toEqual(['hi', 'two']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await gateway.gql(
      'query Rest($after: String) { echoMessages(first: 2, after: $after) { edges { node { body } } pageInfo { hasNextPage } } }',
      {
        variables: { after: page.pageInfo.endCursor },
      },
    );
    expect(rest.body.data).toEqual({
      echoMessages: { edges: [{ node: { body: 'three' } }], pageInfo: { hasNextPage: false } },
    });
  });

  it('masks secret config values, and shows config to admins only', async () => {
    const anonymous = await gateway.gql('{ plugin(name: "echo") { config { key } } }');
    expect(anonymous.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    const { body } = await gateway.gql('{ plugin(name: "echo") { config { key value isSet secret required } } }', {
      headers: { 'x-hasura-admin-secret': ADMIN_SECRET },
    });
    expect(body.data).toEqual({
      plugin: {
        config: [
          { key: 'ECHO_API_KEY', value: '********', isSet: true, secret: true, required: true },
          { key: 'ECHO_PREFIX', value: '', isSet: true, secret: false, required: false },
        ],
      },
    });
  });
});

describe('authentication (Hasura-compatible)', () => {
  it('reads the session from a Hasura JWT', async () => {
    const token = await signToken({ userId: 'u-42', defaultRole: 'user', allowedRoles: ['user', 'editor'] });
    const { status, body } = await gateway.gql('{ viewer { role userId allowedRoles } }', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status).toBe(200);
    expect(body.data).toEqual({ viewer: { role: 'user', userId: 'u-42', allowedRoles: ['user', 'editor'] } });
  });

  it('accepts claims as stringified JSON, as Hasura does', async () => {
    const { SignJWT } = await import('jose');
    const { JWT_SECRET } = await import('./support/tokens.ts');
    const token = await new SignJWT({
      'https://hasura.io/jwt/claims': JSON.stringify({
        'x-hasura-default-role': 'user',
        'x-hasura-allowed-roles': ['user'],
        'x-hasura-user-id': 'u-7',
      }),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const { body } = await gateway.gql('{ viewer { userId } }', { headers: { authorization: `Bearer ${token}` } });
    expect(body.data).toEqual({ viewer: { userId: 'u-7' } });
  });

  it('lets x-hasura-role pick one of the allowed roles, and refuses others with 403', async () => {
    const token = await signToken({ userId: 'u-1', defaultRole: 'user', allowedRoles: ['user', 'editor'] });
    const picked = await gateway.gql('{ viewer { role } }', {
      headers: { authorization: `Bearer ${token}`, 'x-hasura-role': 'editor' },
    });
    expect(picked.body.data).toEqual({ viewer: { role: 'editor' } });

    const refused = await gateway.gql('{ viewer { role } }', {
      headers: { authorization: `Bearer ${token}`, 'x-hasura-role': 'admin' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it.each([
    ['garbage', async () => 'not-a-jwt', 'Token is invalid'],
    ['expired', async () => signToken({ userId: 'u', expiresIn: Math.floor(Date.now() / 1000) - 60 }), 'Token expired'],
    [
      'wrongly signed',
      async () => signToken({ userId: 'u' }, new TextEncoder().encode('another-secret-0123456789abcdef-0123')),
      'Token signature is invalid',
    ],
  ])('answers 401 for a %s token', async (_name, makeToken, message) => {
    const { status, body } = await gateway.gql('{ viewer { role } }', {
      headers: { authorization: `Bearer ${await makeToken()}` },
    });
    expect(status).toBe(401);
    expect(body.errors).toEqual([{ message, extensions: { code: 'UNAUTHENTICATED' } }]);
    expect(body.data).toBeUndefined();
  });

  describe('tokens without exp', () => {
    let allowing: TestGateway;
    beforeAll(async () => {
      allowing = await startTestGateway({ databaseUrl: db.url, env: { PLUGBOARD_JWT_ALLOW_NO_EXP: 'true' } });
    });
    afterAll(async () => {
      await allowing?.close();
    });

    const tokenWithout = async (claims: Record<string, unknown>, exp: boolean) => {
      const { SignJWT } = await import('jose');
      const { JWT_SECRET } = await import('./support/tokens.ts');
      const jwt = new SignJWT({ 'https://hasura.io/jwt/claims': claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt();
      return (exp ? jwt.setExpirationTime('5m') : jwt).sign(new TextEncoder().encode(JWT_SECRET));
    };
    it.each([
      ['with exp', 200, true, false],
      ['without exp', 401, false, false],
      ['with exp, PLUGBOARD_JWT_ALLOW_NO_EXP=true', 200, true, true],
      ['without exp, PLUGBOARD_JWT_ALLOW_NO_EXP=true', 200, false, true],
    ])('a token %s: HTTP %i', async (_name, status, exp, allow) => {
      const token = await tokenWithout(
        { 'x-hasura-default-role': 'user', 'x-hasura-allowed-roles': ['user'], 'x-hasura-user-id': 'no-exp' },
        exp,
      );
      const target = allow ? allowing : gateway;
      const response = await target.gql('{ viewer { userId } }', { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(status);
      if (status === 200) expect(response.body).toEqual({ data: { viewer: { userId: 'no-exp' } } });
      else
        expect(response.body.errors).toEqual([
          { message: 'Token has no "exp" claim: tokens must expire', extensions: { code: 'UNAUTHENTICATED' } },
        ]);
      // A socket gets the same answer at connection_init.
      const ws = connectWs(target.wsUrl, { Authorization: `Bearer ${token}` });
      const opened = await Promise.race([ws.connected.then(() => 'acknowledged'), ws.closed]);
      expect(opened).toEqual(
        status === 200 ? 'acknowledged' : { code: 4403, reason: 'Token has no "exp" claim: tokens must expire' },
      );
      await ws.client.dispose();
    });
  });

  it('answers 401 for a malformed Authorization header', async () => {
    for (const authorization of ['Basic dXNlcjpwdw==', 'Bearer', 'Bearer two tokens']) {
      const { status, body } = await gateway.gql('{ viewer { role } }', { headers: { authorization } });
      expect(status, authorization).toBe(401);
      expect(body.errors?.[0]?.message).toBe('Malformed Authorization header: expected "Bearer <token>"');
    }
    const token = await signToken({ userId: 'case' });
    expect(
      (await gateway.gql('{ viewer { userId } }', { headers: { authorization: `bearer ${token}` } })).body.data,
    ).toEqual({ viewer: { userId: 'case' } });
  });

  it('answers 401 for a token without Hasura claims', async () => {
    const { SignJWT } = await import('jose');
    const { JWT_SECRET } = await import('./support/tokens.ts');
    const token = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const { status, body } = await gateway.gql('{ viewer { role } }', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toMatch(/hasura\.io\/jwt\/claims/);
  });

  it('gives admin for the right admin secret and 401 for a wrong one', async () => {
    const right = await gateway.gql('{ viewer { role } }', { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } });
    expect(right.body.data).toEqual({ viewer: { role: 'admin' } });
    const wrong = await gateway.gql('{ viewer { role } }', { headers: { 'x-hasura-admin-secret': 'not-the-secret' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('denies a field by scope with FORBIDDEN, leaving the rest of the response', async () => {
    const token = await signToken({ userId: 'u-1' });
    const { status, body } = await gateway.gql('{ viewer { role } echoCount }', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status).toBe(200);
    expect(body.errors?.[0]).toMatchObject({ path: ['echoCount'], extensions: { code: 'FORBIDDEN' } });
  });
});

describe('bad input', () => {
  it('answers 400 to a malformed JSON body', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('answers 413 to a body over the limit, declared or chunked', async () => {
    const big = JSON.stringify({ query: '{ viewer { role } }', padding: 'x'.repeat(1_100_000) });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });

    const bytes = new TextEncoder().encode(big);
    const chunked = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('still serves a small chunked body', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ query: '{ viewer { role } }' }));
    const response = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start: (c) => {
          c.enqueue(bytes);
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({ data: { viewer: { role: 'anonymous' } } });
  });

  it('rejects a query of depth 20', async () => {
    const deep = `{ ${'viewer { '.repeat(20)}role${' }'.repeat(20)} }`;
    const { status, body } = await gateway.gql(deep, { headers: { accept: 'application/graphql-response+json' } });
    expect(status).toBe(400);
    expect(body.errors).toContainEqual({
      message: 'Query depth limit of 10 exceeded, found 21.',
      extensions: { code: 'QUERY_TOO_COMPLEX' },
    });
    expect(body.data).toBeUndefined();
  });

  it('rejects a query with 1,000 aliases', async () => {
    const query = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`;
    const { status, body } = await gateway.gql(query, { headers: { accept: 'application/graphql-response+json' } });
    expect(status).toBe(400);
    // 1,000 aliases are ~5,000 tokens: the parser's token limit stops it before validation.
    expect(body.errors).toEqual([
      { message: 'Token limit of 5000 exceeded.', extensions: { code: 'QUERY_TOO_COMPLEX' } },
    ]);
  });

  it('rejects too many aliases by the alias limit itself', async () => {
    const query = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`;
    // application/json clients get the GraphQL-over-HTTP "legacy" 200; the errors are the same.
    const { status, body } = await gateway.gql(query);
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors).toContainEqual({
      message: 'Aliases limit of 15 exceeded, found 40.',
      extensions: { code: 'QUERY_TOO_COMPLEX' },
    });
  });

  it('codes parse and validation errors', async () => {
    const parse = await gateway.gql('{ viewer { role ');
    expect(parse.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    const validation = await gateway.gql('{ viewr { role } }');
    expect(validation.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ]);
  });

  it('refuses a browser "simple" request without a CSRF header (403), and accepts it with one', async () => {
    const simple = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"query":"{ viewer { role } }"}',
    });
    expect(simple.status).toBe(403);
    expect(await simple.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });

    const get = await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent('{ viewer { role } }')}`);
    expect(get.status).toBe(403);
    const withHeader = await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent('{ viewer { role } }')}`, {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(await withHeader.json()).toEqual({ data: { viewer: { role: 'anonymous' } } });
  });

  it('masks unexpected errors, with a code, and logs them with the request id', async () => {
    const response = await post(JSON.stringify({ query: '{ echoFail }' }), { 'x-request-id': 'req-mask-1' });
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors).toEqual([
      expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
    ]);
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(response.headers.get('x-request-id')).toBe('req-mask-1');
    const logged = logLines.find((line) => line['reqId'] === 'req-mask-1' && line['level'] === 50);
    expect(logged).toMatchObject({
      msg: 'unexpected error in a resolver',
      err: { message: 'database password is hunter2' },
    });
  });

  it('answers BAD_USER_INPUT, not a masked 500, when Postgres refuses a value (\\u0000 in text), and stores nothing', async () => {
    const request = JSON.stringify({
      query: 'mutation($b: String!) { echo(body: $b) { id } }',
      variables: { b: 'a\u0000b' },
    });
    const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
    const before = (await gateway.gql('{ echoCount }', { headers: admin })).body.data?.['echoCount'];
    const body = (await (await post(request, admin)).json()) as {
      errors?: { message: string; extensions: Record<string, unknown> }[];
    };
    expect(body.errors?.[0]?.extensions['code']).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(/^A value cannot be stored: /);
    expect((await gateway.gql('{ echoCount }', { headers: admin })).body.data?.['echoCount']).toBe(before);
  });

  it.each([
    ['BAD_USER_INPUT, by default', '{ echoRefuse }', 'BAD_USER_INPUT'],
    ['its own code when it has one', '{ echoRefuse(code: "ECHO_REFUSED") }', 'ECHO_REFUSED'],
  ])("answers a plugin's InputError with %s, its message and no stack", async (_what, query, code) => {
    const response = await post(JSON.stringify({ query }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors).toEqual([{ message: 'echo refuses this input', path: ['echoRefuse'], extensions: { code } }]);
    expect(JSON.stringify(body)).not.toMatch(/InputError|\.ts:\d+|\bat /);
  });

  it('answers 404 with a JSON error for unknown routes', async () => {
    const response = await fetch(`${gateway.url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
  });
});

describe('X-Content-Type-Options: nosniff', () => {
  it.each<[string, () => Promise<Response>]>([
    ['a GraphQL answer', () => post(JSON.stringify({ query: '{ viewer { role } }' }))],
    ['a GraphQL error (bad JSON)', () => post('{"query": ')],
    [
      'a GraphQL answer in graphql-response+json',
      () => post(JSON.stringify({ query: '{ viewr }' }), { accept: 'application/graphql-response+json' }),
    ],
    ['GraphiQL', () => fetch(gateway.graphqlUrl, { headers: { accept: 'text/html' } })],
    ['a 413', () => post(JSON.stringify({ query: '{ viewer { role } }', padding: 'x'.repeat(1_100_000) }))],
    ['a 404', () => fetch(`${gateway.url}/nope`)],
    ['/healthz', () => fetch(`${gateway.url}/healthz`)],
    ['/readyz', () => fetch(`${gateway.url}/readyz`)],
    ['/metrics', () => fetch(`${gateway.url}/metrics`)],
    [
      'a Hasura route refusal (503: no secret configured)',
      () =>
        fetch(`${gateway.url}/hasura/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
    ],
  ])('is on %s', async (_name, request) => {
    const response = await request();
    await response.arrayBuffer();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('operational routes', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${gateway.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      checks: { postgres: { ok: true }, migrations: { ok: true, applied: 10, notApplied: 0 } },
    });
  });

  it('exports Prometheus metrics per operation name', async () => {
    await gateway.gql('query WhoAmI { viewer { role } }');
    await gateway.gql('query Broken { echoFail }');
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operationName="WhoAmI"\} [1-9]/);
    expect(text).toMatch(/graphql_operation_duration_seconds_bucket\{le="0.005",operationName="WhoAmI"\} \d/);
    expect(text).toMatch(/graphql_errors_total\{operationName="Broken",code="INTERNAL_SERVER_ERROR"\} [1-9]/);
    expect(text).not.toMatch(/graphql_errors_total\{operationName="WhoAmI"/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('keeps /metrics small and answering under a flood of huge and random operation names', async () => {
    const random = (length: number) =>
      `n${randomBytes(Math.ceil(length / 2))
        .toString('hex')
        .slice(0, length - 1)}`;
    const before = await (await fetch(`${gateway.url}/metrics`)).text();
    const attacks = [
      // Names the document does not define: the request fails, and is labelled "unknown".
      ...Array.from({ length: 60 }, () => ({ query: '{ viewer { role } }', operationName: random(50_000) })),
      ...Array.from({ length: 40 }, () => ({ query: 'query WhoAmI { viewer { role } }', operationName: random(20) })),
      // Names the document does define, but too long for a label: "other".
      ...Array.from({ length: 20 }, () => {
        const name = random(50_000);
        return { query: `query ${name} { viewer { role } }`, operationName: name };
      }),
      ...Array.from({ length: 20 }, () => ({ query: `query ${random(50_000)} { viewer { role } }` })),
    ];
    for (let i = 0; i < attacks.length; i += 10) {
      const answers = await Promise.all(attacks.slice(i, i + 10).map((attack) => post(JSON.stringify(attack))));
      for (const answer of answers) await answer.arrayBuffer();
    }
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.status).toBe(200);
    const after = await response.text();
    // Four new label values at most (unknown, other and their error series), not 140 names.
    expect(after.length - before.length).toBeLessThan(10_000);
    expect(after).toMatch(/graphql_operation_duration_seconds_count\{operationName="unknown"\} [1-9]/);
    expect(after).toMatch(/graphql_operation_duration_seconds_count\{operationName="other"\} [1-9]/);
    expect(after.match(/operationName="[^"]{101,}"/)).toBeNull();
  });

  it('keeps the memory of parsed documents bounded under a flood of distinct token-heavy documents', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    // 400 distinct documents of ~4,900 tokens each (under the token limit): about 700 KB of
    // tokens and nodes apiece, which yoga's parse cache kept (1,024 of them) for an hour.
    for (let i = 0; i < 400; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const query = `{ viewer(n${i + j}: [${Array.from({ length: 2400 }, (_, k) => k % 10).join(',')}]) { role } }`;
          const response = await post(JSON.stringify({ query }));
          expect(response.status).toBe(200);
          await response.arrayBuffer();
        }),
      );
    }
    expect(heap() - before).toBeLessThan(80 * 1024 * 1024);
  });

  it('labels only operation names the document defines', async () => {
    // Twice: the second time the document comes from yoga's parse cache.
    for (let i = 0; i < 2; i++)
      await post(
        JSON.stringify({
          query: 'query Alpha { viewer { role } } query Beta { viewer { userId } }',
          operationName: 'Beta',
        }),
      );
    await post(JSON.stringify({ query: 'query Gamma { viewer { role } }', operationName: 'Delta' }));
    await post(JSON.stringify({ query: '# query Epsilon\n{ viewer { role } }' }));
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operationName="Beta"\} 2/);
    for (const absent of ['Alpha', 'Gamma', 'Delta', 'Epsilon'])
      expect(text).not.toContain(`operationName="${absent}"`);
  });

  it('writes JSON logs that carry the request id', async () => {
    await post(JSON.stringify({ query: '{ viewer { role } }' }), { 'x-request-id': 'req-log-7' });
    expect(logLines.some((line) => line['reqId'] === 'req-log-7' && typeof line['msg'] === 'string')).toBe(true);
  });
});
