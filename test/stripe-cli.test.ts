/**
 * `plugboard stripe …` and `plugboard webhooks …` as real child processes against the local
 * Stripe stand-in and a gateway: check --fix, a backfill killed mid-run and resumed, webhook
 * test/status, dead letters listed and replayed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli, spawnCli } from './support/processes.ts';
import { startStripeServer, type StripeObject, type StripeServer } from './support/stripe-server.ts';

let db: TestDatabase;
let stripe: StripeServer;
let gateway: TestGateway;
let env: Record<string, string>;
const secret = `whsec_${randomBytes(16).toString('hex')}`;

const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await db.pool.query(text, params)).rows as T[];

/** The check table's counts for one resource: api, database, missing, stale, extra (and fixed). */
function countsOf(stdout: string, resource: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(`${resource} `));
  if (!line) throw new Error(`no row for ${resource} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}

beforeAll(async () => {
  db = await createTestDatabase();
  stripe = await startStripeServer();
  env = {
    DATABASE_URL: db.url,
    STRIPE_API_KEY: stripe.apiKey,
    STRIPE_WEBHOOK_SECRET: secret,
    STRIPE_API_BASE_URL: stripe.url,
    STRIPE_SYNC_INTERVAL: '0',
    STRIPE_WEBHOOK_MAX_ATTEMPTS: '1',
  };
  gateway = await startTestGateway({ databaseUrl: db.url, env });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await stripe?.close();
  await db?.drop();
});

describe('plugboard stripe check', () => {
  it('reports missing, stale and extra rows, repairs them with --fix, and then finds none', async () => {
    const products = stripe.seed('product', 2);
    const prices = products.map((product) => stripe.create('price', { product: product.id, type: 'recurring' }).object);
    const customers = stripe.seed('customer', 30);
    const subscriptions = customers
      .slice(0, 5)
      .map((customer, i) => stripe.create('subscription', { customer: customer.id, price: prices[i % 2] }).object);
    const backfill = await runCli(['stripe', 'backfill'], env);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stdout).toMatch(/backfill completed/);
    // Progress, piped: JSON lines on stderr.
    expect(backfill.stderr).toMatch(/^\{"resource":"customers","synced":30,"done":true\}$/m);
    const clean = await runCli(['stripe', 'check'], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/in step with Stripe/);

    // Drift: a changed row, a lost row, a row wrongly deleted, an item lost, a row Stripe never had,
    // and a customer deleted in Stripe whose webhook never came.
    await sql(`UPDATE stripe.customers SET data = jsonb_set(data, '{email}', '"evil@example.com"') WHERE id = $1`, [
      customers[0]!.id,
    ]);
    await sql('DELETE FROM stripe.prices WHERE id = $1', [prices[0]!.id]);
    await sql('UPDATE stripe.products SET is_deleted = true WHERE id = $1', [products[1]!.id]);
    const item = (subscriptions[0]!.items as { data: StripeObject[] }).data[0]!;
    await sql('DELETE FROM stripe.subscription_items WHERE id = $1', [item.id]);
    await sql(
      `INSERT INTO stripe.customers (id, data, stripe_at) VALUES ('cus_neverinstripe', '{"id":"cus_neverinstripe","object":"customer","created":1700000000}', now())`,
    );
    stripe.remove('customer', customers[29]!.id);

    const found = await runCli(['stripe', 'check'], env);
    expect(found.code).toBe(1);
    expect(found.stderr).toMatch(/6 rows differ from Stripe; `plugboard stripe check --fix` repairs them/);
    expect(countsOf(found.stdout, 'customers')).toEqual([29, 31, 0, 1, 2]);
    expect(countsOf(found.stdout, 'prices').slice(2)).toEqual([1, 0, 0]);
    expect(countsOf(found.stdout, 'products').slice(2)).toEqual([1, 0, 0]);
    expect(countsOf(found.stdout, 'subscription_items').slice(2)).toEqual([1, 0, 0]);
    expect(countsOf(found.stdout, 'invoices').slice(2)).toEqual([0, 0, 0]);

    const fixed = await runCli(['stripe', 'check', '--fix'], env);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/fixed 6 of 6 rows/);
    expect(countsOf(fixed.stdout, 'customers')).toEqual([29, 29, 0, 1, 2, 3]);

    expect(
      (await sql<{ email: string }>('SELECT email FROM stripe.customers WHERE id = $1', [customers[0]!.id]))[0]!.email,
    ).toBe(customers[0]!.email);
    expect(await sql('SELECT id FROM stripe.prices WHERE id = $1 AND NOT is_deleted', [prices[0]!.id])).toHaveLength(1);
    expect(
      await sql('SELECT id FROM stripe.products WHERE id = $1 AND NOT is_deleted', [products[1]!.id]),
    ).toHaveLength(1);
    expect(
      await sql('SELECT id FROM stripe.subscription_items WHERE id = $1 AND NOT is_deleted', [item.id]),
    ).toHaveLength(1);
    const deleted = await sql<{ id: string }>('SELECT id FROM stripe.customers WHERE is_deleted ORDER BY id');
    expect(deleted.map((row) => row.id).sort()).toEqual(['cus_neverinstripe', customers[29]!.id].sort());

    const again = await runCli(['stripe', 'check'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/in step with Stripe/);

    const badResource = await runCli(['stripe', 'check', '--resource', 'coupons'], env);
    expect(badResource.code).toBe(2);
    expect(badResource.stderr).toMatch(/Unknown resource coupons; known: customers/);
  });
});

describe('plugboard stripe backfill', () => {
  it('continues after being killed (SIGKILL) mid-run from its last checkpoint, without duplicates', async () => {
    stripe.seed('customer', 1500);
    const total = stripe.count('customer');
    const pages = Math.ceil(total / 100);
    const [{ synced: before }] = (await sql<{ synced: string }>(
      "SELECT coalesce(max(objects_synced), 0) AS synced FROM stripe.sync_state WHERE resource = 'customers'",
    )) as [{ synced: string }];
    stripe.setLatency(60);
    const child = spawnCli(['stripe', 'backfill', '--resource', 'customers'], env);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await expect
        .poll(
          async () => {
            const [state] = await sql<{ synced: string }>(
              "SELECT objects_synced AS synced FROM stripe.sync_state WHERE resource = 'customers' AND status = 'running'",
            );
            return state ? Number(state.synced) - Number(before) : 0;
          },
          { timeout: 30_000, message: 'the backfill made no progress' },
        )
        .toBeGreaterThanOrEqual(400);
    } finally {
      child.kill('SIGKILL');
      await exited;
      stripe.setLatency(0);
    }
    const [killed] = await sql<{ status: string; cursor: string | null }>(
      "SELECT status, cursor FROM stripe.sync_state WHERE resource = 'customers'",
    );
    expect(killed).toMatchObject({ status: 'running' });
    expect(killed!.cursor).toMatch(/^cus_/);

    stripe.resetRequests();
    const resumed = await runCli(['stripe', 'backfill', '--resource', 'customers'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    // It listed from the checkpoint on, not from the start.
    expect(stripe.requestCount('/v1/customers')).toBeLessThanOrEqual(pages - 4);
    const resumedCount = countsOf(resumed.stdout, 'customers')[0]!;
    expect(resumedCount).toBeLessThanOrEqual(total - 400);
    const ids = stripe.list('customer').map((c) => c.id);
    const [counted] = await sql<{ n: string }>('SELECT count(*) AS n FROM stripe.customers WHERE id = ANY($1)', [ids]);
    expect(Number(counted!.n)).toBe(total);
    const [state] = await sql<{ status: string; cursor: string | null }>(
      "SELECT status, cursor FROM stripe.sync_state WHERE resource = 'customers'",
    );
    expect(state).toEqual({ status: 'completed', cursor: null });
  });
});

describe('plugboard stripe webhook and plugboard webhooks', () => {
  it('webhook test posts a signed event to the gateway and sees it applied; a wrong secret or no gateway fails loudly', async () => {
    const url = `${gateway.url}/webhooks/stripe`;
    const ok = await runCli(['stripe', 'webhook', 'test', '--url', url], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`${url} verified, stored and applied test event evt_plugboard_test_`));

    const wrongSecret = await runCli(['stripe', 'webhook', 'test', '--url', url], {
      ...env,
      STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
    });
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.stderr).toMatch(/answered 400: Invalid Stripe signature/);

    const nobody = await runCli(['stripe', 'webhook', 'test', '--url', 'http://127.0.0.1:9/webhooks/stripe'], env);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/could not reach http:\/\/127.0.0.1:9\/webhooks\/stripe/);
  });

  it('lists a dead letter, shows it in webhook status, and replays it once the cause is gone', async () => {
    await sql(`CREATE FUNCTION stripe.refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'cus_refused' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
    await sql(
      'CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON stripe.customers FOR EACH ROW EXECUTE FUNCTION stripe.refuse_for_test()',
    );
    const { event } = stripe.create('customer', { id: 'cus_refused' });
    const { body, headers } = stripe.signedWebhook(event, secret);
    const response = await fetch(`${gateway.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    await expect
      .poll(
        async () => (await sql<{ status: string }>('SELECT status FROM stripe.events WHERE id = $1', [event.id]))[0],
        {
          timeout: 10_000,
        },
      )
      .toMatchObject({ status: 'failed' });

    // The sync core's generated `events` and `replay`, and the gateway's `webhooks list|replay`, read one log.
    const listed = await runCli(['stripe', 'events', '--failed'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`${event.id}\\s+customer.created\\s+failed\\s+1\\s+\\S+\\s+.*refused for the test`),
    );
    expect(listed.stdout.trim().split('\n')).toHaveLength(3); // header, rule, the one dead letter

    const status = await runCli(['stripe', 'webhook', 'status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/events\s+\d+ processed, 0 waiting, 1 failed/);
    expect(status.stdout).toMatch(new RegExp(`recent failures[\\s\\S]*${event.id}`));

    const stillFailing = await runCli(['webhooks', 'replay', event.id], env);
    expect(stillFailing.code).toBe(1);
    expect(stillFailing.stderr).toMatch(/failed again: .*refused for the test/);

    await sql('DROP TRIGGER refuse ON stripe.customers');
    const replayed = await runCli(['stripe', 'replay', event.id], env);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe(`replayed ${event.id} (customer.created): processed\n`);
    expect(await sql("SELECT id FROM stripe.customers WHERE id = 'cus_refused'")).toHaveLength(1);

    const unknown = await runCli(['webhooks', 'replay', 'evt_nope'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No event evt_nope in the stripe webhook log/);
    const badStatus = await runCli(['webhooks', 'list', '--status', 'lost'], env);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toMatch(/--status must be received, processed or failed/);
  }, 90_000); // six CLI runs (each a Node start), which on a loaded CI machine took past 30 s
});
