/**
 * Fault: the gateway's Postgres restarts (a server this test owns, never the machine's) while
 * Stripe webhooks and GraphQL mutations and queries keep arriving. Every answer in the window is
 * a 2xx for what committed or a 503 SERVICE_UNAVAILABLE, /readyz says so, the same gateway
 * process serves again once Postgres is back, and every acknowledged webhook and mutation is
 * applied exactly once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../gateway/db.ts';
import { createLogger } from '../../gateway/logger.ts';
import { type Answer, firstAfter, keepSending, printFigures, watchStatus } from '../support/fault-load.ts';
import { ECHO_API_KEY } from '../support/gateway.ts';
import { type ServingGateway, serveGateway } from '../support/processes.ts';
import { buildCustomer, buildEvent } from '../support/stripe-objects.ts';
import { signedWebhook } from '../support/stripe-server.ts';
import { ADMIN_SECRET, JWT_SECRET } from '../support/tokens.ts';

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const admin = { 'x-hasura-admin-secret': ADMIN_SECRET, 'content-type': 'application/json' };
const WEBHOOK_SENDERS = 4;
const GRAPHQL_SENDERS = 2;

let dataDir: string;
let postgres: EmbeddedPostgresHandle;
let gateway: ServingGateway;
const log = createLogger('warn');

beforeAll(async () => {
  // Under /tmp, which the postgres user can enter when this runs as root.
  dataDir = await mkdtemp(join(tmpdir(), 'plugboard-fault-pg-'));
  postgres = await startEmbeddedPostgres({ dataDir, port: undefined, log });
  gateway = await serveGateway({
    DATABASE_URL: postgres.url,
    PLUGBOARD_PLUGINS: 'stripe,echo',
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    ECHO_API_KEY,
    STRIPE_API_KEY: `sk_test_${randomBytes(12).toString('hex')}`,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    // Nothing listens here: customer.created events are settled without the API.
    STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
    STRIPE_SYNC_INTERVAL: '0',
  });
});

afterAll(async () => {
  await gateway?.stop();
  await postgres?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** A webhook delivery or GraphQL request as the test saw it. */
interface Sent extends Answer {
  /** The event id (webhooks) or message body (mutations). */
  key: string;
  /** The webhook answer's `duplicate`. */
  duplicate?: boolean;
  /** The id a mutation returned. */
  id?: string;
  /** Whether the answer is one of the two allowed: success, or 503 SERVICE_UNAVAILABLE. */
  allowed: boolean;
}

async function deliver(event: { id: string }): Promise<Sent> {
  const { body, headers } = signedWebhook(event, WEBHOOK_SECRET);
  try {
    const response = await fetch(`${gateway.url}/webhooks/stripe`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const json = (await response.json()) as { duplicate?: boolean; errors?: { extensions?: { code?: string } }[] };
    const code = json.errors?.[0]?.extensions?.code;
    return {
      at: Date.now(),
      key: event.id,
      status: response.status,
      code,
      duplicate: json.duplicate,
      allowed: response.status === 200 || (response.status === 503 && code === 'SERVICE_UNAVAILABLE'),
    };
  } catch {
    return { at: Date.now(), key: event.id, status: 0, code: undefined, allowed: false };
  }
}

async function graphql(query: string, key: string): Promise<Sent> {
  try {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ query, variables: { body: key } }),
      signal: AbortSignal.timeout(20_000),
    });
    const json = (await response.json()) as {
      data?: { echo?: { id: string } } | null;
      errors?: { extensions?: { code?: string } }[];
    };
    const code = json.errors?.[0]?.extensions?.code;
    const succeeded = response.status === 200 && !json.errors && json.data != null;
    return {
      at: Date.now(),
      key,
      status: response.status,
      code,
      id: json.data?.echo?.id,
      allowed: succeeded || (response.status === 503 && code === 'SERVICE_UNAVAILABLE' && json.errors!.length > 0),
    };
  } catch {
    return { at: Date.now(), key, status: 0, code: undefined, allowed: false };
  }
}

