/**
 * A body over PLUGBOARD_BODY_LIMIT gets its 413, and a client still sending reads it instead of a
 * reset connection (EPIPE / ECONNRESET), on every route that reads a body: /graphql, a plugin's
 * webhook route and the Hasura routes, with the size declared or chunked.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';

const LIMIT = 64 * 1024;
const SENT = 2 * 1024 * 1024;

let db: TestDatabase;
let gateway: TestGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      PLUGBOARD_BODY_LIMIT: String(LIMIT),
      HASURA_ACTION_SECRET: 'action-secret-0123456789',
      STRIPE_API_KEY: 'sk_test_bodylimit0123456789',
      STRIPE_WEBHOOK_SECRET: 'whsec_bodylimit0123456789',
      STRIPE_API_BASE_URL: 'http://127.0.0.1:9',
      STRIPE_SYNC_INTERVAL: '0',
    },
  });
});

afterAll(async () => {
  await gateway?.close();
  await db?.drop();
});

/** Sends SENT bytes in 16 KiB writes, as a client that does not look at the answer until it is done sending. */
function sendLarge(path: string, chunked: boolean): Promise<{ status: number; body: string }> {
  const url = new URL(path, gateway.url);
  const chunk = Buffer.alloc(16 * 1024, 'x');
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-plugboard-action-secret': 'action-secret-0123456789',
        ...(chunked ? {} : { 'content-length': String(SENT) }),
      },
    });
    outgoing.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    outgoing.on('error', reject);
    let written = 0;
    const write = () => {
      while (written < SENT) {
        written += chunk.length;
        if (!outgoing.write(chunk)) return void outgoing.once('drain', write);
      }
      outgoing.end();
    };
    write();
  });
}

describe('a body over the limit', () => {
  it.each([
    ['/graphql', false],
    ['/graphql', true],
    ['/webhooks/stripe', false],
    ['/webhooks/stripe', true],
    ['/hasura/actions', false],
    ['/hasura/events', true],
  ])('POST %s (chunked: %s) answers 413, read by a client still sending', async (path, chunked) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { status, body } = await sendLarge(path, chunked);
      expect(status).toBe(413);
      expect(body).toContain('PAYLOAD_TOO_LARGE');
    }
  });

  it('leaves the gateway serving', async () => {
    const { status, body } = await gateway.gql('{ viewer { role } }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ viewer: { role: 'anonymous' } });
  });
});
