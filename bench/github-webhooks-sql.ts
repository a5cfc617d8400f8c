/**
 * Where Postgres's time goes when GitHub webhook batches are logged and applied: the statement
 * the receiver sends for a batch (webhook-insert-applied.sql with the store's upserts), run for
 * the bench's deliveries in batches of BENCH_BATCH (64) on one connection, and the backend's CPU
 * per delivery read from /proc. Each variant runs on a fresh database after `plugboard migrate`,
 * with some of the schema's parts dropped first, to price them one by one (best of 3).
 *
 * Run: npm run bench:github-webhooks-sql
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createSyncStore } from '../gateway/sync/store.ts';
import type { WebhookEvent } from '../gateway/webhooks/receiver.ts';
import { githubSyncTables } from '../plugins/github/resources.ts';
import { statesOf } from '../plugins/github/webhooks.ts';
import { githubDeliveries } from '../test/support/webhook-load.ts';
import { binaryTextArray } from './peers/binary-text-array.ts';
import { freshDatabase, migrate } from './support.ts';

const BATCH = Number(process.env['BENCH_BATCH'] ?? 64);
const deliveries = await githubDeliveries('secret', Number(process.env['BENCH_EVENTS'] ?? 5000));
const events: WebhookEvent[] = deliveries.map((d) => {
  const payload = JSON.parse(d.body) as Record<string, unknown> & { action?: string };
  return { id: d.id, type: `${d.headers['x-github-event']}.${payload.action}`, payload, body: Buffer.from(d.body) };
});

const unused = () => {
  throw new Error('not used here');
};
const store = createSyncStore(
  githubSyncTables({ config: {} as never, client: unused, db: {} as never, scope: unused, bodyBytes: unused }),
);
const insertApplied = readFileSync(new URL('../gateway/sql/webhook-insert-applied.sql', import.meta.url), 'utf8')
  .replaceAll('{schema}', 'github')
  .replace(/^--.*\n/gm, '');
const named = (text: string) => `s${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
const eventsJson = (batch: WebhookEvent[]) =>
  `[${batch.map((e) => `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"payload":${e.body}}`).join(',')}]`;

const FLOOR = readFileSync(new URL('./peers/github-log-floor.sql', import.meta.url), 'utf8');

/** The payloads kept as text: `input.payload` is there (null) only for the upsert's CASE. */
const TEXT_LOG = `
  WITH input AS (
    SELECT id, type, body, NULL::jsonb AS payload FROM unnest($1::text[], $2::text[], $3::text[]) AS e(id, type, body)
  ), fresh AS (
    INSERT INTO github.events (id, type, payload, status, processed_at, attempts)
    SELECT e.id, e.type, e.body, 'processed', now(), 1 FROM input AS e
    WHERE NOT EXISTS (SELECT FROM github.events AS stored WHERE stored.id = e.id)
    ON CONFLICT DO NOTHING RETURNING id){applied}
  SELECT id FROM fresh`;

/** A new column type starts with the server's default compression (pglz), on every partition: keep lz4. */
const LZ4_EVERY_PARTITION = `DO $$ DECLARE t regclass; BEGIN
  FOR t IN SELECT 'github.events'::regclass UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'github.events'::regclass LOOP
    EXECUTE format('ALTER TABLE %s ALTER COLUMN payload SET COMPRESSION lz4', t);
  END LOOP; END $$`;
const JSON_DDL = [
  'ALTER TABLE github.events DROP COLUMN repository',
  'ALTER TABLE github.events ALTER COLUMN payload TYPE json',
  LZ4_EVERY_PARTITION,
  "ALTER TABLE github.events ADD COLUMN repository text GENERATED ALWAYS AS (payload#>>'{repository,full_name}') STORED",
];
/**
 * What each variant drops from the schema first, and which statement it runs (default: the
 * receiver's). The json variants take each object from the payload in the statement
 * (`(payload #> path)::jsonb`).
 */
type Statement = 'log only' | 'floor' | 'text' | 'json' | 'json arrays';
const VARIANTS: Record<string, { ddl?: string[]; statement?: Statement }> = {
  'as migrated': {},
  'log only (no upserts)': { statement: 'log only' },
  'payload as text (binary text[]), objects sent as JSON': {
    statement: 'text',
    ddl: [
      'ALTER TABLE github.events DROP COLUMN repository',
      'ALTER TABLE github.events ALTER COLUMN payload TYPE text',
      LZ4_EVERY_PARTITION,
    ],
  },
  'payload as json, batch as json': { statement: 'json', ddl: JSON_DDL },
  'payload as json, batch as binary arrays': { statement: 'json arrays', ddl: JSON_DDL },
  'the floor handler (bench/peers/github-log-floor.ts)': {
    statement: 'floor',
    ddl: [
      `CREATE TABLE floor_log (id text PRIMARY KEY, type text NOT NULL, payload jsonb COMPRESSION lz4 NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE github_objects (event text NOT NULL, id bigint NOT NULL, data jsonb COMPRESSION lz4 NOT NULL,
        updated_at timestamptz NOT NULL, delivery text NOT NULL, PRIMARY KEY (event, id))`,
    ],
  },
  'objects: no generated columns': {
    ddl: ['issues', 'pull_requests', 'issue_comments'].map(
      (t) =>
        `DO $$ DECLARE c text; BEGIN FOR c IN SELECT attname FROM pg_attribute WHERE attrelid = 'github.${t}'::regclass AND attgenerated = 's' LOOP EXECUTE format('ALTER TABLE github.${t} DROP COLUMN %I CASCADE', c); END LOOP; END $$`,
    ),
  },
  'objects: no secondary indexes': {
    ddl: [
      'DROP INDEX github.issues_repository, github.issues_updated, github.issues_labels, github.pull_requests_repository, github.issue_comments_issue',
    ],
  },
  'events: no received/type/failed indexes': {
    ddl: ['DROP INDEX github.events_received', 'DROP INDEX github.events_type', 'DROP INDEX github.events_failed'],
  },
  'events: no repository column': { ddl: ['ALTER TABLE github.events DROP COLUMN repository'] },
  'events: not partitioned': {
    ddl: [
      'CREATE TABLE github.events_flat (LIKE github.events INCLUDING ALL)',
      'ALTER TABLE github.events RENAME TO events_partitioned',
      'ALTER TABLE github.events_flat RENAME TO events',
      'ALTER TABLE github.events ADD PRIMARY KEY (id)',
    ],
  },
  'events: payload uncompressed (storage external)': {
    ddl: ['ALTER TABLE github.events ALTER COLUMN payload SET STORAGE EXTERNAL'],
  },
};

