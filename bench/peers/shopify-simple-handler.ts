/**
 * The peer for bench/shopify-webhooks.ts: the simplest correct Shopify webhook handler. node:http,
 * `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the app secret) compared in
 * constant time, then one `INSERT … ON CONFLICT` per delivery into a table of objects keyed by
 * (topic's resource, id) that keeps the newer `updated_at`, and 200 once it is committed (its ack
 * means "applied"). GET answers 200 when ready.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import pg from 'pg';

const secret = process.env['SHOPIFY_API_SECRET']!;
const pool = new pg.Pool({
  connectionString: process.env['DATABASE_URL'],
  max: Number(process.env['POOL_SIZE'] ?? 10),
});
await pool.query(`CREATE TABLE IF NOT EXISTS shopify_objects (
  resource text NOT NULL, id bigint NOT NULL, shop text NOT NULL, data jsonb NOT NULL,
  updated_at timestamptz NOT NULL, webhook_id text NOT NULL, PRIMARY KEY (resource, id))`);

const answer = (response: import('node:http').ServerResponse, status: number, body: string) =>
  response.writeHead(status, { 'content-type': 'application/json' }).end(body);

createServer((request, response) => {
  if (request.method === 'GET') return answer(response, 200, '{"ok":true}');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', async () => {
    try {
      const body = Buffer.concat(chunks);
      const given = Buffer.from(String(request.headers['x-shopify-hmac-sha256'] ?? ''), 'base64');
      const expected = createHmac('sha256', secret).update(body).digest();
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        return answer(response, 401, '{"error":"hmac"}');
      const topic = String(request.headers['x-shopify-topic']);
      const object = JSON.parse(body.toString('utf8')) as { id: number; updated_at: string };
      await pool.query(
        `INSERT INTO shopify_objects (resource, id, shop, data, updated_at, webhook_id) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (resource, id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, webhook_id = excluded.webhook_id
         WHERE shopify_objects.updated_at <= excluded.updated_at`,
        [
          topic.split('/')[0],
          object.id,
          request.headers['x-shopify-shop-domain'],
          body.toString('utf8'),
          object.updated_at,
          request.headers['x-shopify-webhook-id'],
        ],
      );
      answer(response, 200, '{"received":true}');
    } catch (error) {
      answer(response, 500, JSON.stringify({ error: (error as Error).message }));
    }
  });
}).listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
