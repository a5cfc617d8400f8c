/**
 * OpenTelemetry tracing end to end: real gateways (bin/plugboard.js in child processes, so the
 * instrumentations load before pg, ioredis and http) export over OTLP/HTTP to a local receiver.
 * One trace follows a mutation from the client's traceparent through GraphQL and SQL to the job
 * it enqueues and the email that job sends over SMTP, on both queue adapters; a Stripe webhook's
 * trace goes from receipt to apply to the fan-out. A gateway without an endpoint exports nothing,
 * and no span anywhere carries a variable's value or a secret.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createClient } from 'graphql-ws';
import Stripe from 'stripe';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from './support/cluster.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startMailSink, type MailSink } from './support/mail-sink.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';
import { serveGateway, type ServingGateway } from './support/processes.ts';
import {
  dropDatabaseErrorMessages,
  TRACING_ERROR_INTERVAL_MS,
  tracingErrorReporter,
  tracingLogLevel,
} from '../gateway/tracing-sdk.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from './support/tokens.ts';

const BIN = fileURLToPath(new URL('../bin/plugboard.js', import.meta.url));
const REDIS_URL = inject('redisUrl');
/** The OTLP/HTTP default endpoint: where the SDK would export if it ran without an endpoint set. */
const DEFAULT_OTLP_PORT = 4318;
const SMTP_PASSWORD = `smtp-pw-${randomBytes(6).toString('hex')}`;
const ACTION_SECRET = `action-${randomBytes(12).toString('hex')}`;
const STRIPE_WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
/** A variable value each traced request sends; no attribute may hold it. */
const VARIABLE_VALUE = `zebra-${randomBytes(6).toString('hex')}`;
const RECIPIENT = `${VARIABLE_VALUE}@example.test`;

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

let db: TestDatabase;
let mail: MailSink;
let receiver: OtlpReceiver;
let traced: ServingGateway;
let tracedOnRedis: ServingGateway | undefined;
let untraced: ServingGateway;
let userToken: string;

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
};

async function gql(
  gateway: ServingGateway,
  query: string,
  variables: Record<string, unknown>,
  traceparent: string,
): Promise<{ data?: Record<string, unknown>; errors?: { message: string }[] }> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hasura-admin-secret': ADMIN_SECRET,
      // Not needed by the admin, sent so that a recorded header would show up in the scan below.
      'x-plugboard-user-token': userToken,
      traceparent,
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
}

const SEND = `mutation SendTraced($user: ID!, $data: JSON) {
  sendNotification(userId: $user, template: "traced", data: $data, channels: [EMAIL]) { notificationIds }
}`;