async function measure({ ddl = [], statement }: (typeof VARIANTS)[string]): Promise<number> {
  const database = await freshDatabase('bench_github_sql');
  try {
    migrate({
      DATABASE_URL: database.url,
      PLUGBOARD_PLUGINS: 'core,github',
      GITHUB_WEBHOOK_SECRET: 'secret-of-sixteen-or-more',
      GITHUB_TOKEN: `ghp_${'b'.repeat(36)}`,
      LOG_LEVEL: 'warn',
    });
    const client = new pg.Client(database.url);
    await client.connect();
    try {
      for (const statement of ddl) await client.query(statement);
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const ticks = () => {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return Number(fields[11]) + Number(fields[12]);
      };
      const before = ticks();
      for (let i = 0; i < events.length; i += BATCH) {
        const batch = events.slice(i, i + BATCH);
        const receivedAt = Date.now() / 1000;
        const parts = store.withLog(
          batch.flatMap((e) => statesOf(e.type, e.payload as never, e.id, receivedAt)),
          2,
        )!;
        const text = insertApplied.replace(
          '{applied}',
          parts.statements.map((s, n) => `, applied_${n} AS (${s})`).join(''),
        );
        if (statement === 'text') {
          const objects = store.withLog(
            batch.flatMap((e) =>
              statesOf(e.type, e.payload as never, e.id, receivedAt).map(({ inPayload: _, ...state }) => state),
            ),
            4,
          )!;
          const textLog = TEXT_LOG.replace(
            '{applied}',
            objects.statements.map((s, n) => `, applied_${n} AS (${s})`).join(''),
          );
          await client.query({
            name: named(textLog),
            text: textLog,
            values: [
              batch.map((e) => e.id),
              batch.map((e) => e.type),
              binaryTextArray(batch.map((e) => e.body!)),
              ...objects.values,
            ],
          });
        } else if (statement === 'json' || statement === 'json arrays') {
          const arrays = statement === 'json arrays';
          const jsonParts = arrays
            ? store.withLog(
                batch.flatMap((e) => statesOf(e.type, e.payload as never, e.id, receivedAt)),
                4,
              )!
            : parts;
          const jsonText = insertApplied
            .replace(
              'jsonb_to_recordset($1::jsonb) AS e(id text, type text, payload jsonb)',
              arrays
                ? 'unnest($1::text[], $2::text[], $3::json[]) AS e(id, type, payload)'
                : 'json_to_recordset($1::json) AS e(id text, type text, payload json)',
            )
            .replace('{applied}', jsonParts.statements.map((s, n) => `, applied_${n} AS (${s})`).join(''))
            .replaceAll('(i.payload #> r.path)', '(i.payload #> r.path)::jsonb');
          if (!jsonText.includes('::json)') && !jsonText.includes('::json[]'))
            throw new Error('webhook-insert-applied.sql no longer reads its input as this variant expects');
          const params = arrays
            ? [
                batch.map((e) => e.id),
                batch.map((e) => e.type),
                binaryTextArray(
                  batch.map((e) => e.body!),
                  114,
                ),
              ]
            : [eventsJson(batch)];
          await client.query({ name: named(jsonText), text: jsonText, values: [...params, ...jsonParts.values] });
        } else if (statement === 'floor')
          await client.query(FLOOR, [
            `[${batch.map((e) => `{"id":${JSON.stringify(e.id)},"event":${JSON.stringify(e.type.split('.')[0])},"payload":${e.body}}`).join(',')}]`,
            JSON.stringify({ issues: 'issue', issue_comment: 'comment', pull_request: 'pull_request' }),
          ]);
        else if (statement === 'log only')
          await client.query(insertApplied.replace('{applied}', ''), [eventsJson(batch)]);
        // Named, as the receiver names it: planned once.
        else await client.query({ name: named(text), text, values: [eventsJson(batch), ...parts.values] });
      }
      return ((ticks() - before) * 10_000) / events.length;
    } finally {
      await client.end();
    }
  } finally {
    await database.drop();
  }
}

console.log(`${events.length} deliveries in batches of ${BATCH}: Postgres backend CPU per delivery (best of 3)`);
// BENCH_ONLY=<regex> runs only the variants whose names match.
const only = new RegExp(process.env['BENCH_ONLY'] ?? '');
for (const [name, variant] of Object.entries(VARIANTS).filter(([name]) => only.test(name))) {
  const runs = [await measure(variant), await measure(variant), await measure(variant)];
  console.log(`  ${name.padEnd(44)} ${Math.min(...runs).toFixed(0)} µs  (${runs.map((r) => r.toFixed(0)).join(', ')})`);
}