it('answers 503 SERVICE_UNAVAILABLE while Postgres restarts, serves again without a gateway restart, and loses no acknowledged write', async () => {
  const deliveries: Sent[] = [];
  const operations: Sent[] = [];
  const events = new Map<string, { id: string }>();
  const webhooks = keepSending(WEBHOOK_SENDERS, async () => {
    const event = buildEvent({ type: 'customer.created', object: buildCustomer() });
    events.set(event.id, event);
    deliveries.push(await deliver(event));
  });
  let sequence = 0;
  const requests = keepSending(GRAPHQL_SENDERS, async () => {
    const key = `m-${sequence++}`;
    operations.push(
      await graphql(
        sequence % 2 === 0 ? 'mutation ($body: String!) { echo(body: $body) { id } }' : '{ echoCount }',
        key,
      ),
    );
  });
  const readiness = watchStatus(`${gateway.url}/readyz`);
  const ok = (answers: Sent[], since = 0) => answers.filter((a) => a.at >= since && a.status === 200).length;
  const refused = (answers: Sent[], since: number) => answers.filter((a) => a.at >= since && a.status === 503).length;

  await expect.poll(() => ok(deliveries) >= 50 && ok(operations) >= 20, { timeout: 30_000 }).toBe(true);
  expect(readiness.answers.at(-1)?.status).toBe(200);

  const stopping = Date.now();
  const inFlight = webhooks.inFlight() + requests.inFlight();
  await postgres.stop();
  // Down until the window has shown itself on every path: webhooks, GraphQL and /readyz.
  await expect
    .poll(
      () =>
        refused(deliveries, stopping) >= 10 &&
        refused(operations, stopping) >= 5 &&
        readiness.answers.some((a) => a.at > stopping && a.status === 503),
      { timeout: 30_000 },
    )
    .toBe(true);
  postgres = await startEmbeddedPostgres({ dataDir, port: postgres.port, log });
  const up = Date.now();
  await expect
    .poll(
      () =>
        ok(deliveries, up) >= 50 &&
        ok(operations, up) >= 10 &&
        readiness.answers.some((a) => a.at > up && a.status === 200),
      { timeout: 30_000 },
    )
    .toBe(true);
  await Promise.all([webhooks.stop(), requests.stop(), readiness.stop()]);

  // Every answer was a success or a 503 SERVICE_UNAVAILABLE: no 500, no hang, no reset.
  expect(deliveries.filter((a) => !a.allowed).slice(0, 5)).toEqual([]);
  expect(operations.filter((a) => !a.allowed).slice(0, 5)).toEqual([]);
  // /readyz: 503 while Postgres was away, 200 again after, and never a dropped connection.
  expect(readiness.answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
  // The same process served throughout: it never exited or started again.
  expect(gateway.child.exitCode).toBeNull();
  expect(gateway.output().match(/"msg":"gateway listening"/g)).toHaveLength(1);

  // As Stripe does, deliveries not acknowledged are delivered again; each is taken now.
  const unanswered = [...new Set(deliveries.filter((a) => a.status !== 200).map((a) => a.key))].filter(
    (key) => !deliveries.some((a) => a.key === key && a.status === 200),
  );
  const redelivered = await Promise.all(unanswered.map((key) => deliver(events.get(key)!)));
  expect(redelivered.filter((a) => a.status !== 200)).toEqual([]);
  // Deliveries refused with a 503 whose event had committed after all (the answer was lost).
  const committedUnanswered = redelivered.filter((a) => a.duplicate).length;

  const acknowledged = new Set([...deliveries, ...redelivered].filter((a) => a.status === 200).map((a) => a.key));
  const mutations = operations.filter((a) => a.key && a.id !== undefined);
  const check = new pg.Pool({ connectionString: postgres.url, max: 2 });
  try {
    const applied = async () =>
      (
        await check.query<{ processed: number; customers: number }>(
          `SELECT (SELECT count(*)::int FROM stripe.events WHERE id = ANY($1) AND status = 'processed') AS processed,
                  (SELECT count(*)::int FROM stripe.customers WHERE last_event_id = ANY($1)) AS customers`,
          [[...acknowledged]],
        )
      ).rows[0]!;
    await expect
      .poll(applied, { timeout: 30_000 })
      .toEqual({ processed: acknowledged.size, customers: acknowledged.size });
    const { rows: failed } = await check.query("SELECT id, last_error FROM stripe.events WHERE status = 'failed'");
    expect(failed).toEqual([]);
    const { rows: stored } = await check.query<{ id: string; body: string }>(
      'SELECT id::text, body FROM echo.messages WHERE id = ANY($1::bigint[])',
      [mutations.map((m) => m.id)],
    );
    expect(stored.map((row) => row.body).sort()).toEqual(mutations.map((m) => m.key).sort());
    const { rows: duplicated } = await check.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM (SELECT body FROM echo.messages GROUP BY body HAVING count(*) > 1) d',
    );

    const firstOk = (answers: readonly Answer[]) => firstAfter(answers, up, (a) => a.status === 200)!.at;
    const recoveredAt = Math.max(firstOk(deliveries), firstOk(operations), firstOk(readiness.answers));
    const refusedDuring = refused(deliveries, stopping) + refused(operations, stopping);
    printFigures({
      fault: 'Postgres restart (fast shutdown, restart on the same port)',
      load: `${WEBHOOK_SENDERS} webhook + ${GRAPHQL_SENDERS} GraphQL senders; ${deliveries.length + operations.length} requests, ${refusedDuring} answered 503 in the window (${((up - stopping) / 1000).toFixed(1)} s down)`,
      inFlight,
      acknowledged: acknowledged.size + mutations.length,
      applied: acknowledged.size + stored.length,
      lost: acknowledged.size - (await applied()).processed + mutations.length - stored.length,
      duplicated: duplicated[0]!.n,
      recovery: `${recoveredAt - up} ms (${committedUnanswered} deliveries committed but answered 503, taken as duplicates on redelivery)`,
    });
  } finally {
    await check.end();
  }
});
