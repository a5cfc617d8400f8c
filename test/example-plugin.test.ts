/**
 * The example plugin of README "Adding a plugin" (examples/plugins/bookmarks), composed with the
 * real gateway on Postgres (and Redis, when one answers): its migration, its GraphQL query over
 * HTTP, its signed webhook, its job, and its command through the real CLI in a child process.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import bookmarks from '../examples/plugins/bookmarks/index.ts';
import core from '../plugins/core/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { signToken } from './support/tokens.ts';

const SECRET = 'bookmarks-example-secret-0123456789abcdef';
const CLI = fileURLToPath(new URL('./support/cli-with-example.ts', import.meta.url));

interface Page {
  edges: { node: { id: string; url: string; title: string; savedAt: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A `bookmark.saved` event as the sender would post it. */
const saved = (eventId: string, id: string, title: string, savedAt: string) => ({
  id: eventId,
  type: 'bookmark.saved',
  data: { id, url: `https://example.com/${id}`, title, savedAt },
});

/** Runs `plugboard <args>` with the example plugin registered; only the env given (plus PATH). */
function plugboard(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the example plugin (examples/plugins/bookmarks)', () => {
  let database: TestDatabase;
  let gateway: TestGateway;
  let userHeaders: Record<string, string>;

  const deliver = (event: object, secret = SECRET) => {
    const body = JSON.stringify(event);
    const signature = createHmac('sha256', secret).update(body).digest('hex');
    return fetch(`${gateway.url}/webhooks/bookmarks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bookmarks-signature': `sha256=${signature}` },
      body,
    });
  };

  const list = async (variables: { first?: number; after?: string } = {}): Promise<Page> => {
    const { status, body } = await gateway.gql(
      `query ($first: Int, $after: String) {
        bookmarks(first: $first, after: $after) {
          edges { node { id url title savedAt } }
          pageInfo { hasNextPage endCursor }
        }
      }`,
      { variables, headers: userHeaders },
    );
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    return body.data!['bookmarks'] as Page;
  };
  const titles = async () => (await list()).edges.map((edge) => `${edge.node.id}:${edge.node.title}`);
  const eventStatus = async (id: string) =>
    (await database.pool.query<{ status: string }>('SELECT status FROM bookmarks.events WHERE id = $1', [id])).rows[0]
      ?.status;

  beforeAll(async () => {
    database = await createTestDatabase();
    gateway = await startTestGateway({
      databaseUrl: database.url,
      plugins: [core, bookmarks],
      env: {
        PLUGBOARD_PLUGINS: 'bookmarks',
        BOOKMARKS_WEBHOOK_SECRET: SECRET,
        REDIS_URL: inject('redisUrl') || undefined,
      },
    });
    userHeaders = { authorization: `Bearer ${await signToken({ userId: 'reader' })}` };
  });
  afterAll(async () => {
    await gateway?.close();
    await database?.drop();
  });

  it('runs its migration: schema bookmarks holds exactly the tables plugin.json lists', async () => {
    const { rows } = await database.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'bookmarks' ORDER BY table_name",
    );
    expect(rows.map((row) => row.table_name)).toEqual(['bookmarks', 'events']);
    const applied = await database.pool.query<{ version: number; name: string }>(
      "SELECT version, name FROM plugboard.schema_migrations WHERE plugin = 'bookmarks'",
    );
    expect(applied.rows).toEqual([{ version: 1, name: 'bookmarks' }]);
    const empty = await list();
    expect(empty.edges).toEqual([]);
    expect(empty.pageInfo.hasNextPage).toBe(false);
  });

  it('answers the query only to a signed-in caller', async () => {
    const { body } = await gateway.gql('{ bookmarks { edges { node { id } } } }');
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.['code']).toMatch(/^(FORBIDDEN|UNAUTHENTICATED)$/);
  });

  it('stores a signed webhook, applies it, and shows the bookmark in the query', async () => {
    const response = await deliver(saved('evt_1', 'bm_1', 'First', '2026-01-02T03:04:05.000Z'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, duplicate: false });
    await vi.waitFor(async () => expect(await titles()).toEqual(['bm_1:First']), { timeout: 10_000 });
    const [bookmark] = (await list()).edges;
    expect(bookmark!.node).toEqual({
      id: 'bm_1',
      url: 'https://example.com/bm_1',
      title: 'First',
      savedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(await eventStatus('evt_1')).toBe('processed');

    // A redelivery is acknowledged and has no second effect.
    const again = await deliver(saved('evt_1', 'bm_1', 'First', '2026-01-02T03:04:05.000Z'));
    expect(await again.json()).toEqual({ received: true, duplicate: true });
  });

  it('refuses a badly signed or unsigned webhook with 400 and stores nothing', async () => {
    const forged = await deliver(saved('evt_forged', 'bm_forged', 'Forged', '2026-02-01T00:00:00Z'), `${SECRET}x`);
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({
      errors: [
        {
          message: 'The x-bookmarks-signature header is missing or wrong',
          extensions: { code: 'WEBHOOK_SIGNATURE_INVALID' },
        },
      ],
    });
    const unsigned = await fetch(`${gateway.url}/webhooks/bookmarks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(saved('evt_unsigned', 'bm_unsigned', 'Unsigned', '2026-02-01T00:00:00Z')),
    });
    expect(unsigned.status).toBe(400);
    // The 400 is answered before anything is stored, so there is nothing to wait for.
    const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM bookmarks.events ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual(['evt_1']);
    expect(await titles()).toEqual(['bm_1:First']);
  });

  it('keeps the newest state when an older event arrives late, and pages newest first', async () => {
    expect((await deliver(saved('evt_2', 'bm_1', 'Stale', '2025-06-01T00:00:00Z'))).status).toBe(200);
    expect((await deliver(saved('evt_3', 'bm_2', 'Second', '2026-03-01T00:00:00Z'))).status).toBe(200);
    expect((await deliver(saved('evt_4', 'bm_3', 'Old', '2024-05-01T00:00:00Z'))).status).toBe(200);
    await vi.waitFor(
      async () =>
        expect(await Promise.all(['evt_2', 'evt_3', 'evt_4'].map(eventStatus))).toEqual(Array(3).fill('processed')),
      { timeout: 10_000 },
    );
    expect(await titles()).toEqual(['bm_2:Second', 'bm_1:First', 'bm_3:Old']);

    const first = await list({ first: 2 });
    expect(first.edges.map((edge) => edge.node.id)).toEqual(['bm_2', 'bm_1']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = await list({ first: 2, after: first.pageInfo.endCursor! });
    expect(rest.edges.map((edge) => edge.node.id)).toEqual(['bm_3']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it('runs its prune job on the queue, and fails a job with bad data for good', async () => {
    const { id } = await gateway.queue.add('bookmarks', 'prune', { savedBefore: '2025-01-01T00:00:00Z' });
    await vi.waitFor(async () => expect((await gateway.queue.getJob('bookmarks', id))?.state).toBe('completed'), {
      timeout: 10_000,
    });
    expect((await gateway.queue.getJob('bookmarks', id))?.result).toEqual({ pruned: 1 });
    expect(await titles()).toEqual(['bm_2:Second', 'bm_1:First']);

    const bad = await gateway.queue.add('bookmarks', 'prune', { savedBefore: 'yesterday' }, { attempts: 3 });
    await vi.waitFor(async () => expect((await gateway.queue.getJob('bookmarks', bad.id))?.state).toBe('failed'), {
      timeout: 10_000,
    });
    const failed = await gateway.queue.getJob('bookmarks', bad.id);
    expect(failed?.error).toBe('prune needs { savedBefore: an ISO 8601 time }');
    expect(failed?.attemptsMade).toBe(1);
    expect(await titles()).toEqual(['bm_2:Second', 'bm_1:First']);
  });

  it('counts the bookmarks with `plugboard bookmarks count`, and the CLI names a missing secret', async () => {
    const env = { DATABASE_URL: database.url, PLUGBOARD_PLUGINS: 'bookmarks' };
    const run = await plugboard(['bookmarks', 'count'], { ...env, BOOKMARKS_WEBHOOK_SECRET: SECRET });
    expect(run).toEqual({ code: 0, stdout: '2 bookmarks\n', stderr: '' });

    const help = await plugboard(['bookmarks', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/count\s+Print how many bookmarks are stored/);

    const missing = await plugboard(['bookmarks', 'count'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/BOOKMARKS_WEBHOOK_SECRET \(plugin bookmarks\): is required/);
  }, 90_000);
});
