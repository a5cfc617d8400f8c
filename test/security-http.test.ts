/**
 * What the audit found sound at the HTTP edge, pinned: the Hasura routes' shared secret (near
 * misses included), CSRF prevention for browser "simple" requests, and request-smuggling
 * refusals by Node's HTTP parser, each performed against a running gateway.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const SECRET = 'hasura-action-secret-0123456789';
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };

let db: TestDatabase;
let gateway: TestGateway;

const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;
const notificationsOf = async (userId: string) =>
  (
    await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notifications.notifications WHERE user_id = $1',
      [userId],
    )
  ).rows[0]!.n;
const templateCount = async (name: string) =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM notifications.templates WHERE name = $1', [name]))
    .rows[0]!.n;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({ databaseUrl: db.url, env: { HASURA_ACTION_SECRET: SECRET } });
  const created = await gateway.gql(
    'mutation { createNotificationTemplate(input: { name: "hello", subject: "Hello {{ name }}", body: "Hi {{ name }}" }) { version } }',
    { headers: admin },
  );
  expect(created.body.errors).toBeUndefined();
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

describe('the Hasura routes trust only the exact x-plugboard-action-secret', () => {
  const action = (userId: string) => ({
    action: { name: 'sendNotification' },
    input: { userId, template: 'hello', data: { name: 'x' }, channels: ['IN_APP'] },
    session_variables: { 'x-hasura-role': 'admin' },
    request_query: 'mutation { sendNotification }',
  });
  const event = (id: string, userId: string) => ({
    id,
    created_at: '2026-11-22T10:00:00.000Z',
    trigger: { name: 'notifications_send' },
    table: { schema: 'notifications', name: 'requests' },
    event: {
      op: 'INSERT',
      data: { old: null, new: { user_id: userId, template: 'hello', data: { name: 'x' }, channels: ['IN_APP'] } },
      session_variables: { 'x-hasura-role': 'admin' },
    },
    delivery_info: { max_retries: 3, current_retry: 0 },
  });
  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const response = await fetch(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  const misses: [string, Record<string, string>][] = [
    ['no header', {}],
    ['an empty value', { 'x-plugboard-action-secret': '' }],
    ['a wrong value', { 'x-plugboard-action-secret': 'not-the-secret-at-all' }],
    ['the secret minus its last character', { 'x-plugboard-action-secret': SECRET.slice(0, -1) }],
    ['the secret plus one character', { 'x-plugboard-action-secret': `${SECRET}0` }],
    ['the secret in upper case', { 'x-plugboard-action-secret': SECRET.toUpperCase() }],
    ['the secret twice (a repeated header)', { 'x-plugboard-action-secret': `${SECRET}, ${SECRET}` }],
    ['the secret in another header', { 'x-plugboard-action-secrets': SECRET }],
    ['the secret as a Bearer token', { authorization: `Bearer ${SECRET}` }],
    ['the admin secret instead', { 'x-plugboard-action-secret': ADMIN_SECRET, ...admin }],
  ];

  test.each(misses)('/hasura/actions refuses %s with 401 and runs nothing', async (_name, headers) => {
    const victim = unique('victim');
    const refused = await post('/hasura/actions', action(victim), headers);
    expect(refused).toEqual({
      status: 401,
      body: { message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } },
    });
    expect(await notificationsOf(victim)).toBe(0);
  });

  test.each(misses)('/hasura/events refuses %s with 401 and stores nothing', async (_name, headers) => {
    const victim = unique('victim');
    const refused = await post('/hasura/events', event(unique('evt'), victim), headers);
    expect(refused).toEqual({
      status: 401,
      body: { message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } },
    });
    expect(await notificationsOf(victim)).toBe(0);
  });

  test('the exact secret runs both (the refusals above are for the secret alone)', async () => {
    const [viaAction, viaEvent] = [unique('victim'), unique('victim')];
    expect((await post('/hasura/actions', action(viaAction), { 'x-plugboard-action-secret': SECRET })).status).toBe(
      200,
    );
    expect(
      (await post('/hasura/events', event(unique('evt'), viaEvent), { 'x-plugboard-action-secret': SECRET })).status,
    ).toBe(200);
    expect([await notificationsOf(viaAction), await notificationsOf(viaEvent)]).toEqual([1, 1]);
  });

  test('a gateway without HASURA_ACTION_SECRET refuses every call (503), even one with an empty secret', async () => {
    const off = await startTestGateway({ databaseUrl: db.url, env: { HASURA_ACTION_SECRET: '' } });
    try {
      const victim = unique('victim');
      for (const path of ['/hasura/actions', '/hasura/events']) {
        const response = await fetch(`${off.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-plugboard-action-secret': '' },
          body: JSON.stringify(path.endsWith('actions') ? action(victim) : event(unique('evt'), victim)),
        });
        expect(response.status, path).toBe(503);
        expect(await response.json()).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
      }
      expect(await notificationsOf(victim)).toBe(0);
    } finally {
      await off.close();
    }
  });
});

describe('CSRF prevention on /graphql', () => {
  const create = (name: string) =>
    `mutation { createNotificationTemplate(input: { name: "${name}", subject: "s", body: "b" }) { version } }`;

  // What a page on another site can make a browser send without a preflight: a form or a
  // "simple" fetch. The admin secret stands in for credentials the browser would attach.
  test.each([
    ['text/plain', (query: string) => JSON.stringify({ query })],
    ['application/x-www-form-urlencoded', (query: string) => new URLSearchParams({ query }).toString()],
    [
      'multipart/form-data; boundary=x',
      (query: string) => `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n${query}\r\n--x--\r\n`,
    ],
  ])('refuses a %s POST mutation (403, coded) and runs nothing', async (contentType, encode) => {
    const name = unique('csrf');
    const response = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': contentType, origin: 'https://evil.example', ...admin },
      body: encode(create(name)),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    expect(await templateCount(name)).toBe(0);
  });

  test('refuses a mutation by GET, even with the CSRF header, and runs nothing', async () => {
    const name = unique('csrf');
    const url = `${gateway.graphqlUrl}?query=${encodeURIComponent(create(name))}`;
    const plain = await fetch(url, { headers: admin });
    expect(plain.status).toBe(403);
    const withHeader = await fetch(url, { headers: { ...admin, 'x-graphql-yoga-csrf': '1' } });
    expect(withHeader.status).toBe(405);
    expect(await withHeader.json()).toMatchObject({ errors: [{ extensions: { code: expect.any(String) } }] });
    expect(await templateCount(name)).toBe(0);
  });

  test('refuses a POST without a content type', async () => {
    const name = unique('csrf');
    const response = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: admin,
      body: new Blob([JSON.stringify({ query: create(name) })]),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await templateCount(name)).toBe(0);
  });

  test('does not let other origins read responses with credentials', async () => {
    const preflight = await fetch(gateway.graphqlUrl, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-hasura-admin-secret',
      },
    });
    expect(preflight.headers.get('access-control-allow-credentials')).not.toBe('true');
  });

  test('still runs the same mutation as JSON (what the refusals above hold back)', async () => {
    const name = unique('csrf');
    expect((await gateway.gql(create(name), { headers: admin })).body.errors).toBeUndefined();
    expect(await templateCount(name)).toBe(1);
  });
});

describe('request smuggling: Node refuses ambiguous framing (400, connection closed)', () => {
  /** A complete request that, if a second request were read from the bytes, creates a template. */
  const smuggled = (name: string) => {
    const body = JSON.stringify({
      query: `mutation { createNotificationTemplate(input: { name: "${name}", subject: "s", body: "b" }) { version } }`,
    });
    return `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hasura-Admin-Secret: ${ADMIN_SECRET}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  // Responses follow each other without a line break (a body need not end with one).
  const statusLines = (text: string) => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];
  const head = 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';

  /** Writes the bytes on a fresh connection; resolves with all the server sent once it closed it. */
  const exchange = (raw: string) =>
    new Promise<{ text: string; closedByServer: boolean }>((resolve, reject) => {
      const socket = connect(gateway.port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve({ text, closedByServer: true }));
      // A server that keeps the connection open fails the test by the test's timeout.
      socket.write(raw, 'latin1');
    });

  test.each<[string, (tail: string) => string]>([
    [
      'Content-Length and Transfer-Encoding',
      (tail) => `${head}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${tail}`,
    ],
    [
      'Transfer-Encoding and Content-Length',
      (tail) => `${head}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${tail}`,
    ],
    [
      'two differing Content-Lengths',
      (tail) => `${head}Content-Length: 0\r\nContent-Length: ${Buffer.byteLength(tail)}\r\n\r\n${tail}`,
    ],
    ['a Content-Length list', (tail) => `${head}Content-Length: 0, ${Buffer.byteLength(tail)}\r\n\r\n${tail}`],
    ['a signed Content-Length', (tail) => `${head}Content-Length: +0\r\n\r\n${tail}`],
    ['Transfer-Encoding: xchunked', (tail) => `${head}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${tail}`],
    [
      'Transfer-Encoding: chunked, identity',
      (tail) => `${head}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${tail}`,
    ],
    [
      'a space before the colon of Transfer-Encoding',
      (tail) => `${head}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${tail}`,
    ],
    [
      'Transfer-Encoding folded onto a second line',
      (tail) => `${head}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n${tail}`,
    ],
    [
      'two Transfer-Encoding headers',
      (tail) => `${head}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${tail}`,
    ],
    ['a bare LF ending a header', (tail) => `${head}X-Pad: 1\nContent-Length: 0\r\n\r\n${tail}`],
    [
      'a bare CR inside a header (CRLF injection)',
      (tail) => `${head}X-Pad: 1\rContent-Length: ${Buffer.byteLength(tail)}\r\nContent-Length: 0\r\n\r\n${tail}`,
    ],
    [
      'a bare CR before Transfer-Encoding',
      (tail) => `${head}X-Pad: 1\rTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n${tail}`,
    ],
    [
      'a bare LF in the request line',
      (tail) => `POST /graphql\nX HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n${tail}`,
    ],
    ['a bare LF after a chunk size', (tail) => `${head}Transfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n${tail}`],
    ['a chunk longer than its size', (tail) => `${head}Transfer-Encoding: chunked\r\n\r\n2\r\n{}X\r\n0\r\n\r\n${tail}`],
    [
      'an overflowing chunk size',
      (tail) => `${head}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF1\r\n\r\n${tail}`,
    ],
  ])('%s', async (_name, frame) => {
    const name = unique('smuggled');
    const { text, closedByServer } = await exchange(frame(smuggled(name)));
    expect(text.split('\r\n', 1)[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(statusLines(text), text).toEqual(['HTTP/1.1 400']);
    expect(closedByServer).toBe(true);
    expect(await templateCount(name)).toBe(0);
  });

  test('a well-framed pipelined pair runs both (the check above would see a smuggled one)', async () => {
    const name = unique('pipelined');
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${smuggled(name)}`);
    await expect.poll(() => statusLines(text)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    socket.destroy();
    expect(await templateCount(name)).toBe(1);
  });
});
