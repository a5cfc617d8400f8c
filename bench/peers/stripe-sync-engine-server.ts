/**
 * The peer for bench/stripe-webhooks.ts: @supabase/stripe-sync-engine's `processWebhook` behind a
 * minimal node:http server. It answers 200 once the event is applied (its ack means "applied"),
 * 400 with the message when verification or processing fails, and GET /healthz 200 when ready.
 * Offline: no revalidation via the API, no backfill of related objects, no list expansion.
 */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { StripeSync } from '@supabase/stripe-sync-engine';

const databaseUrl = process.env['DATABASE_URL']!;
const webhookSecret = process.env['STRIPE_WEBHOOK_SECRET']!;
const poolSize = Number(process.env['POOL_SIZE'] ?? 10);

// Its ESM build skips migrations; the CommonJS build runs them.
const cjs = createRequire(import.meta.url)(
  '@supabase/stripe-sync-engine',
) as typeof import('@supabase/stripe-sync-engine');
await cjs.runMigrations({ databaseUrl, schema: 'stripe' });

const sync = new StripeSync({
  poolConfig: { connectionString: databaseUrl, max: poolSize },
  schema: 'stripe',
  stripeSecretKey: 'sk_test_offline',
  stripeWebhookSecret: webhookSecret,
  backfillRelatedEntities: false,
  revalidateObjectsViaStripeApi: [],
  autoExpandLists: false,
});

createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200).end('ok');
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    sync.processWebhook(Buffer.concat(chunks), request.headers['stripe-signature'] as string | undefined).then(
      () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'),
      (error: Error) =>
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message })),
    );
  });
}).listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
