/**
 * The peer for bench/github-webhooks.ts: the simplest correct GitHub webhook handler. node:http,
 * `X-Hub-Signature-256` checked with @octokit/webhooks-methods, then one `INSERT … ON CONFLICT`
 * per event into a table of objects keyed by (event, id) that keeps the newer `updated_at`, and
 * 200 once it is committed (its ack means "applied"). GET answers 200 when ready.
 */
import { createServer } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import pg from 'pg';

const secret = process.env['GITHUB_WEBHOOK_SECRET']!;
const pool = new pg.Pool({
  connectionString: process.env['DATABASE_URL'],
  max: Number(process.env['POOL_SIZE'] ?? 10),
});
await pool.query(`CREATE TABLE IF NOT EXISTS github_objects (
  event text NOT NULL, id bigint NOT NULL, data jsonb NOT NULL, updated_at timestamptz NOT NULL, delivery text NOT NULL,
  PRIMARY KEY (event, id))`);

/** Where each event's object is in its payload. */
const OBJECT_OF: Record<string, string> = { issues: 'issue', issue_comment: 'comment', pull_request: 'pull_request' };

const answer = (response: import('node:http').ServerResponse, status: number, body: string) =>
  response.writeHead(status, { 'content-type': 'application/json' }).end(body);

createServer((request, response) => {
  if (request.method === 'GET') return answer(response, 200, '{"ok":true}');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(request.headers['x-hub-signature-256'] ?? '');
      if (!signature || !(await verify(secret, body, signature))) return answer(response, 400, '{"error":"signature"}');
      const event = String(request.headers['x-github-event']);
      const payload = JSON.parse(body) as Record<string, { id: number; updated_at: string }>;
      const object = payload[OBJECT_OF[event] ?? ''];
      if (object)
        await pool.query(
          `INSERT INTO github_objects (event, id, data, updated_at, delivery) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (event, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, delivery = excluded.delivery
           WHERE github_objects.updated_at <= excluded.updated_at`,
          [event, object.id, JSON.stringify(object), object.updated_at, request.headers['x-github-delivery']],
        );
      answer(response, 200, '{"received":true}');
    } catch (error) {
      answer(response, 500, JSON.stringify({ error: (error as Error).message }));
    }
  });
}).listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