const spansOf = (traceId: string) => receiver.spans.filter((span) => span.traceId === traceId);
const parentOf = (span: ReceivedSpan) => receiver.spans.find((s) => s.spanId === span.parentSpanId);
function isUnder(span: ReceivedSpan, ancestor: ReceivedSpan): boolean {
  for (let at = parentOf(span); at; at = parentOf(at)) if (at.spanId === ancestor.spanId) return true;
  return false;
}
function one(spans: ReceivedSpan[], where: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(where);
  expect(found, `${what} among ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0]!;
}

/**
 * Sends the notification with a client traceparent and checks its one trace: HTTP → GraphQL
 * operation → root field → SQL and enqueue → the job's run → SMTP.
 */
async function expectEmailTrace(gateway: ServingGateway, userId: string, queueSpans: (span: ReceivedSpan) => boolean) {
  const client = newTraceparent();
  const before = mail.messages.length;
  const sent = await gql(gateway, SEND, { user: userId, data: { word: VARIABLE_VALUE } }, client.header);
  expect(sent.errors).toBeUndefined();
  await expect.poll(() => mail.messages.length, { timeout: 10_000 }).toBe(before + 1);
  // The job's span ends after the SMTP span: once it has arrived, the whole trace has.
  await expect.poll(() => spansOf(client.traceId).some((s) => s.kind === CONSUMER), { timeout: 10_000 }).toBe(true);
  const spans = spansOf(client.traceId);

  const http = one(spans, (s) => s.kind === SERVER && s.parentSpanId === client.spanId, 'the HTTP server span');
  expect(http.service).toBe('plugboard');
  // The peer's address is read when the connection opens (for every socket), not per request.
  expect(http.attributes).toMatchObject({
    'http.request.method': 'POST',
    'url.path': '/graphql',
    'network.peer.address': '127.0.0.1',
    'http.response.status_code': 200,
  });
  const operation = one(spans, (s) => s.name === 'mutation SendTraced', 'the operation span');
  expect(operation.parentSpanId).toBe(http.spanId);
  expect(operation.attributes).toMatchObject({
    'graphql.operation.type': 'mutation',
    'graphql.operation.name': 'SendTraced',
  });
  for (const phase of ['graphql.parse', 'graphql.validate'])
    expect(one(spans, (s) => s.name === phase, phase).parentSpanId).toBe(http.spanId);
  const field = one(spans, (s) => s.name === 'Mutation.sendNotification', 'the root field span');
  expect(field.parentSpanId).toBe(operation.spanId);
  const sql = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql' && isUnder(s, field));
  expect(sql.length).toBeGreaterThan(0);
  expect(sql.every((s) => typeof s.attributes['db.query.text'] === 'string')).toBe(true);

  const enqueue = one(spans, (s) => s.kind === PRODUCER && s.name === 'enqueue notifications', 'the enqueue span');
  expect(isUnder(enqueue, field)).toBe(true);
  expect(spans.filter((s) => isUnder(s, enqueue)).some(queueSpans)).toBe(true);
  const job = one(spans, (s) => s.kind === CONSUMER, 'the job span');
  expect(job.name).toBe('job notifications deliver');
  expect(job.parentSpanId).toBe(enqueue.spanId);
  const smtp = one(spans, (s) => s.name === 'smtp send', 'the SMTP span');
  expect(smtp.kind).toBe(CLIENT);
  expect(smtp.parentSpanId).toBe(job.spanId);
  expect(smtp.attributes['server.port']).toBe(mail.port);
}

beforeAll(async () => {
  [db, mail, receiver] = await Promise.all([
    createTestDatabase(),
    startMailSink({ user: 'mailer', pass: SMTP_PASSWORD }),
    startOtlpReceiver({ port: DEFAULT_OTLP_PORT }),
  ]);
  userToken = await signToken({ userId: 'reader' });
  const env = {
    DATABASE_URL: db.url,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_DOCUMENTS: 'any',
    HASURA_ACTION_SECRET: ACTION_SECRET,
    NOTIFICATIONS_SMTP_URL: mail.url,
    NOTIFICATIONS_EMAIL_FROM: 'Plugboard <no-reply@plugboard.test>',
    STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
    STRIPE_WEBHOOK_SECRET,
    // Nothing listens here: applying these events needs no API call.
    STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
    STRIPE_SYNC_INTERVAL: '0',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://localhost:${DEFAULT_OTLP_PORT}` };
  [traced, tracedOnRedis, untraced] = await Promise.all([
    serveGateway({ ...env, ...tracing }, 60_000, { cli: BIN }),
    // BullMQ and the Redis pubsub, on a Redis database of their own (the queue is named as in other tests).
    REDIS_URL
      ? serveGateway(
          { ...env, ...tracing, REDIS_URL: `${REDIS_URL.replace(/\/\d*$/, '')}/${randomInt(1, 16)}` },
          60_000,
          { cli: BIN },
        )
      : undefined,
    // Everything but the endpoint; its jobs would run on the others' workers, so it runs none.
    serveGateway({ ...env, OTEL_SERVICE_NAME: 'plugboard-untraced', PLUGBOARD_WORKERS: 'false' }, 60_000, {
      cli: BIN,
    }),
  ]);
  const setUp = await gql(
    traced,
    `mutation($email: String) {
      t: createNotificationTemplate(input: { name: "traced", subject: "Traced {{ word }}", body: "Body {{ word }}" }) { version }
      r: setNotificationRecipient(userId: "traced-user", email: $email) { userId }
    }`,
    { email: RECIPIENT },
    newTraceparent().header,
  );
  expect(setUp.errors).toBeUndefined();
}, 90_000);

afterAll(async () => {
  await Promise.all([traced?.stop(), tracedOnRedis?.stop(), untraced?.stop()]);
  await Promise.all([db?.drop(), mail?.close(), receiver?.close()]);
});

