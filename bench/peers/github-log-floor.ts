/**
 * A floor for bench/github-webhooks.ts, not a product: the least work a handler can do and still
 * meet what issue 18 asks of Plugboard's receiver (each delivery kept in a durable log keyed by
 * its delivery id, the object upserted newer-wins, 200 only once both are committed). node:http,
 * the signature checked with @octokit/webhooks-methods, concurrent deliveries grouped into one
 * statement and one commit (a batch forms while the previous one runs), no framework, no
 * retries, no fan-out, no status bookkeeping.
 *
 * FLOOR_LOG picks how the log keeps the payload:
 * - `jsonb` (default; what Plugboard does): the batch goes to Postgres as one JSON array, and
 *   the object is taken from the stored payload in SQL;
 * - `text`: the body is stored as text, unparsed by Postgres, and the object is sent separately
 *   (JSON.stringify in Node; Postgres parses only the object).
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import pg from 'pg';
import { binaryTextArray } from './binary-text-array.ts';

const secret = process.env['GITHUB_WEBHOOK_SECRET']!;
const logType = process.env['FLOOR_LOG'] === 'text' ? 'text' : 'jsonb';
const pool = new pg.Pool({
  connectionString: process.env['DATABASE_URL'],
  max: Number(process.env['POOL_SIZE'] ?? 10),
});
await pool.query(`
  CREATE TABLE IF NOT EXISTS floor_log (id text PRIMARY KEY, type text NOT NULL, payload ${logType} COMPRESSION lz4 NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS github_objects (event text NOT NULL, id bigint NOT NULL, data jsonb COMPRESSION lz4 NOT NULL,
    updated_at timestamptz NOT NULL, delivery text NOT NULL, PRIMARY KEY (event, id))`);

const OBJECT_OF: Record<string, string> = { issues: 'issue', issue_comment: 'comment', pull_request: 'pull_request' };

interface Delivery {
  id: string;
  event: string;
  body: string;
  raw: Buffer;
  object: { id: number; updated_at: string };
}

const JSONB_BATCH = readFileSync(new URL('./github-log-floor.sql', import.meta.url), 'utf8');

const TEXT_BATCH = {
  name: 'floor_text_batch',
  text: `
  WITH input AS (
    SELECT id, event, body, object::jsonb AS object FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS i(id, event, body, object)
  ),
  logged AS (INSERT INTO floor_log (id, type, payload) SELECT id, event, body FROM input ON CONFLICT DO NOTHING RETURNING id)
  INSERT INTO github_objects AS o (event, id, data, updated_at, delivery)
  SELECT DISTINCT ON (i.event, (i.object ->> 'id')::bigint) i.event, (i.object ->> 'id')::bigint, i.object,
    (i.object ->> 'updated_at')::timestamptz, i.id
  FROM input AS i JOIN logged USING (id)
  ORDER BY 1, 2, 4 DESC
  ON CONFLICT (event, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, delivery = excluded.delivery
  WHERE o.updated_at <= excluded.updated_at`,
};

const runBatch = async (batch: Delivery[]) => {
  if (logType === 'jsonb') {
    const rows = batch.map(
      (d) => `{"id":${JSON.stringify(d.id)},"event":${JSON.stringify(d.event)},"payload":${d.body}}`,
    );
    await pool.query(JSONB_BATCH, [`[${rows.join(',')}]`, JSON.stringify(OBJECT_OF)]);
  } else {
    await pool.query({
      ...TEXT_BATCH,
      values: [
        batch.map((d) => d.id),
        batch.map((d) => d.event),
        binaryTextArray(batch.map((d) => d.raw)),
        batch.map((d) => JSON.stringify(d.object)),
      ],
    });
  }
};

// Group commit: one batch in flight per pool connection; deliveries arriving meanwhile wait for the next.
let waiting: { delivery: Delivery; done(error?: unknown): void }[] = [];
let inFlight = 0;
const flush = () => {
  while (waiting.length > 0 && inFlight < Number(process.env['FLOOR_BATCHES'] ?? 2)) {
    const batch = waiting.slice(0, 500);
    waiting = waiting.slice(batch.length);
    inFlight++;
    runBatch(batch.map((entry) => entry.delivery))
      .then(
        () => {
          for (const entry of batch) entry.done();
        },
        (error: unknown) => {
          for (const entry of batch) entry.done(error);
        },
      )
      .finally(() => {
        inFlight--;
        flush();
      });
  }
};

const answer = (response: ServerResponse, status: number, body: string) =>
  response.writeHead(status, { 'content-type': 'application/json' }).end(body);

createServer((request, response) => {
  if (request.method === 'GET') return answer(response, 200, '{"ok":true}');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const signature = String(request.headers['x-hub-signature-256'] ?? '');
    if (!signature || !(await verify(secret, body, signature))) return answer(response, 400, '{"error":"signature"}');
    const event = String(request.headers['x-github-event']);
    const payload = JSON.parse(body) as Record<string, { id: number; updated_at: string }>;
    const object = payload[OBJECT_OF[event] ?? ''];
    if (!object) return answer(response, 200, '{"received":true}');
    waiting.push({
      delivery: { id: String(request.headers['x-github-delivery']), event, body, raw, object },
      done: (error) =>
        error
          ? answer(response, 500, JSON.stringify({ error: (error as Error).message }))
          : answer(response, 200, '{"received":true}'),
    });
    flush();
  });
}).listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
// Exits normally on SIGTERM, so --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
