/**
 * Plugboard behind Hasura: action calls (POST /hasura/actions) run the action's own field with the
 * session Hasura forwards; event-trigger deliveries (POST /hasura/events) reach the plugin that
 * owns the trigger, idempotently. Payloads are Hasura's documented shapes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSchema, isEnumType, isInputObjectType, isObjectType, isScalarType, isSpecifiedScalarType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { parse } from 'yaml';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startIdmeProvider, type IdmeProvider } from './support/idme-provider.ts';
import { runCli } from './support/processes.ts';
import { startGitHubServer, type GitHubServer } from './support/github-server.ts';
import { startShopifyServer, type ShopifyServer } from './support/shopify-server.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { MalformedPayload, sessionFromHasura } from '../gateway/hasura/routes.ts';
import { hasuraMetadata } from '../gateway/hasura/metadata.ts';
import { definePlugin, InputError, type Plugin } from '../gateway/sdk.ts';
import { registry } from '../plugins/registry.ts';
import echo from './support/echo-plugin/index.ts';
import { ADMIN_SECRET } from './support/tokens.ts';

const SECRET = 'hasura-action-secret-0123456789';

/** An action that refuses its input with an InputError: BAD_USER_INPUT, or the code it is given. */
const refuser = definePlugin<object>({
  manifest: {
    name: 'refuser',
    version: '0.0.1',
    description: 'Test fixture: an action that refuses its input',
    capabilities: { graphql: true },
    configuration: { required: [], optional: [] },
  },
  config: () => ({}),
  errors: { REFUSER_REFUSED: { status: 422, description: 'the refuser refuses' } },
  schema(builder) {
    builder.queryField('refuse', (t) =>
      t.string({
        args: { code: t.arg.string() },
        resolve: (_root, { code }) => {
          throw new InputError('refused', code ?? undefined);
        },
      }),
    );
  },
  hasura: { actions: { refuse: { kind: 'synchronous', roles: ['user'] } } },
}) as Plugin;
let db: TestDatabase;
let gateway: TestGateway;
let stripe: StripeServer;
let idme: IdmeProvider;
let github: GitHubServer;
let shopify: ShopifyServer;
/** Where the files plugin keeps uploads during this test. */
let files: string;
/** The actions a test below has run through /hasura/actions: every declared action must be one. */
const called = new Set<string>();

