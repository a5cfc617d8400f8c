/**
 * Retention: the settings, the webhook log's weekly partitions (the migration of a populated log,
 * weeks made ahead, redeliveries across weeks, weeks dropped whole with their unsettled events
 * kept), and every other growing table pruned by its rule, through `plugboard prune` and the
 * scheduled `retention` job, on a real Postgres.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../gateway/config/variables.ts';
import { loadGatewaySettings } from '../gateway/config/settings.ts';
import { createLogger } from '../gateway/logger.ts';
import { runMigrations } from '../gateway/migrations.ts';
import { runRetention, scheduleRetention } from '../gateway/retention.ts';
import { syncedRetention } from '../gateway/sync/retention.ts';
import { gatewaySql } from '../gateway/sql.ts';
import { ensurePartitions, weekStart } from '../gateway/webhooks/partitions.ts';
import { selectAll } from '../gateway/plugin/selection.ts';
import { registry } from '../plugins/registry.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli } from './support/processes.ts';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const API_KEY = `sk_test_${randomBytes(12).toString('hex')}`;
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const sdk = new Stripe(API_KEY);

let db: TestDatabase;
let gateway: TestGateway;
const env: Record<string, string> = {};
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY);

const rows = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await db.pool.query(text, params)).rows as T[];
const ids = async (text: string, params: unknown[] = []) =>
  (await rows<{ id: string }>(text, params)).map((row) => row.id).sort();
const partitions = () =>
  rows<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'stripe.events'::regclass ORDER BY c.relname`,
  );

function stripeEvent(id: string) {
  const customer = {
    id: `cus_${id}`,
    object: 'customer',
    created: 1_700_000_000,
    email: 'a@example.com',
    metadata: {},
  };
  return {
    id,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: 1_700_000_000,
    data: { object: customer },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
  };
}

/** Stores events as of another time, in whatever partition their time falls in. */
async function storeEvents(events: { id: string; status: string; at: Date }[]) {
  for (const { id, status, at } of events)
    await rows(
      'INSERT INTO stripe.events (id, type, payload, status, received_at, attempts) VALUES ($1, $2, $3, $4, $5, 1)',
      [id, 'customer.created', stripeEvent(id), status, at],
    );
}

