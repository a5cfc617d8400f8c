/**
 * Secrets never reach a log or a client. A real `plugboard serve` child runs at LOG_LEVEL=trace
 * with every secret set (admin secret, JWT secret, Stripe key and webhook secret, Hasura action
 * secret, ID.me client secret, SMTP password, http-request signing key, a DATABASE_URL password),
 * and requests that fail in many ways are driven through it, including failures at the providers
 * that hold those secrets. Then no secret, in any encoding, may appear in its output or in any
 * response; nor in the output of start-ups that fail on bad configuration.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startIdmeProvider, type IdmeProvider } from './support/idme-provider.ts';
import { startMailSink, type MailSink } from './support/mail-sink.ts';
import { runCli, serveGateway, type ServingGateway } from './support/processes.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { signToken } from './support/tokens.ts';

const hex = (bytes = 12) => randomBytes(bytes).toString('hex');
const SECRETS = {
  PLUGBOARD_ADMIN_SECRET: `adm-${hex()}`,
  PLUGBOARD_JWT_SECRET: `jwt-${hex(20)}`,
  STRIPE_API_KEY: `sk_test_${hex(16)}`,
  STRIPE_WEBHOOK_SECRET: `whsec_${hex(16)}`,
  HASURA_ACTION_SECRET: `hasura-${hex()}`,
  IDME_CLIENT_SECRET: `idme-${hex()}`,
  SMTP_PASSWORD: `smtp-${hex()}`,
  JOBS_HTTP_SIGNING_SECRET: `sign-${hex()}`,
  DATABASE_PASSWORD: `pg-${hex()}`,
  ECHO_API_KEY: `ek_${hex()}`,
};
/** Every form a secret could be written in: as is, URL-encoded, base64, and SMTP's AUTH PLAIN. */
const forms = (secrets: Record<string, string>): [string, string][] =>
  Object.entries(secrets).flatMap(([name, value]): [string, string][] => [
    [name, value],
    [`${name} (URL-encoded)`, encodeURIComponent(value)],
    [`${name} (base64)`, Buffer.from(value).toString('base64')],
    [`${name} (AUTH PLAIN)`, Buffer.from(`\0mailer\0${value}`).toString('base64')],
  ]);

let db: TestDatabase;
let stripe: StripeServer;
let idme: IdmeProvider;
let mail: MailSink;
let failingTarget: Server;
let gateway: ServingGateway;
/** Everything the gateway answered: status lines, headers and bodies. */
const responses: string[] = [];

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(`${gateway.url}${path}`, init);
  const text = await response.text();
  responses.push(`${response.status} ${JSON.stringify([...response.headers])} ${text}`);
  return { status: response.status, text };
}
const gql = async (query: string, headers: Record<string, string> = {}) =>
  call('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
const admin = () => ({ 'x-hasura-admin-secret': SECRETS.PLUGBOARD_ADMIN_SECRET });
const data = async (query: string, headers: Record<string, string> = admin()) => {
  const { text } = await gql(query, headers);
  const body = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown[] };
  expect(body.errors, text).toBeUndefined();
  return body.data!;
};
const one = async <T>(sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows[0] as T;

/** Opens a graphql-ws socket with these connection params and resolves with its close. */
const socketClose = (params: Record<string, unknown>) =>
  new Promise<string>((resolve, reject) => {
    const socket = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: params })));
    socket.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`));
    socket.on('error', reject);
  });

beforeAll(async () => {
  [db, stripe, idme, mail] = await Promise.all([
    createTestDatabase(),
    startStripeServer(),
    startIdmeProvider(),
    startMailSink({ user: 'mailer', pass: 'the-right-password' }),
  ]);
  // A webhook target that always fails, so http-request (signed with the signing secret) fails.
  failingTarget = createServer((_request, response) => response.writeHead(500).end('no'));
  await new Promise<void>((resolve) => failingTarget.listen(0, '127.0.0.1', resolve));
  const databaseUrl = new URL(db.url);
  databaseUrl.password = SECRETS.DATABASE_PASSWORD; // the test Postgres trusts local connections
  gateway = await serveGateway({
    LOG_LEVEL: 'trace',
    DATABASE_URL: databaseUrl.toString(),
    PLUGBOARD_ADMIN_SECRET: SECRETS.PLUGBOARD_ADMIN_SECRET,
    PLUGBOARD_JWT_SECRET: SECRETS.PLUGBOARD_JWT_SECRET,
    HASURA_ACTION_SECRET: SECRETS.HASURA_ACTION_SECRET,
    ECHO_API_KEY: SECRETS.ECHO_API_KEY,
    // The Stripe stand-in expects its own key, so every API call is refused as Stripe would.
    STRIPE_API_KEY: SECRETS.STRIPE_API_KEY,
    STRIPE_WEBHOOK_SECRET: SECRETS.STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE_URL: stripe.url,
    STRIPE_SYNC_INTERVAL: '0',
    // A client secret the provider does not know: every token exchange fails.
    IDME_CLIENT_ID: idme.clientId,
    IDME_CLIENT_SECRET: SECRETS.IDME_CLIENT_SECRET,
    IDME_REDIRECT_URI: idme.redirectUri,
    IDME_ISSUER_URL: idme.issuer,
    // A password the mail server refuses.
    NOTIFICATIONS_SMTP_URL: `smtp://mailer:${encodeURIComponent(SECRETS.SMTP_PASSWORD)}@127.0.0.1:${mail.port}`,
    JOBS_HTTP_ALLOWED_HOSTS: `127.0.0.1:${(failingTarget.address() as AddressInfo).port}`,
    JOBS_HTTP_SIGNING_SECRET: SECRETS.JOBS_HTTP_SIGNING_SECRET,
    JOBS_RETRY_ATTEMPTS: '1',
  });
}, 120_000);