const post = async (
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'x-plugboard-action-secret': SECRET },
) => {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // Every answer, success or error, tells browsers not to sniff another type.
  expect(response.headers.get('x-content-type-options'), `${path} ${response.status}`).toBe('nosniff');
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const action = (name: string, input: Record<string, unknown>, session: Record<string, string>) => {
  called.add(name);
  return post('/hasura/actions', {
    action: { name },
    input,
    session_variables: session,
    request_query: `mutation { ${name} }`,
  });
};
const ADMIN = { 'x-hasura-role': 'admin' };
const USER = (id: string) => ({ 'x-hasura-role': 'user', 'x-hasura-user-id': id });

const event = (id: string, op: string, data: { old: unknown; new: unknown }, trigger = 'notifications_send') => ({
  id,
  created_at: '2026-11-22T10:00:00.000Z',
  trigger: { name: trigger },
  table: { schema: 'public', name: 'notification_requests' },
  event: { op, data, session_variables: { 'x-hasura-role': 'admin' } },
  delivery_info: { max_retries: 3, current_retry: 0 },
});
const byKey = async (id: string) =>
  (
    await db.pool.query(
      'SELECT user_id, subject, channel FROM notifications.notifications WHERE idempotency_key = $1',
      [`hasura-event:${id}`],
    )
  ).rows;

beforeAll(async () => {
  files = await mkdtemp(join(tmpdir(), 'plugboard-hasura-files-'));
  [db, stripe, idme, github, shopify] = await Promise.all([
    createTestDatabase(),
    startStripeServer(),
    startIdmeProvider(),
    startGitHubServer(),
    startShopifyServer({ bulkDurationMs: 20 }),
  ]);
  gateway = await startTestGateway({
    databaseUrl: db.url,
    plugins: [...registry, echo, refuser],
    env: {
      HASURA_ACTION_SECRET: SECRET,
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: 'whsec_hasuraTest0123456789abcdef',
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      IDME_CLIENT_ID: idme.clientId,
      IDME_CLIENT_SECRET: idme.clientSecret,
      IDME_REDIRECT_URI: idme.redirectUri,
      IDME_ISSUER_URL: idme.issuer,
      GITHUB_WEBHOOK_SECRET: 'github-webhook-secret-for-hasura',
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
      GITHUB_REPOS: 'acme/web',
      GITHUB_SYNC_INTERVAL: '0',
      SHOPIFY_API_KEY: shopify.apiKey,
      SHOPIFY_API_SECRET: shopify.apiSecretKey,
      SHOPIFY_SHOP: shopify.shopDomain,
      SHOPIFY_ACCESS_TOKEN: shopify.accessToken,
      SHOPIFY_ADMIN_URL: `${shopify.url}/{shop}`,
      SHOPIFY_BULK_POLL_MS: '20',
      SHOPIFY_SYNC_INTERVAL: '0',
      FILES_LOCAL_DIR: join(files, 'storage'),
    },
  });
  const created = await gateway.gql(
    'mutation { createNotificationTemplate(input: { name: "hello", subject: "Hello {{ name }}", body: "Hi {{ name }}" }) { version } }',
    { headers: { 'x-hasura-admin-secret': ADMIN_SECRET } },
  );
  expect(created.body.errors).toBeUndefined();
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([db?.drop(), stripe?.close(), idme?.close(), github?.close(), shopify?.close()]);
  if (files) await rm(files, { recursive: true, force: true });
});

describe('session_variables', () => {
  it.each<[string, unknown, { role: string; userId: string | null } | string]>([
    ['lower-case names', { 'x-hasura-role': 'user', 'x-hasura-user-id': 'ann' }, { role: 'user', userId: 'ann' }],
    [
      'mixed-case names, read case-insensitively',
      { 'X-Hasura-Role': 'user', 'X-HASURA-USER-ID': 'ann' },
      { role: 'user', userId: 'ann' },
    ],
    ['no role: the anonymous role', { 'x-hasura-user-id': 'ann' }, { role: 'anonymous', userId: 'ann' }],
    ['none at all', null, { role: 'anonymous', userId: null }],
    [
      'a role given twice in different cases',
      { 'x-hasura-role': 'user', 'X-Hasura-Role': 'admin' },
      'x-hasura-role is given twice',
    ],
    [
      'a user id given twice in different cases',
      { 'X-Hasura-User-Id': 'ann', 'x-hasura-user-id': 'bob' },
      'x-hasura-user-id is given twice',
    ],
    ['a value that is not a string', { 'x-hasura-role': 'user', 'x-hasura-user-id': 42 }, 'must be a string'],
    ['not an object', ['x-hasura-role', 'admin'], 'must be an object'],
  ])('%s', (_name, variables, expected) => {
    if (typeof expected === 'string') {
      expect(() => sessionFromHasura(variables, 'anonymous')).toThrow(MalformedPayload);
      expect(() => sessionFromHasura(variables, 'anonymous')).toThrow(expected);
    } else {
      expect(sessionFromHasura(variables, 'anonymous')).toMatchObject(expected);
    }
  });
});

describe('POST /hasura/actions', () => {
  it('runs an admin action with admin session variables and answers its output object', async () => {
    const { status, body } = await action(
      'sendNotification',
      { userId: 'ann', template: 'hello', data: { name: 'Ann' }, channels: ['IN_APP'] },
      ADMIN,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ duplicate: false, notificationIds: [expect.any(String)] });
  });

  it('starts an upload and completes it as the user in the session, and hides it from another user', async () => {
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    const created = await action(
      'createUpload',
      { filename: 'hasura.png', contentType: 'image/png', size: png.length },
      USER('ann'),
    );
    expect(created.status).toBe(200);
    const { file, url, headers } = created.body as {
      file: { id: string; ownerId: string };
      url: string;
      headers: Record<string, string>;
    };
    expect(file.ownerId).toBe('ann');
    const put = await fetch(new URL(url, gateway.url), { method: 'PUT', headers, body: new Uint8Array(png) });
    expect(put.status).toBe(200);
    expect((await action('completeUpload', { id: file.id }, USER('bob'))).status).toBe(404);
    const completed = await action('completeUpload', { id: file.id }, USER('ann'));
    expect(completed).toMatchObject({ status: 200, body: { id: file.id, contentType: 'image/png' } });
  });

  it("runs a user action as that user, and refuses an admin action to a user in Hasura's error shape", async () => {
    const read = await action('markNotificationsRead', { all: true }, USER('ann'));
    expect(read).toEqual({ status: 200, body: 1 });
    const refused = await action(
      'sendNotification',
      { userId: 'bob', template: 'hello', data: { name: 'Bob' } },
      USER('ann'),
    );
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ message: expect.any(String), extensions: { code: 'FORBIDDEN' } });
  });

  it('refuses session variables that name the role twice in different cases, rather than pick one', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM notifications.notifications');
    // Lower-cased one after the other, the admin role would have won.
    const smuggled = await action(
      'sendNotification',
      { userId: 'bob', template: 'hello', data: { name: 'Bob' }, channels: ['IN_APP'] },
      { 'x-hasura-role': 'user', 'x-hasura-user-id': 'ann', 'X-Hasura-Role': 'admin' },
    );
    expect(smuggled).toEqual({
      status: 400,
      body: { message: expect.stringContaining('x-hasura-role is given twice'), extensions: { code: 'BAD_REQUEST' } },
    });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM notifications.notifications')).rows).toEqual(
      before.rows,
    );
    // One mixed-case name is simply that variable.
    const read = await action(
      'markNotificationsRead',
      { all: true },
      { 'X-Hasura-Role': 'user', 'X-Hasura-User-Id': 'ann' },
    );
    expect(read.status).toBe(200);
  });

  it('answers a resolver error with 400, its message and code', async () => {
    const { status, body } = await action('sendNotification', { userId: 'ann', template: 'hello', data: {} }, ADMIN);
    expect(status).toBe(400);
    expect(body).toEqual({ message: expect.stringContaining('name'), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it.each([
    [{}, 'BAD_USER_INPUT', 400],
    [{ code: 'REFUSER_REFUSED' }, 'REFUSER_REFUSED', 422],
    [{ code: 'FORBIDDEN' }, 'FORBIDDEN', 403],
  ])("answers an action's InputError %j with its code and the catalog's status", async (input, code, status) => {
    const answer = await action('refuse', input, USER('ann'));
    expect(answer).toEqual({ status, body: { message: 'refused', extensions: { code } } });
  });

  it('refuses a missing or wrong secret with 401, and an unknown action or bad body clearly', async () => {
    const payload = { action: { name: 'sendNotification' }, input: {}, session_variables: ADMIN };
    expect((await post('/hasura/actions', payload, {})).status).toBe(401);
    const wrong = await post('/hasura/actions', payload, { 'x-plugboard-action-secret': 'not-the-secret-at-all' });
    expect(wrong).toEqual({
      status: 401,
      body: { message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } },
    });
    expect((await action('dropDatabase', {}, ADMIN)).status).toBe(404);
    expect((await post('/hasura/actions', { input: {} })).status).toBe(400);
    const text = await fetch(`${gateway.url}/hasura/actions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-plugboard-action-secret': SECRET },
      body: 'x',
    });
    expect(text.status).toBe(415);
  });

  it('runs sendBulkNotifications for an admin, and refuses it to a user', async () => {
    const sent = await action(
      'sendBulkNotifications',
      { userIds: ['ann', 'bob'], template: 'hello', data: { name: 'all' }, channels: ['IN_APP'] },
      ADMIN,
    );
    expect(sent.status).toBe(200);
    const { rows } = await db.pool.query(
      'SELECT user_id FROM notifications.notifications WHERE batch_id = $1 ORDER BY user_id',
      [sent.body['batchId']],
    );
    expect(rows).toEqual([{ user_id: 'ann' }, { user_id: 'bob' }]);
    expect(
      (await action('sendBulkNotifications', { userIds: ['bob'], template: 'hello', data: { name: 'x' } }, USER('ann')))
        .status,
    ).toBe(403);
  });

  it('runs markNotificationsRead for an admin acting as a user, and refuses a session without a user', async () => {
    await action(
      'sendNotification',
      { userId: 'cy', template: 'hello', data: { name: 'Cy' }, channels: ['IN_APP'] },
      ADMIN,
    );
    expect(await action('markNotificationsRead', { all: true }, { ...ADMIN, 'x-hasura-user-id': 'cy' })).toEqual({
      status: 200,
      body: 1,
    });
    const anonymous = await action('markNotificationsRead', { all: true }, ADMIN);
    expect(anonymous.status).toBeGreaterThanOrEqual(400);
    expect(anonymous.status).toBeLessThan(500);
    expect(anonymous.body['extensions']).toEqual({ code: expect.stringMatching(/^(UNAUTHENTICATED|FORBIDDEN)$/) });
  });

  it('starts syncStripe (an asynchronous action) for an admin, and refuses it to a user', async () => {
    stripe.seed('customer', 3);
    const started = await action('syncStripe', { full: true, resources: ['customers'] }, ADMIN);
    expect(started).toMatchObject({
      status: 200,
      body: { id: expect.any(String), status: 'running', resources: ['customers'] },
    });
    const status = async () =>
      (
        await db.pool.query<{ status: string }>('SELECT status FROM stripe.sync_runs WHERE id = $1', [
          started.body['id'],
        ])
      ).rows[0]!.status;
    await expect.poll(status, { timeout: 10_000 }).not.toBe('running');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM stripe.customers')).rows[0]).toEqual({ n: 3 });
    expect((await action('syncStripe', {}, USER('ann'))).status).toBe(403);
  });

  it('starts syncGithub (an asynchronous action) for an admin, and refuses it to a user', async () => {
    github.addRepository('acme', 'web');
    github.addRelease('acme/web', { tag_name: 'v1' });
    const started = await action('syncGithub', { full: true, resources: ['releases'] }, ADMIN);
    expect(started).toMatchObject({ status: 200, body: { id: expect.any(String), resources: ['releases'] } });
    const status = async () =>
      (
        await db.pool.query<{ status: string }>('SELECT status FROM github.sync_runs WHERE id = $1', [
          started.body['id'],
        ])
      ).rows[0]!.status;
    await expect.poll(status, { timeout: 10_000 }).toBe('completed');
    expect((await db.pool.query('SELECT tag_name FROM github.releases')).rows).toEqual([{ tag_name: 'v1' }]);
    expect((await action('syncGithub', {}, USER('ann'))).status).toBe(403);
    expect((await action('syncGithub', { resources: ['nope'] }, ADMIN)).status).toBe(400);
  });

  it('starts syncShopify (an asynchronous action) for an admin, and refuses it to a user', async () => {
    shopify.seed({ products: 3, variantsPerProduct: 2, customers: 0, orders: 0 });
    const started = await action('syncShopify', { full: true, resources: ['products'] }, ADMIN);
    expect(started).toMatchObject({ status: 200, body: { id: expect.any(String), resources: ['products'] } });
    const status = async () =>
      (
        await db.pool.query<{ status: string }>('SELECT status FROM shopify.sync_runs WHERE id = $1', [
          started.body['id'],
        ])
      ).rows[0]!.status;
    await expect.poll(status, { timeout: 10_000 }).toBe('completed');
    expect((await db.pool.query('SELECT count(*)::int AS n FROM shopify.product_variants')).rows[0]).toEqual({ n: 6 });
    expect((await action('syncShopify', {}, USER('ann'))).status).toBe(403);
    expect((await action('syncShopify', { resources: ['nope'] }, ADMIN)).status).toBe(400);
  });

  it("syncShopify(shop) backfills that shop beside the resources' own syncs, and refuses a shop not installed", async () => {
    shopify.seed({ products: 0, customers: 4, orders: 0, seed: 7 });
    const before = (await db.pool.query("SELECT * FROM shopify.sync_state WHERE resource = 'customers'")).rows;
    const started = await action('syncShopify', { shop: shopify.shopDomain, resources: ['customers'] }, ADMIN);
    expect(started).toMatchObject({ status: 200, body: { kind: 'backfill', resources: ['customers'] } });
    await expect
      .poll(
        async () =>
          (await db.pool.query('SELECT status FROM shopify.sync_runs WHERE id = $1', [started.body['id']])).rows[0]!
            .status,
        { timeout: 10_000 },
      )
      .toBe('completed');
    const customers = (
      await db.pool.query('SELECT count(*)::int AS n FROM shopify.customers WHERE shop = $1', [shopify.shopDomain])
    ).rows[0];
    expect(customers).toEqual({ n: shopify.stats().customers });
    // The resource's own sync state (checkpoint, last sync) is as it was.
    expect((await db.pool.query("SELECT * FROM shopify.sync_state WHERE resource = 'customers'")).rows).toEqual(before);
    const refused = await action('syncShopify', { shop: 'not-installed.myshopify.com' }, ADMIN);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('not a shop the app is installed on');
  });

  it('runs idmeAuthorizationUrl and verifyIdme as the user in the session, and refuses another user the state', async () => {
    idme.addAccount({
      sub: 'idme-hasura-1',
      email: 'ida@example.test',
      given_name: 'Ida',
      family_name: 'Lane',
      status: [{ group: 'teacher', subgroups: [], verified: true }],
      attributes: [],
    });
    idme.signInAs('idme-hasura-1');
    const start = async () => {
      const started = await action('idmeAuthorizationUrl', { groups: ['TEACHER'] }, USER('ida'));
      expect(started).toMatchObject({
        status: 200,
        body: { url: expect.stringContaining(idme.issuer), state: expect.any(String) },
      });
      const back = await idme.authorize(started.body['url'] as string);
      return { code: back.searchParams.get('code'), state: back.searchParams.get('state') };
    };
    // Another user's attempt is refused and spends the state (see the ID.me section of the README).
    const stolen = await action('verifyIdme', await start(), USER('mallory'));
    expect(stolen.status).toBe(400);
    expect(stolen.body['extensions']).toEqual({ code: expect.stringMatching(/^IDME_/) });
    const verified = await action('verifyIdme', await start(), USER('ida'));
    expect(verified).toMatchObject({
      status: 200,
      body: { userId: 'ida', subject: 'idme-hasura-1', verified: true, groups: [{ group: 'teacher', verified: true }] },
    });
    expect((await action('idmeAuthorizationUrl', {}, ADMIN)).status).toBeGreaterThanOrEqual(400);
  });

  it('has run every declared action above', () => {
    const { actions } = parse(readFileSync(new URL('../metadata/actions.yaml', import.meta.url), 'utf8')) as {
      actions: { name: string }[];
    };
    expect([...called].sort()).toEqual(expect.arrayContaining(actions.map((a) => a.name).sort()));
  });
});

describe('POST /hasura/events', () => {
  it('sends a notification for INSERT, UPDATE, DELETE and MANUAL events', async () => {
    const row = (name: string) => ({ user_id: 'cat', template: 'hello', data: { name }, channels: ['IN_APP'] });
    const deliveries: [string, string, { old: unknown; new: unknown }, string][] = [
      ['e-insert', 'INSERT', { old: null, new: row('insert') }, 'insert'],
      ['e-update', 'UPDATE', { old: row('before'), new: row('update') }, 'update'],
      ['e-delete', 'DELETE', { old: row('delete'), new: null }, 'delete'],
      ['e-manual', 'MANUAL', { old: null, new: row('manual') }, 'manual'],
    ];
    for (const [id, op, data, name] of deliveries) {
      const { status } = await post('/hasura/events', event(id, op, data));
      expect(status, op).toBe(200);
      expect(await byKey(id)).toEqual([{ user_id: 'cat', subject: `Hello ${name}`, channel: 'IN_APP' }]);
    }
  });

  it('handles a redelivered event once', async () => {
    const delivery = event('e-twice', 'INSERT', {
      old: null,
      new: { user_id: 'dan', template: 'hello', data: { name: 'Dan' }, channels: ['IN_APP'] },
    });
    const first = await post('/hasura/events', delivery);
    const second = await post('/hasura/events', delivery);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body).toMatchObject({ result: { duplicate: true } });
    expect(await byKey('e-twice')).toHaveLength(1);
  });

  it('sends a row inserted into notifications.requests, the table the generated trigger watches', async () => {
    const { rows } = await db.pool.query<{ id: string; row: Record<string, unknown> }>(
      "INSERT INTO notifications.requests (user_id, template, data, channels) VALUES ('fay', 'hello', '{\"name\": \"Fay\"}', '{IN_APP}') RETURNING id, to_json(requests) AS row",
    );
    // Hasura sends the row as Postgres' JSON of it, as here.
    const { status } = await post('/hasura/events', {
      ...event('e-request', 'INSERT', { old: null, new: rows[0]!.row }),
      table: { schema: 'notifications', name: 'requests' },
    });
    expect(status).toBe(200);
    expect(await byKey('e-request')).toEqual([{ user_id: 'fay', subject: 'Hello Fay', channel: 'IN_APP' }]);
  });

  it.each<[string, (delivery: ReturnType<typeof event>) => unknown]>([
    ['a 600 KB event id', (delivery) => ({ ...delivery, id: 'e'.repeat(600_000) })],
    ['a 600 KB trigger name', (delivery) => ({ ...delivery, trigger: { name: 't'.repeat(600_000) } })],
    [
      'a table name longer than Postgres allows',
      (delivery) => ({ ...delivery, table: { schema: 'public', name: 'n'.repeat(64) } }),
    ],
    ['an id that is not a string', (delivery) => ({ ...delivery, id: 42 })],
    ['a created_at that is not a string', (delivery) => ({ ...delivery, created_at: ['now'] })],
    [
      'session variables naming the role twice',
      (delivery) => ({
        ...delivery,
        event: { ...delivery.event, session_variables: { 'x-hasura-role': 'user', 'X-HASURA-ROLE': 'admin' } },
      }),
    ],
    [
      'a row Postgres cannot store (\\u0000)',
      (delivery) => ({
        ...delivery,
        event: {
          ...delivery.event,
          data: {
            old: null,
            new: { user_id: 'eve\u0000', template: 'hello', data: { name: 'Eve' }, channels: ['IN_APP'] },
          },
        },
      }),
    ],
  ])('answers 400, which Hasura does not retry forever, to %s, storing nothing', async (_name, malform) => {
    const id = `e-malformed-${Math.random().toString(36).slice(2)}`;
    const { status, body } = await post(
      '/hasura/events',
      malform(
        event(id, 'INSERT', {
          old: null,
          new: { user_id: 'eve', template: 'hello', data: { name: 'Eve' }, channels: ['IN_APP'] },
        }),
      ),
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } });
    expect(JSON.stringify(body).length).toBeLessThan(1000);
    expect(await byKey(id)).toEqual([]);
    expect(
      (await db.pool.query("SELECT count(*)::int AS n FROM notifications.notifications WHERE user_id LIKE 'eve%'"))
        .rows,
    ).toEqual([{ n: 0 }]);
  });

  it('refuses a missing secret, an unknown trigger and a row it cannot use, storing nothing', async () => {
    const delivery = event('e-bad', 'INSERT', { old: null, new: { user_id: 'eve' } });
    expect((await post('/hasura/events', delivery, {})).status).toBe(401);
    expect(
      (await post('/hasura/events', event('e-unknown', 'INSERT', { old: null, new: {} }, 'nobody_handles_this')))
        .status,
    ).toBe(404);
    const bad = await post('/hasura/events', delivery);
    expect(bad).toEqual({
      status: 400,
      body: { message: expect.stringContaining('template'), extensions: { code: 'BAD_USER_INPUT' } },
    });
    expect(await byKey('e-bad')).toEqual([]);
  });
});

describe('metadata/ (npm run metadata)', () => {
  const root = new URL('../metadata/', import.meta.url);
  const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

  it('is current', async () => {
    const check = await runCli(['metadata', '--check'], {});
    expect(check.code, check.stderr).toBe(0);
  });

  it("allows every persisted document of the codegen'd client in Hasura's allow list", () => {
    const documents = JSON.parse(
      readFileSync(new URL('../client/generated/persisted-documents.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    expect(Object.keys(documents).length).toBeGreaterThan(0);
    const [collection, ...others] = parse(read('query_collections.yaml')) as {
      name: string;
      definition: { queries: { name: string; query: string }[] };
    }[];
    expect(others).toEqual([]);
    const { queries } = collection!.definition;
    expect(queries.map((q) => q.query).sort()).toEqual(Object.values(documents).sort());
    expect(new Set(queries.map((q) => q.name)).size).toBe(queries.length);
    expect(parse(read('allow_list.yaml'))).toEqual([{ collection: collection!.name, scope: { global: true } }]);
  });

  it('names an allowed document by its operation, or by its hash when the name is shared or missing', () => {
    const files = hasuraMetadata([], [], {
      'sha256:aa': 'query Same { __typename }',
      'sha256:bb': 'query Same { __schema { queryType { name } } }',
      'sha256:cc': '{ __typename }',
      'sha256:dd': 'mutation Alone { __typename }',
    });
    const [{ definition }] = parse(files.get('query_collections.yaml')!) as [
      { definition: { queries: { name: string }[] } },
    ];
    expect(definition.queries.map((q) => q.name)).toEqual(['Alone', 'sha256_aa', 'sha256_bb', 'sha256_cc']);
    expect(hasuraMetadata([], []).has('allow_list.yaml')).toBe(false);
  });

  it("has the shapes of Hasura's metadata documentation (v3 directory format)", () => {
    expect(parse(read('version.yaml'))).toEqual({ version: 3 });
    // actions.graphql is SDL graphql-js accepts; its Query/Mutation fields are the actions.
    const sdl = buildSchema(read('actions.graphql'));
    const fields = { ...sdl.getQueryType()?.getFields(), ...sdl.getMutationType()?.getFields() };
    const { actions, custom_types: customTypes } = parse(read('actions.yaml')) as {
      actions: { name: string; definition: Record<string, unknown>; permissions?: { role: string }[] }[];
      custom_types: Record<'enums' | 'input_objects' | 'objects' | 'scalars', { name: string }[]>;
    };
    expect(actions.map((a) => a.name).sort()).toEqual(Object.keys(fields).sort());
    expect(actions.map((a) => a.name)).toEqual(
      expect.arrayContaining(['sendNotification', 'sendBulkNotifications', 'syncStripe', 'syncGithub', 'verifyIdme']),
    );
    for (const { definition, permissions } of actions) {
      expect(['synchronous', 'asynchronous']).toContain(definition['kind']);
      expect(definition).toMatchObject({
        handler: '{{PLUGBOARD_URL}}/hasura/actions',
        forward_client_headers: true,
        headers: [{ name: 'x-plugboard-action-secret', value_from_env: 'HASURA_ACTION_SECRET' }],
      });
      for (const permission of permissions ?? []) expect(Object.keys(permission)).toEqual(['role']);
    }
    // Every custom type is listed under its kind, and every listed one is defined.
    const kinds = {
      enums: isEnumType,
      input_objects: isInputObjectType,
      objects: isObjectType,
      scalars: isScalarType,
    } as const;
    const defined = Object.values(sdl.getTypeMap()).filter(
      (type) =>
        !type.name.startsWith('__') &&
        !isSpecifiedScalarType(type as never) &&
        !['Query', 'Mutation'].includes(type.name),
    );
    for (const [kind, test] of Object.entries(kinds)) {
      expect(customTypes[kind as keyof typeof kinds].map((t) => t.name).sort(), kind).toEqual(
        defined
          .filter((type) => test(type))
          .map((type) => type.name)
          .sort(),
      );
    }
    // Tracked tables of the synced schemas.
    const [source] = parse(read('databases/databases.yaml')) as {
      name: string;
      kind: string;
      configuration: { connection_info: { database_url: { from_env: string } } };
      tables: string;
    }[];
    expect(source).toMatchObject({
      name: 'default',
      kind: 'postgres',
      configuration: { connection_info: { database_url: { from_env: 'PLUGBOARD_DATABASE_URL' } } },
      tables: '!include default/tables/tables.yaml',
    });
    const includes = parse(read('databases/default/tables/tables.yaml')) as string[];
    expect(includes).toEqual(
      expect.arrayContaining(['!include stripe_customers.yaml', '!include notifications_requests.yaml']),
    );
    const triggers: Record<string, unknown>[] = [];
    for (const include of includes) {
      const table = parse(read(`databases/default/tables/${include.replace('!include ', '')}`)) as {
        table: { schema: string; name: string };
        event_triggers?: Record<string, unknown>[];
      };
      expect(Object.keys(table.table).sort()).toEqual(['name', 'schema']);
      expect(Object.keys(table).filter((key) => key !== 'table' && key !== 'event_triggers')).toEqual([]);
      triggers.push(...(table.event_triggers ?? []));
    }
    // Event triggers: an operation spec is { columns: '*' | [...] }; the webhook and the secret come from the environment.
    expect(triggers.map((trigger) => trigger['name'])).toContain('notifications_send');
    for (const trigger of triggers) {
      expect(trigger).toEqual({
        name: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
        definition: expect.any(Object),
        retry_conf: {
          num_retries: expect.any(Number),
          interval_sec: expect.any(Number),
          timeout_sec: expect.any(Number),
        },
        webhook: '{{PLUGBOARD_URL}}/hasura/events',
        headers: [{ name: 'x-plugboard-action-secret', value_from_env: 'HASURA_ACTION_SECRET' }],
      });
      const { enable_manual: manual, ...operations } = trigger['definition'] as Record<string, unknown>;
      expect(typeof manual).toBe('boolean');
      expect(Object.keys(operations).length).toBeGreaterThan(0);
      for (const [operation, spec] of Object.entries(operations)) {
        expect(['insert', 'update', 'delete']).toContain(operation);
        expect(spec).toEqual({ columns: '*' });
      }
    }
  });
});