describe('tracing (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('follows a mutation to its job and the email it sends in one trace (Postgres queue)', async () => {
    await expectEmailTrace(traced, 'traced-user', (s) => s.attributes['db.system.name'] === 'postgresql');
  });

  it.skipIf(!REDIS_URL && !process.env['CI'])(
    'follows it on BullMQ too, with Redis commands named but no keys or values',
    async () => {
      await expectEmailTrace(tracedOnRedis!, 'traced-user', (s) => s.attributes['db.system.name'] === 'redis');
      const commands = receiver.spans.filter((s) => s.attributes['db.system.name'] === 'redis');
      for (const span of commands) expect(span.attributes['db.query.text']).toMatch(/^[a-z]+$/);
    },
  );

  it('traces a webhook from receipt through apply to the fan-out to subscriptions', async () => {
    const client = newTraceparent();
    const customerId = `cus_${randomBytes(8).toString('hex')}`;
    const payload = JSON.stringify({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: customerId,
          object: 'customer',
          created: 1_700_000_000,
          email: RECIPIENT,
          name: 'Jenny Rosen',
          balance: 0,
          currency: 'usd',
          delinquent: false,
          livemode: false,
          metadata: {},
        },
      },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type: 'customer.created',
    });
    const signature = new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
      payload,
      secret: STRIPE_WEBHOOK_SECRET,
    });
    const response = await fetch(`${traced.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature, traceparent: client.header },
      body: payload,
    });
    expect(response.status).toBe(200);
    await expect
      .poll(() => spansOf(client.traceId).some((s) => s.name === 'webhook stripe apply'), { timeout: 10_000 })
      .toBe(true);
    const spans = spansOf(client.traceId);
    const http = one(spans, (s) => s.kind === SERVER, 'the HTTP server span');
    expect(http.parentSpanId).toBe(client.spanId);
    const receipt = one(spans, (s) => s.name === 'webhook stripe receive', 'the receipt span');
    expect(receipt.parentSpanId).toBe(http.spanId);
    const apply = one(spans, (s) => s.name === 'webhook stripe apply', 'the apply span');
    expect(isUnder(apply, receipt)).toBe(true);
    expect(spans.some((s) => s.attributes['db.system.name'] === 'postgresql' && isUnder(s, apply))).toBe(true);
    const fanOut = one(spans, (s) => s.name === 'publish webhook.events', 'the publish span');
    expect(fanOut.parentSpanId).toBe(apply.spanId);
    expect(fanOut.kind).toBe(PRODUCER);
  });

  it('gives a root field a span only when its resolver does I/O', async () => {
    const client = newTraceparent();
    const read = await gql(traced, 'query Memory { viewer { role } plugins { name } }', {}, client.header);
    expect(read.errors).toBeUndefined();
    await expect.poll(() => spansOf(client.traceId).some((s) => s.name === 'query Memory')).toBe(true);
    // Both answer from memory: the operation's span has no field spans under it.
    const operation = one(spansOf(client.traceId), (s) => s.name === 'query Memory', 'the operation span');
    expect(spansOf(client.traceId).filter((s) => s.parentSpanId === operation.spanId)).toEqual([]);
  });

  it('marks an operation that fails as failed, counting its errors without their messages', async () => {
    const client = newTraceparent();
    const failing = 'mutation Failing($type: String!) { enqueueJob(type: $type) { id } }';
    const failed = await gql(traced, failing, { type: VARIABLE_VALUE }, client.header);
    expect(failed.errors).toHaveLength(1);
    await expect.poll(() => spansOf(client.traceId).some((s) => s.name === 'mutation Failing')).toBe(true);
    const operation = one(spansOf(client.traceId), (s) => s.name === 'mutation Failing', 'the operation span');
    expect(operation.status).toBe(2);
    expect(operation.attributes['graphql.error.count']).toBe(1);
    expect(JSON.stringify(spansOf(client.traceId))).not.toContain(VARIABLE_VALUE);
  });

  it("traces a Hasura action under Hasura's traceparent, and a graphql-ws operation as a trace of its own", async () => {
    const hasura = newTraceparent();
    const response = await fetch(`${traced.url}/hasura/actions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-plugboard-action-secret': ACTION_SECRET,
        traceparent: hasura.header,
      },
      body: JSON.stringify({
        action: { name: 'markNotificationsRead' },
        input: { all: true },
        session_variables: { 'x-hasura-role': 'user', 'x-hasura-user-id': 'traced-user' },
        request_query: 'mutation { markNotificationsRead }',
      }),
    });
    expect(response.status).toBe(200);
    const actionName = 'mutation markNotificationsReadAction';
    await expect.poll(() => spansOf(hasura.traceId).some((s) => s.name === actionName)).toBe(true);
    const request = one(spansOf(hasura.traceId), (s) => s.kind === SERVER, 'the request span');
    expect(request.parentSpanId).toBe(hasura.spanId);
    expect(one(spansOf(hasura.traceId), (s) => s.name === actionName, 'the action').parentSpanId).toBe(request.spanId);

    const client = createClient({
      url: `${traced.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${userToken}` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) =>
        client.subscribe(
          { query: 'query OverSocket { viewer { role } }' },
          { next: resolve, error: reject, complete: () => {} },
        ),
      );
      expect(result).toEqual({ data: { viewer: { role: 'user' } } });
    } finally {
      await client.dispose();
    }
    await expect.poll(() => receiver.spans.some((s) => s.name === 'query OverSocket')).toBe(true);
    expect(one(receiver.spans, (s) => s.name === 'query OverSocket', 'the socket operation').parentSpanId).toBe('');
  });

  it('writes trace_id and span_id beside reqId on log lines inside a sampled span', async () => {
    const client = newTraceparent();
    // A template that exists already: the refusal is logged (a warning) while the request is traced.
    const again = await gql(
      traced,
      'mutation { createNotificationTemplate(input: { name: "traced", subject: "s", body: "b" }) { version } }',
      {},
      client.header,
    );
    expect(again.errors?.[0]?.message).toMatch(/exists/);
    const traceLine = () =>
      traced
        .output()
        .split('\n')
        .find((l) => l.includes(`"trace_id":"${client.traceId}"`));
    await expect.poll(traceLine).toBeDefined();
    const entry = JSON.parse(traceLine()!) as { reqId?: string; span_id?: string };
    expect(entry.reqId).toEqual(expect.any(String));
    await expect.poll(() => spansOf(client.traceId).map((s) => s.spanId)).toContain(entry.span_id);
  });
});