afterAll(async () => {
  if (gateway && gateway.child.exitCode === null) await gateway.stop('SIGKILL');
  failingTarget?.close();
  await Promise.all([db?.drop(), stripe?.close(), idme?.close(), mail?.close()]);
});

describe('a gateway with every secret set, driven to fail', () => {
  test('bad tokens and admin secrets (HTTP and graphql-ws) are refused', async () => {
    const { PLUGBOARD_ADMIN_SECRET: adminSecret, PLUGBOARD_JWT_SECRET: jwtSecret } = SECRETS;
    const forged = await signToken({ userId: 'u' }, new TextEncoder().encode(`${jwtSecret}-not`));
    const expired = await signToken(
      { userId: 'u', expiresIn: Math.floor(Date.now() / 1000) - 60 },
      new TextEncoder().encode(jwtSecret),
    );
    for (const headers of [
      { authorization: `Bearer ${jwtSecret}` } as Record<string, string>,
      { authorization: `Bearer ${adminSecret}` },
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${expired}` },
      { authorization: `Basic ${Buffer.from(`admin:${adminSecret}`).toString('base64')}` },
      // Near misses hold the real secret inside them: logging the wrong value would leak it.
      { 'x-hasura-admin-secret': `${adminSecret}x` },
      { 'x-hasura-admin-secret': `x${adminSecret}` },
      { 'x-hasura-admin-secret': jwtSecret },
    ]) {
      expect((await gql('{ viewer { role } }', headers)).status, JSON.stringify(headers)).toBe(401);
    }
    for (const params of [
      { 'x-hasura-admin-secret': `${adminSecret}x` },
      { headers: { Authorization: `Bearer ${jwtSecret}` } },
    ]) {
      const closed = await socketClose(params);
      responses.push(closed);
      expect(closed).toMatch(/^4403 /);
    }
    expect(
      (
        await call('/admin/queues', {
          headers: { authorization: `Basic ${Buffer.from(`admin:${adminSecret}x`).toString('base64')}` },
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);
  });

  test('bad Hasura secrets are refused', async () => {
    const body = JSON.stringify({
      action: { name: 'sendNotification' },
      input: {},
      session_variables: { 'x-hasura-role': 'admin' },
    });
    for (const path of ['/hasura/actions', '/hasura/events']) {
      for (const secret of [
        `${SECRETS.HASURA_ACTION_SECRET}x`,
        SECRETS.HASURA_ACTION_SECRET.slice(0, -1),
        SECRETS.PLUGBOARD_ADMIN_SECRET,
      ]) {
        expect(
          (
            await call(path, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-plugboard-action-secret': secret },
              body,
            })
          ).status,
        ).toBe(401);
      }
    }
  });

  test('bad webhooks are refused', async () => {
    const sdk = new Stripe('sk_test_unused');
    const payload = JSON.stringify({
      id: `evt_${hex(8)}`,
      object: 'event',
      type: 'customer.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `cus_${hex(6)}`, object: 'customer' } },
    });
    const signatures = [
      sdk.webhooks.generateTestHeaderString({ payload, secret: `${SECRETS.STRIPE_WEBHOOK_SECRET}x` }),
      sdk.webhooks.generateTestHeaderString({
        payload,
        secret: SECRETS.STRIPE_WEBHOOK_SECRET,
        timestamp: Math.floor(Date.now() / 1000) - 86_400,
      }),
      SECRETS.STRIPE_WEBHOOK_SECRET,
      `t=1,v1=${SECRETS.STRIPE_WEBHOOK_SECRET}`,
    ];
    for (const signature of signatures) {
      const { status } = await call('/webhooks/stripe', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
      expect(status).toBe(400);
    }
    const broken = sdk.webhooks.generateTestHeaderString({ payload: '{"id": ', secret: SECRETS.STRIPE_WEBHOOK_SECRET });
    expect(
      (
        await call('/webhooks/stripe', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'stripe-signature': broken },
          body: '{"id": ',
        })
      ).status,
    ).toBe(400);
  });

  test('the providers holding secrets refuse them: Stripe, ID.me, SMTP, a signed http-request', async () => {
    // Stripe answers 401 to the gateway's key.
    const { syncStripe } = (await data('mutation { syncStripe(resources: ["customers"]) { id } }')) as {
      syncStripe: { id: string };
    };
    await expect
      .poll(
        async () =>
          (await one<{ status: string }>('SELECT status FROM stripe.sync_runs WHERE id = $1', [syncStripe.id])).status,
        { timeout: 20_000 },
      )
      .toBe('failed');
    await data(`{ stripeSyncRun(id: "${syncStripe.id}") { status error } }`);

    // ID.me refuses the client secret at the token exchange.
    idme.addAccount({
      sub: 'idme-secret-1',
      email: 'ida@example.test',
      given_name: 'Ida',
      family_name: 'Lane',
      status: [{ group: 'teacher', subgroups: [], verified: true }],
      attributes: [],
    });
    idme.signInAs('idme-secret-1');
    const user = {
      authorization: `Bearer ${await signToken({ userId: 'ida' }, new TextEncoder().encode(SECRETS.PLUGBOARD_JWT_SECRET))}`,
    };
    const { idmeAuthorizationUrl } = (await data(
      'mutation { idmeAuthorizationUrl(groups: [TEACHER]) { url } }',
      user,
    )) as { idmeAuthorizationUrl: { url: string } };
    const back = await idme.authorize(idmeAuthorizationUrl.url);
    const verified = JSON.parse(
      (
        await gql(
          `mutation { verifyIdme(code: "${back.searchParams.get('code')}", state: "${back.searchParams.get('state')}") { verified } }`,
          user,
        )
      ).text,
    ) as { errors?: { extensions: { code: string } }[] };
    expect(verified.errors?.[0]?.extensions.code).toMatch(/^IDME_/);

    // The mail server refuses the SMTP password.
    await data(
      'mutation { createNotificationTemplate(input: { name: "hello", subject: "Hello", body: "Hi {{ name }}" }) { version } }',
    );
    await data('mutation { setNotificationRecipient(userId: "mia", email: "mia@example.com") { email } }');
    await data(
      'mutation { sendNotification(userId: "mia", template: "hello", data: { name: "Mia" }, channels: [EMAIL]) { duplicate } }',
    );
    await expect
      .poll(
        async () =>
          (
            await one<{ n: number }>(
              "SELECT count(*)::int AS n FROM notifications.notifications WHERE user_id = 'mia' AND attempts > 0",
            )
          ).n,
        { timeout: 20_000 },
      )
      .toBe(1);

    // A signed http-request to a target that fails.
    const port = (failingTarget.address() as AddressInfo).port;
    const { enqueueJob } = (await data(
      `mutation { enqueueJob(type: "http-request", payload: { url: "http://127.0.0.1:${port}/hook", method: "POST", body: { a: 1 } }) { id } }`,
    )) as { enqueueJob: { id: string } };
    await expect
      .poll(
        async () =>
          (
            await one<{ n: number }>('SELECT count(*)::int AS n FROM jobs.job_failures WHERE job_id = $1', [
              enqueueJob.id,
            ])
          ).n,
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
  });

  test('what admins and operators may read shows no secret', async () => {
    await data('{ plugins { name config { key value isSet } } }');
    await data('{ webhookEvents(plugin: "stripe") { edges { node { id lastError } } } }');
    await gql('{ echoFail }', admin());
    for (const path of ['/readyz', '/healthz', '/metrics', '/nope']) await call(path);
  });

  test('no secret appears in the logs, even on shutdown, or in any response', async () => {
    expect(await gateway.stop('SIGTERM')).toBe(0);
    const output = gateway.output();
    expect(output).toMatch(/"level":10|"level":20/); // trace and debug lines were written
    // The failures at the providers were logged, with their errors: the paths that could leak ran.
    expect(output).toMatch(/"msg":"stripe sync failed"/);
    expect(output).toMatch(/Invalid API Key provided: sk_test_\*+/);
    expect(output).toMatch(/smtp: Invalid login: 535/);
    expect(responses.length).toBeGreaterThan(30);
    for (const [name, value] of forms(SECRETS)) {
      expect(output.includes(value), `${name} in the gateway's output`).toBe(false);
      expect(
        responses.filter((response) => response.includes(value)),
        `${name} in a response`,
      ).toEqual([]);
    }
  });
});

describe('start-ups that fail on configuration', () => {
  const pgPassword = `pg-${hex()}`;
  test.each<[string, string, Record<string, string>, string]>([
    ['a too-short JWT secret', 'PLUGBOARD_JWT_SECRET', {}, `short-${hex(4)}`],
    ['a too-short admin secret', 'PLUGBOARD_ADMIN_SECRET', {}, `adm-${hex(2)}`],
    ['a malformed Stripe key', 'STRIPE_API_KEY', { STRIPE_WEBHOOK_SECRET: `whsec_${hex(16)}` }, `sk_live-${hex()}!`],
    ['a malformed webhook secret', 'STRIPE_WEBHOOK_SECRET', { STRIPE_API_KEY: `sk_test_${hex(16)}` }, `wh-${hex()}!`],
    ['a malformed Hasura secret', 'HASURA_ACTION_SECRET', {}, `h${hex(3)}`],
    ['a malformed DATABASE_URL (its password)', 'DATABASE_URL', {}, `mysql://root:${pgPassword}@127.0.0.1/x`],
  ])('%s: names %s, never its value', async (_name, variable, env, value) => {
    const run = await runCli(['serve'], {
      LOG_LEVEL: 'trace',
      PORT: '0',
      DATABASE_URL: db.url,
      ...env,
      [variable]: value,
    });
    const output = run.stdout + run.stderr;
    expect(run.code, output).not.toBe(0);
    expect(output).toContain(variable);
    const secret = variable === 'DATABASE_URL' ? pgPassword : value;
    for (const [name, form] of forms({ [variable]: secret }))
      expect(output.includes(form), `${name} in the output`).toBe(false);
  });

  test('an unreachable DATABASE_URL stops start-up without printing its password', async () => {
    const password = `pg-${hex()}`;
    const run = await runCli(['serve'], {
      LOG_LEVEL: 'trace',
      PORT: '0',
      DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:9/nowhere`,
      PLUGBOARD_PLUGINS: 'core',
    });
    const output = run.stdout + run.stderr;
    expect(run.code, output).not.toBe(0);
    for (const [name, value] of forms({ password }))
      expect(output.includes(value), `${name} in the output`).toBe(false);
  });
});