async function deliver(body: unknown) {
  const payload = JSON.stringify(body);
  const signature = sdk.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await fetch(`${gateway.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(env, {
    DATABASE_URL: db.url,
    PLUGBOARD_PLUGINS: 'stripe,jobs,notifications,realtime,idme',
    STRIPE_API_KEY: API_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
    STRIPE_SYNC_INTERVAL: '0',
    IDME_CLIENT_ID: 'client',
    IDME_CLIENT_SECRET: 'secret-secret-secret',
    IDME_REDIRECT_URI: 'https://app.example.test/idme',
    IDME_ISSUER_URL: 'http://127.0.0.1:9/oidc',
  });
  gateway = await startTestGateway({ databaseUrl: db.url, env });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

const retentionVariables = selectAll(registry).flatMap(({ manifest }) =>
  Object.keys(manifest.configuration.schema ?? {})
    .filter((key) => key.endsWith('_RETENTION_DAYS'))
    .map((key) => ({ plugin: manifest.name, key, spec: manifest.configuration })),
);

describe('retention settings', () => {
  it('every growing table has one', () => {
    expect(retentionVariables.map((v) => v.key).sort()).toEqual([
      'GITHUB_EVENTS_RETENTION_DAYS',
      'GITHUB_FAILED_EVENTS_RETENTION_DAYS',
      'GITHUB_SYNC_RUNS_RETENTION_DAYS',
      'IDME_REQUESTS_RETENTION_DAYS',
      'JOBS_HISTORY_RETENTION_DAYS',
      'NOTIFICATIONS_RETENTION_DAYS',
      'REALTIME_EVENTS_RETENTION_DAYS',
      'SHOPIFY_EVENTS_RETENTION_DAYS',
      'SHOPIFY_FAILED_EVENTS_RETENTION_DAYS',
      'SHOPIFY_SYNC_RUNS_RETENTION_DAYS',
      'STRIPE_EVENTS_RETENTION_DAYS',
      'STRIPE_FAILED_EVENTS_RETENTION_DAYS',
      'STRIPE_SYNC_RUNS_RETENTION_DAYS',
    ]);
  });

  it.each(
    retentionVariables.flatMap(({ key, spec }) => [
      { key, spec, raw: '14', days: 14 },
      { key, spec, raw: '0', days: 0 },
      { key, spec, raw: '-1', days: null },
      { key, spec, raw: '30 days', days: null },
      { key, spec, raw: '1.5', days: null },
    ]),
  )('$key=$raw', ({ key, spec, raw, days }) => {
    const { values, problems } = readConfig({ ...spec, required: [], requiredOneOf: [] }, { [key]: raw }, 'test');
    if (days === null) expect(problems.map((p) => p.variable)).toEqual([key]);
    else {
      expect(problems).toEqual([]);
      expect(values.number(key)).toBe(days);
    }
  });

  it.each([
    ['STRIPE_EVENTS_RETENTION_DAYS', 30],
    ['STRIPE_FAILED_EVENTS_RETENTION_DAYS', 90],
    ['JOBS_HISTORY_RETENTION_DAYS', 30],
    ['IDME_REQUESTS_RETENTION_DAYS', 1],
  ])('%s defaults to %i', (key, days) => {
    const { spec } = retentionVariables.find((v) => v.key === key)!;
    expect(readConfig({ ...spec, required: [], requiredOneOf: [] }, {}, 'test').values.number(key)).toBe(days);
  });

  it.each([
    ['17 * * * *', '17 * * * *'],
    ['*/5 * * * *', '*/5 * * * *'],
    ['off', null],
  ])('PLUGBOARD_RETENTION_CRON=%s', (raw, cron) => {
    expect(loadGatewaySettings({ PLUGBOARD_RETENTION_CRON: raw }).retentionCron).toBe(cron);
  });

  it('refuses a PLUGBOARD_RETENTION_CRON that is not a cron expression, naming it', () => {
    expect(() => loadGatewaySettings({ PLUGBOARD_RETENTION_CRON: 'hourly' })).toThrow(ConfigError);
    expect(() => loadGatewaySettings({ PLUGBOARD_RETENTION_CRON: 'hourly' })).toThrow(/PLUGBOARD_RETENTION_CRON/);
  });
});

describe('the migration to a partitioned webhook log', () => {
  it('keeps every row, index and constraint of a populated log, and the id unique', async () => {
    const other = await createTestDatabase();
    const onlyFirst = mkdtempSync(join(tmpdir(), 'plugboard-migrations-'));
    try {
      const dir = fileURLToPath(new URL('../plugins/stripe/migrations/', import.meta.url));
      symlinkSync(join(dir, '001_stripe.sql'), join(onlyFirst, '001_stripe.sql'));
      const log = createLogger('silent');
      await runMigrations(other.pool, [{ plugin: 'stripe', schema: 'stripe', dir: onlyFirst }], log);
      await other.pool.query(
        `INSERT INTO stripe.events (id, type, payload, status, received_at)
         SELECT 'evt_' || g, 'customer.created', jsonb_build_object('id', 'evt_' || g, 'created', 1700000000),
                CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'processed' END, now() - g * interval '1 hour'
         FROM generate_series(1, 2000) AS g`,
      );
      await runMigrations(other.pool, [{ plugin: 'stripe', schema: 'stripe', dir }], log);
      const query = async (text: string) => (await other.pool.query(text)).rows;
      expect(
        await query(`SELECT tableoid::regclass::text AS part, status, count(*)::int AS n FROM stripe.events
                     GROUP BY 1, 2 ORDER BY 1, 2`),
      ).toEqual([
        { part: 'stripe.events_legacy', status: 'failed', n: 200 },
        { part: 'stripe.events_legacy', status: 'processed', n: 1800 },
      ]);
      expect(await query("SELECT relkind FROM pg_class WHERE oid = 'stripe.events'::regclass")).toEqual([
        { relkind: 'p' },
      ]);
      // The parent's indexes, with the legacy table's own attached to them (none built twice).
      expect(
        (await query("SELECT indexname FROM pg_indexes WHERE schemaname = 'stripe' AND tablename = 'events'")).map(
          (r) => r.indexname,
        ),
      ).toEqual(
        expect.arrayContaining([
          'events_received',
          'events_unprocessed',
          'events_failed',
          'events_type',
          'events_object',
        ]),
      );
      expect(
        await query(
          "SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'stripe' AND tablename = 'events_legacy'",
        ),
      ).toEqual([{ n: 6 }]);
      // Generated columns and the status check hold on the partitioned log.
      expect(await query("SELECT created FROM stripe.events WHERE id = 'evt_1'")).toEqual([
        { created: new Date(1_700_000_000_000) },
      ]);
      await expect(
        other.pool.query("INSERT INTO stripe.events (id, type, payload, status) VALUES ('evt_x', 't', '{}', 'bogus')"),
      ).rejects.toThrow(/events_status_check/);
      // A redelivery of a stored event inserts nothing.
      const { rows: inserted } = await other.pool.query(gatewaySql('webhook-insert').replaceAll('{schema}', 'stripe'), [
        JSON.stringify([{ id: 'evt_5', type: 'customer.created', payload: {} }]),
      ]);
      expect(inserted).toEqual([]);
    } finally {
      rmSync(onlyFirst, { recursive: true, force: true });
      await other.drop();
    }
  });
});

describe('the webhook log by week', () => {
  beforeAll(async () => {
    // A log whose first weeks have gone: weeks from 20 weeks back, made as a gateway running
    // then would have made them (the empty legacy partition of this new database dropped first).
    await rows('ALTER TABLE stripe.events DETACH PARTITION stripe.events_legacy');
    await rows('DROP TABLE stripe.events_legacy');
    for (let back = 20; back >= 0; back -= 3)
      await ensurePartitions(db.pool, 'stripe', new Date(now.getTime() - back * WEEK));
  });

  it('has the current week and the next two, and a default partition', async () => {
    const names = (await partitions()).map((p) => p.name);
    for (let week = 0; week <= 2; week++) {
      const start = new Date(weekStart(now).getTime() + week * WEEK);
      expect(names).toContain(`events_${start.toISOString().slice(0, 10).replaceAll('-', '')}`);
    }
    expect(names).toContain('events_default');
    const current = (await partitions()).find(
      (p) => p.name === `events_${weekStart(now).toISOString().slice(0, 10).replaceAll('-', '')}`,
    )!;
    expect(current.bound).toMatch(/^FOR VALUES FROM \('.+'\) TO \('.+'\)$/);
    // Making them again makes nothing.
    expect(await ensurePartitions(db.pool, 'stripe', now)).toEqual([]);
  });

  it('answers a redelivery of an event an earlier week holds as a duplicate', async () => {
    const event = stripeEvent(`evt_${randomBytes(8).toString('hex')}`);
    await storeEvents([{ id: event.id, status: 'processed', at: ago(20) }]);
    expect(await deliver(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const fresh = stripeEvent(`evt_${randomBytes(8).toString('hex')}`);
    expect(await deliver(fresh)).toEqual({ status: 200, body: { received: true, duplicate: false } });
    // Concurrent deliveries of one new event: one is stored.
    const twice = stripeEvent(`evt_${randomBytes(8).toString('hex')}`);
    const answers = await Promise.all([deliver(twice), deliver(twice), deliver(twice)]);
    expect(answers.map((a) => a.body['duplicate']).sort()).toEqual([false, true, true]);
    expect(
      await rows('SELECT count(*)::int AS n FROM stripe.events WHERE id = ANY($1)', [[event.id, twice.id]]),
    ).toEqual([{ n: 2 }]);
  });

  // Spawns the CLI three times (a few seconds each on a loaded machine).
  it('drops weeks past retention whole, keeping unsettled events within theirs; prunes the default partition', {
    timeout: 90_000,
  }, async () => {
    const tag = randomBytes(4).toString('hex');
    const id = (name: string) => `evt_${tag}_${name}`;
    // The week holding the 30-day cutoff ends after it: its rows stay, however old.
    const inCutoffWeek = new Date(weekStart(ago(30)).getTime() + 1000);
    await storeEvents([
      { id: id('processed_60d'), status: 'processed', at: ago(60) },
      { id: id('failed_60d'), status: 'failed', at: ago(60) },
      { id: id('unapplied_60d'), status: 'received', at: ago(60) },
      { id: id('failed_80d'), status: 'failed', at: ago(80) },
      { id: id('failed_95d'), status: 'failed', at: ago(95) },
      { id: id('processed_10d'), status: 'processed', at: ago(10) },
      { id: id('processed_cutoff_week'), status: 'processed', at: inCutoffWeek },
      // Before the first week: in the default partition.
      { id: id('processed_200d'), status: 'processed', at: ago(200) },
      { id: id('failed_200d'), status: 'failed', at: ago(200) },
    ]);
    const mine = () => ids('SELECT id FROM stripe.events WHERE id LIKE $1', [`evt_${tag}_%`]);
    const before = await mine();

    // 0 days keeps everything (the rules the settings make, run as the job runs them).
    const forever = syncedRetention('stripe', { eventsDays: 0, failedEventsDays: 0, syncRunsDays: 0 });
    const kept = await runRetention(db.pool, new Map([['stripe', forever]]), { now, dryRun: false, batchSize: 100 });
    expect(kept.map((o) => o.rows)).toEqual([0, 0, 0]);
    expect(await mine()).toEqual(before);

    const dry = await runCli(['prune', '--plugin', 'stripe', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/stripe\.events: would drop partition events_\d{8}/);
    expect(dry.stdout).toMatch(/would remove/);
    expect(await mine()).toEqual(before);

    const old = (await partitions()).filter((p) => p.name !== 'events_default').length;
    const run = await runCli(['prune', '--plugin', 'stripe'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /stripe\.events: dropped partition events_\d{8} \((about )?\d+ rows; [1-9]\d* unsettled moved/,
    );
    expect(run.stdout).toMatch(/stripe\.events_default/);
    expect(await mine()).toEqual(
      [
        id('failed_60d'),
        id('unapplied_60d'),
        id('failed_80d'),
        id('processed_10d'),
        id('processed_cutoff_week'),
      ].sort(),
    );
    expect(
      await rows('SELECT id, tableoid::regclass::text AS part FROM stripe.events WHERE id = ANY($1) ORDER BY id', [
        [id('failed_60d'), id('failed_80d')],
      ]),
    ).toEqual([
      { id: id('failed_60d'), part: 'stripe.events_default' },
      { id: id('failed_80d'), part: 'stripe.events_default' },
    ]);
    // Every week left ends after the cutoff; the weeks ahead are there.
    const left = (await partitions()).filter((p) => p.name !== 'events_default');
    expect(left.length).toBeLessThan(old);
    for (const p of left) {
      const to = new Date(/TO \('(.+)'\)/.exec(p.bound)![1]!);
      expect(to.getTime()).toBeGreaterThan(ago(30).getTime());
    }
    // The weeks taken out are dropped, not left in schema plugboard.
    expect(
      await rows("SELECT tablename FROM pg_tables WHERE schemaname = 'plugboard' AND tablename LIKE 'stripe%'"),
    ).toEqual([]);
    // A moved dead letter still replays.
    const replayed = await runCli(['webhooks', 'replay', id('failed_60d'), '--plugin', 'stripe'], env);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await rows('SELECT status FROM stripe.events WHERE id = $1', [id('failed_60d')])).toEqual([
      { status: 'processed' },
    ]);
  });
});

describe('rows pruned in batches', () => {
  it('removes each table past its rule, and nothing else', { timeout: 60_000 }, async () => {
    const tag = randomBytes(4).toString('hex');
    const run = (id: string, status: string, started: Date) =>
      rows(
        "INSERT INTO stripe.sync_runs (id, kind, resources, status, started_at) VALUES ($1, 'backfill', '{}', $2, $3)",
        [id, status, started],
      );
    const runIds = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await run(runIds[0]!, 'completed', ago(100));
    await run(runIds[1]!, 'running', ago(100));
    await run(runIds[2]!, 'failed', ago(10));

    const job = (id: string, state: string, created: Date) =>
      rows(
        `INSERT INTO jobs.jobs (id, queue, type, state, created_at, updated_at) VALUES ($1, 'default', 'http-request', $2, $3, $3)`,
        [id, state, created],
      );
    await job(`${tag}-old-done`, 'completed', ago(40));
    await job(`${tag}-old-failed`, 'failed', ago(40));
    await job(`${tag}-old-active`, 'active', ago(40));
    await job(`${tag}-new-done`, 'completed', ago(5));
    await rows(
      `INSERT INTO jobs.job_results (job_id, queue, attempt, result, completed_at)
       VALUES ($1, 'default', 1, '{}', now()), ($2, 'default', 1, '{}', now())`,
      [`${tag}-old-done`, `${tag}-new-done`],
    );
    await rows(
      `INSERT INTO jobs.job_failures (job_id, queue, attempt, error, will_retry, failed_at)
       VALUES ($1, 'default', 1, 'x', false, now()), ($2, 'default', 1, 'y', true, now())`,
      [`${tag}-old-failed`, `${tag}-old-active`],
    );

    const [oldBatch, busyBatch] = [crypto.randomUUID(), crypto.randomUUID()];
    await rows(
      `INSERT INTO notifications.batches (id, kind, total, created_at) VALUES ($1, 'bulk', 1, $3), ($2, 'bulk', 1, $3)`,
      [oldBatch, busyBatch, ago(100)],
    );
    const note = (
      user: string,
      status: string,
      created: Date,
      extra: { batch?: string; digest?: string; id?: string } = {},
    ) =>
      rows(
        `INSERT INTO notifications.notifications (id, user_id, channel, body, status, created_at, batch_id, digest_id)
         VALUES (coalesce($6::uuid, gen_random_uuid()), $1, 'IN_APP', 'hi', $2, $3, $4, $5)`,
        [`${tag}-${user}`, status, created, extra.batch ?? null, extra.digest ?? null, extra.id ?? null],
      );
    const digest = crypto.randomUUID();
    await note('digest', 'delivered', ago(95), { id: digest });
    await note('item', 'sent', ago(96), { digest, batch: oldBatch });
    await note('queued', 'queued', ago(100), { batch: busyBatch });
    await note('recent', 'delivered', ago(10));
    await rows(
      `INSERT INTO notifications.requests (user_id, template, created_at) VALUES ($1, 't', $2), ($3, 't', $4)`,
      [`${tag}-old`, ago(100), `${tag}-new`, ago(1)],
    );

    await rows(`INSERT INTO realtime.events (type, user_id, at) VALUES ('joined', $1, $2), ('joined', $3, $4)`, [
      `${tag}-old`,
      ago(40),
      `${tag}-new`,
      ago(1),
    ]);
    await rows(
      `INSERT INTO idme.authorization_requests (state_hash, user_id, code_verifier, nonce, scopes, created_at, expires_at)
       VALUES (decode(md5($1), 'hex'), $1, 'v', 'n', '{openid}', $2, $2), (decode(md5($3), 'hex'), $3, 'v', 'n', '{openid}', $4, $4)`,
      [`${tag}-expired`, ago(2), `${tag}-live`, new Date(now.getTime() + 600_000)],
    );

    // A batch of one row a statement: the loop goes on until a batch comes back short.
    const pruned = await runCli(['prune', '--batch-size', '1'], env);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(/^jobs\.jobs: 1 rows removed so far$/m);

    expect(await ids('SELECT id::text AS id FROM stripe.sync_runs')).toEqual([runIds[1]!, runIds[2]!].sort());
    expect(await ids('SELECT id FROM jobs.jobs WHERE id LIKE $1', [`${tag}%`])).toEqual(
      [`${tag}-new-done`, `${tag}-old-active`].sort(),
    );
    expect(await ids('SELECT job_id AS id FROM jobs.job_results WHERE job_id LIKE $1', [`${tag}%`])).toEqual([
      `${tag}-new-done`,
    ]);
    expect(await ids('SELECT job_id AS id FROM jobs.job_failures WHERE job_id LIKE $1', [`${tag}%`])).toEqual([
      `${tag}-old-active`,
    ]);
    expect(
      await ids('SELECT user_id AS id FROM notifications.notifications WHERE user_id LIKE $1', [`${tag}%`]),
    ).toEqual([`${tag}-queued`, `${tag}-recent`].sort());
    expect(
      await ids('SELECT id::text AS id FROM notifications.batches WHERE id = ANY($1)', [[oldBatch, busyBatch]]),
    ).toEqual([busyBatch]);
    expect(await ids('SELECT user_id AS id FROM notifications.requests WHERE user_id LIKE $1', [`${tag}%`])).toEqual([
      `${tag}-new`,
    ]);
    expect(await ids('SELECT user_id AS id FROM realtime.events WHERE user_id LIKE $1', [`${tag}%`])).toEqual([
      `${tag}-new`,
    ]);
    expect(
      await ids('SELECT user_id AS id FROM idme.authorization_requests WHERE user_id LIKE $1', [`${tag}%`]),
    ).toEqual([`${tag}-live`]);
  });

  it('runs each plugin on the retention queue, on the schedule', async () => {
    const schedules = await gateway.queue.schedules('retention');
    expect(schedules.map((s) => `${s.key} ${s.name} ${s.cron}`).sort()).toEqual(
      ['idme', 'jobs', 'notifications', 'realtime', 'stripe'].map((p) => `${p} ${p} 17 * * * *`),
    );
    const tag = randomBytes(4).toString('hex');
    await rows(`INSERT INTO realtime.events (type, user_id, at) VALUES ('joined', $1, $2), ('joined', $3, now())`, [
      `${tag}-old`,
      ago(31),
      `${tag}-new`,
    ]);
    await gateway.queue.add('retention', 'realtime', {});
    await expect
      .poll(() => ids('SELECT user_id AS id FROM realtime.events WHERE user_id LIKE $1', [`${tag}%`]), {
        timeout: 20_000,
      })
      .toEqual([`${tag}-new`]);

    // Fewer plugins pruning, another cron, then off: the schedules follow.
    const scheduled = async () => (await gateway.queue.schedules('retention')).map((s) => `${s.key} ${s.cron}`).sort();
    await scheduleRetention(gateway.queue, ['jobs', 'stripe'], '0 3 * * *');
    expect(await scheduled()).toEqual(['jobs 0 3 * * *', 'stripe 0 3 * * *']);
    await scheduleRetention(gateway.queue, ['jobs', 'stripe'], null);
    expect(await scheduled()).toEqual([]);
  });
});