describe('tracing off (no endpoint)', () => {
  it('exports nothing and loads no SDK, though the receiver listens where the SDK would default to', async () => {
    const client = newTraceparent();
    const sent = await gql(
      untraced,
      'mutation($email: String) { setNotificationRecipient(userId: "untraced-user", email: $email) { userId } }',
      { email: RECIPIENT },
      client.header,
    );
    expect(sent.errors).toBeUndefined();
    // A traced gateway flushes its spans when it stops (and the traced gateway's spans arriving
    // at this same address are the positive control): once this one has exited, it has sent all it would.
    expect(await untraced.stop()).toBe(0);
    expect(receiver.spans.filter((s) => s.service === 'plugboard-untraced' || s.traceId === client.traceId)).toEqual(
      [],
    );
    expect(untraced.output()).not.toContain('trace_id');
  });
});

describe('configuration', () => {
  it('refuses a sampling ratio that is no number from 0 to 1, naming the variable', async () => {
    const started = spawnSync(process.execPath, [BIN, 'serve'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '10%',
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(started.status).toBe(2);
    expect(started.stderr).toMatch(/OTEL_TRACES_SAMPLER_ARG.*from 0 to 1.*"10%"/);
  });
});

describe('tracing failures', () => {
  it('are warnings: the first at once, then at most one an interval, counting those in between', () => {
    let now = 1_000_000;
    const lines: [number, string][] = [];
    const report = tracingErrorReporter(
      ({ suppressed }, message) => lines.push([suppressed, message]),
      () => now,
    );
    report(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    report(new Error('connect ECONNREFUSED 127.0.0.1:4318'));
    now += TRACING_ERROR_INTERVAL_MS - 1;
    report('Timeout');
    now += 1;
    report('Timeout');
    expect(lines).toEqual([
      [0, 'Tracing failed: connect ECONNREFUSED 127.0.0.1:4318'],
      [2, 'Tracing failed: Timeout'],
    ]);
  });

  it.each([
    [undefined, 'warn'],
    ['info', 'info'],
    ['error', 'error'],
    ['silent', 'silent'],
    ['loud', 'warn'],
    ['constructor', 'warn'],
  ])('are logged at LOG_LEVEL=%s as at %s', (level, expected) => {
    expect(tracingLogLevel(level === undefined ? {} : { LOG_LEVEL: level })).toBe(expected);
  });

  const unreachableCollector = (env: Record<string, string> = {}) =>
    serveGateway(
      {
        DATABASE_URL: db.url,
        PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
        PLUGBOARD_DOCUMENTS: 'any',
        // The discard port: nothing listens there (a closed receiver's port could be taken again).
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        ...env,
      },
      60_000,
      { cli: BIN },
    );
  const query = async (gateway: ServingGateway) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    expect(response.status).toBe(200);
  };

  it('a collector that cannot be reached is logged, once, and the gateway answers and stops cleanly', async () => {
    const gateway = await unreachableCollector();
    for (let i = 0; i < 3; i++) await query(gateway);
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toMatch(/Tracing failed: .*ECONNREFUSED/);
    // The spans still buffered at the end fail too: reported (or counted), not thrown at exit.
    expect(await gateway.stop()).toBe(0);
    expect(gateway.output().match(/Tracing failed/g)).toHaveLength(1);
    expect(gateway.output()).not.toMatch(/\n\s+at /);
  });

  it('spans that cannot be sent at exit do not hold the process, and LOG_LEVEL=error quiets the failure', async () => {
    const gateway = await unreachableCollector({
      LOG_LEVEL: 'error',
      // Its own port: at `error` the gateway does not log where it listens.
      PORT: String(await freePort()),
      // The request's spans are still buffered at SIGTERM: the flush at exit is the export that fails.
      OTEL_BSP_SCHEDULE_DELAY: '60000',
    });
    await query(gateway);
    const stopped = await Promise.race([
      gateway.stop(),
      new Promise((resolve) => setTimeout(() => resolve('still running 15 s after SIGTERM'), 15_000).unref()),
    ]);
    if (stopped !== 0) gateway.child.kill('SIGKILL');
    expect(stopped, gateway.output()).toBe(0);
    expect(gateway.output()).not.toMatch(/Tracing failed/);
  });
});

describe('sampling', () => {
  it("at a ratio of 0 records no request that starts a trace, and follows a client's sampled one", async () => {
    const gateway = await serveGateway(
      {
        DATABASE_URL: db.url,
        PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
        PLUGBOARD_DOCUMENTS: 'any',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'plugboard-ratio-zero',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      60_000,
      { cli: BIN },
    );
    const ask = (headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      }).then((response) => response.json());
    for (let i = 0; i < 5; i++) await ask();
    const client = newTraceparent();
    await ask({ traceparent: client.header });
    // Spans are flushed when the gateway stops.
    expect(await gateway.stop()).toBe(0);
    const spans = receiver.spans.filter((span) => span.service === 'plugboard-ratio-zero');
    expect(spans.map((span) => span.name)).toContain('POST');
    expect(spans.filter((span) => span.traceId !== client.traceId)).toEqual([]);
  });
});

describe('database spans', () => {
  it("lose a failed statement's error message (it may quote a value), keeping the error status", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      spanProcessors: [dropDatabaseErrorMessages, new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('test');
    const message = `invalid input syntax for type integer: "${VARIABLE_VALUE}"`;
    for (const [name, attributes] of [
      ['SELECT', { 'db.system.name': 'postgresql' }],
      ['get', { 'db.system': 'redis' }],
      ['render', {}],
    ] as const) {
      const span = tracer.startSpan(name, { attributes });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      span.end();
    }
    const statuses = Object.fromEntries(exporter.getFinishedSpans().map((span) => [span.name, span.status]));
    expect(statuses).toEqual({
      SELECT: { code: SpanStatusCode.ERROR },
      get: { code: SpanStatusCode.ERROR },
      render: { code: SpanStatusCode.ERROR, message },
    });
    await provider.shutdown();
  });
});

describe('what spans never carry', () => {
  it('holds no variable value, token or secret in any span name or attribute', () => {
    expect(receiver.spans.length).toBeGreaterThan(20);
    const secrets = [VARIABLE_VALUE, ADMIN_SECRET, userToken, SMTP_PASSWORD, STRIPE_WEBHOOK_SECRET, 'Body zebra'];
    for (const span of receiver.spans) {
      const text = JSON.stringify([span.name, span.attributes]);
      for (const secret of secrets) expect(text, `${span.name} holds ${secret}`).not.toContain(secret);
    }
  });
});
