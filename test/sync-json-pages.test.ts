/**
 * The sync core's fast path for full backfills: pages kept as the provider's JSON text and
 * written by Postgres (store.writeJsonPages), and the syncer choosing it only for a full backfill.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryPubSub } from '../gateway/pubsub.ts';
import { inTransaction } from '../gateway/sql.ts';
import type { JsonPage, SyncedObject, SyncResource, SyncTables } from '../gateway/sync/resource.ts';
import { createSyncStore } from '../gateway/sync/store.ts';
import { createSyncer } from '../gateway/sync/syncer.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`
    CREATE SCHEMA shop;
    CREATE TABLE shop.items (
      id bigint PRIMARY KEY,
      title text GENERATED ALWAYS AS (data->>'title') STORED,
      data jsonb NOT NULL,
      is_deleted boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL,
      last_event_id text,
      synced_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE shop.sync_state (
      resource text PRIMARY KEY, status text NOT NULL DEFAULT 'idle', cursor text, run_id uuid,
      run_since timestamptz, last_sync_at timestamptz, last_event_at timestamptz,
      objects_synced bigint NOT NULL DEFAULT 0, last_error text, updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE shop.sync_runs (
      id uuid PRIMARY KEY, kind text NOT NULL, resources text[] NOT NULL, since timestamptz,
      status text NOT NULL DEFAULT 'running', counts jsonb NOT NULL DEFAULT '{}', error text,
      started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz
    );`);
}, 30_000);

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await db.pool.query('TRUNCATE shop.items, shop.sync_state, shop.sync_runs');
});

const listing = { versionKey: 'updated_at', skipKey: 'pull_request' };
const page = (objects: unknown[]) => Buffer.from(JSON.stringify(objects));
const rows = async () =>
  (
    await db.pool.query<{ id: string; title: string; data: unknown; updated_at: Date; is_deleted: boolean }>(
      'SELECT id::text, title, data, updated_at, is_deleted FROM shop.items ORDER BY items.id',
    )
  ).rows;

describe('store.writeJsonPages', () => {
  const tables: SyncTables = {
    schema: 'shop',
    versionColumn: 'updated_at',
    resources: [{ table: 'items', idType: 'bigint' }],
  };
  const store = createSyncStore(tables);

  it('writes the newest state of each id, as listed, leaving out objects that belong elsewhere', async () => {
    const first = {
      id: 1,
      title: 'one (old)',
      updated_at: '2030-01-01T00:00:00Z',
      labels: [{ name: 'ü "quoted" \\n' }],
    };
    const newer = { ...first, title: 'one', updated_at: '2030-01-02T00:00:00Z' };
    const undated = { id: 2, title: 'two' };
    const pull = { id: 3, title: 'a pull request', updated_at: '2030-01-01T00:00:00Z', pull_request: {} };
    const deleted = { id: 4, title: 'gone', updated_at: '2030-01-01T00:00:00Z', deleted: true };
    // The same id twice in one write (changed while it was being listed): the newer state wins.
    const written = await store.writeJsonPages(
      db.pool,
      'items',
      [page([newer, undated]), page([pull, first, deleted])],
      listing,
      Date.parse('2031-05-05T00:00:00Z') / 1000,
    );
    expect(written).toBe(3);
    expect(await rows()).toEqual([
      { id: '1', title: 'one', data: newer, updated_at: new Date('2030-01-02T00:00:00Z'), is_deleted: false },
      { id: '2', title: 'two', data: undated, updated_at: new Date('2031-05-05T00:00:00Z'), is_deleted: false },
      { id: '4', title: 'gone', data: deleted, updated_at: new Date('2030-01-01T00:00:00Z'), is_deleted: true },
    ]);
  });

  it('keeps a stored newer state when an older one is listed', async () => {
    const stored = { id: 7, title: 'edited by a webhook', updated_at: '2030-03-01T00:00:00Z' };
    await store.writeJsonPages(db.pool, 'items', [page([stored])], listing, 0);
    const older = { id: 7, title: 'listed before the edit', updated_at: '2030-02-01T00:00:00Z' };
    expect(await store.writeJsonPages(db.pool, 'items', [page([older])], listing, 0)).toBe(0);
    expect((await rows()).map((row) => row.title)).toEqual(['edited by a webhook']);
  });

  it.each([
    ['not JSON', Buffer.from('[{"id": 1,')],
    ['an object, not an array of objects', Buffer.from('{"id": 1}')],
    ['an object without an id', page([{ title: 'no id' }])],
  ])('fails on a page that is %s, and writes nothing of the batch', async (_case, bad) => {
    const good = page([{ id: 9, title: 'fine', updated_at: '2030-01-01T00:00:00Z' }]);
    await expect(
      inTransaction(db.pool, (client) => store.writeJsonPages(client, 'items', [good, bad], listing, 0)),
    ).rejects.toThrow();
    expect(await rows()).toEqual([]);
  });

  it('refuses a table that is not one of the synced tables', async () => {
    await expect(store.writeJsonPages(db.pool, 'sync_state', [page([])], listing, 0)).rejects.toThrow(
      /not a synced table/,
    );
  });
});

describe('the syncer', () => {
  /** 250 items on pages of 100, as JSON text; the parsed list records when it is used. */
  const items = Array.from({ length: 250 }, (_, i) => ({
    id: i + 1,
    title: `item ${i + 1}`,
    updated_at: new Date(Date.UTC(2030, 0, 1) + i * 1000).toISOString(),
  }));
  const parsedCalls: (Date | null)[] = [];
  const resource: SyncResource = {
    table: 'items',
    idType: 'bigint',
    async list({ cursor, since }) {
      parsedCalls.push(since);
      const start = Number(cursor ?? 0);
      const listed = items.filter((item) => !since || Date.parse(item.updated_at) >= since.getTime());
      return {
        objects: listed.slice(start, start + 100),
        next: start + 100 < listed.length ? String(start + 100) : null,
      };
    },
    listJson: {
      async list({ cursor }): Promise<JsonPage> {
        const start = Number(cursor ?? 0);
        return {
          json: page(items.slice(start, start + 100)),
          next: start + 100 < items.length ? String(start + 100) : null,
        };
      },
      versionKey: 'updated_at',
    },
  };
  const tables: SyncTables = { schema: 'shop', versionColumn: 'updated_at', resources: [resource] };
  const syncer = () =>
    createSyncer({
      plugin: 'shop',
      db: db.pool,
      pubsub: createMemoryPubSub(),
      tables,
      store: createSyncStore(tables),
      versionOf: (object, fetchedAt) => Date.parse(String(object['updated_at'])) / 1000 || fetchedAt,
    });

  it('takes the JSON pages for a full backfill, and parsed pages for one since a time', async () => {
    parsedCalls.length = 0;
    const full = await syncer().run({ full: true });
    expect(full).toMatchObject({ kind: 'backfill', status: 'completed', counts: { items: 250 } });
    expect(parsedCalls).toEqual([]);
    expect((await rows()).map((row) => row.data)).toEqual(items);
    const [state] = (await db.pool.query('SELECT status, cursor, objects_synced FROM shop.sync_state')).rows;
    expect(state).toEqual({ status: 'completed', cursor: null, objects_synced: '250' });

    const since = new Date(items[200]!.updated_at);
    const partial = await syncer().run({ since });
    expect(partial).toMatchObject({ kind: 'backfill', status: 'completed', counts: { items: 50 } });
    expect(parsedCalls.length).toBeGreaterThan(0);
    expect(parsedCalls.every((value) => value?.getTime() === since.getTime())).toBe(true);
  });

  it('writes the object states a listing makes of its own pages, and checkpoints what it wrote', async () => {
    const lines = items.map((item) => JSON.stringify(item)).join('\n');
    const received: string[] = [];
    const jsonl: SyncResource = {
      table: 'items',
      idType: 'bigint',
      list: resource.list!,
      listJson: {
        async list({ cursor }): Promise<JsonPage> {
          // Two pages of JSON lines, as a bulk export streams them.
          const half = lines.indexOf('\n', lines.length / 2);
          return cursor === null
            ? { json: Buffer.from(lines.slice(0, half)), next: 'second' }
            : { json: Buffer.from(lines.slice(half + 1)), next: null };
        },
        states(pages, listedAt) {
          received.push(...pages.map((page) => page.json.toString()));
          expect(listedAt).toBeGreaterThan(Date.UTC(2026, 0, 1) / 1000);
          return pages.flatMap((page) =>
            page.json
              .toString()
              .split('\n')
              .map((line) => {
                const object = JSON.parse(line) as SyncedObject & { updated_at: string };
                const versionAt = Date.parse(object.updated_at) / 1000;
                return { table: 'items', object, deleted: false, versionAt, eventId: null };
              }),
          );
        },
      },
    };
    const jsonlTables: SyncTables = { schema: 'shop', versionColumn: 'updated_at', resources: [jsonl] };
    const run = await createSyncer({
      plugin: 'shop',
      db: db.pool,
      pubsub: createMemoryPubSub(),
      tables: jsonlTables,
      store: createSyncStore(jsonlTables),
      versionOf: (_object, fetchedAt) => fetchedAt,
    }).run({ full: true });
    expect(run).toMatchObject({ status: 'completed', counts: { items: 250 } });
    // Every line once (two writes run at once, so their order is not fixed).
    expect(received.flatMap((json) => json.split('\n')).sort()).toEqual(lines.split('\n').sort());
    expect((await rows()).map((row) => row.data)).toEqual(items);
  });

  it('checkpoints only past batches that committed, in order, when writes run two at a time', async () => {
    const pagesOf = (n: number) => items.slice(n * 25, n * 25 + 25);
    const failing: SyncResource = {
      table: 'items',
      idType: 'bigint',
      list: resource.list!,
      listJson: {
        // Ten pages of 25; the sixth cannot be stored.
        async list({ cursor }): Promise<JsonPage> {
          const n = Number(cursor ?? 0);
          const objects = n === 5 ? [{ id: 'not a number' }] : pagesOf(n);
          return { json: page(objects), next: n < 9 ? String(n + 1) : null };
        },
        versionKey: 'updated_at',
      },
    };
    const failingTables: SyncTables = { schema: 'shop', versionColumn: 'updated_at', resources: [failing] };
    await expect(
      createSyncer({
        plugin: 'shop',
        db: db.pool,
        pubsub: createMemoryPubSub(),
        tables: failingTables,
        store: createSyncStore(failingTables),
        versionOf: (_object, fetchedAt) => fetchedAt,
      }).run({ full: true }),
    ).rejects.toThrow();
    const [state] = (await db.pool.query('SELECT status, cursor, objects_synced FROM shop.sync_state')).rows;
    expect(state).toMatchObject({ status: 'failed' });
    // Whatever the checkpoint says was written is stored: a resumed backfill skips nothing.
    const reached = state.cursor === null ? 0 : Number(state.cursor);
    expect(reached).toBeLessThanOrEqual(5);
    const stored = (await rows()).map((row) => Number(row.id));
    for (const item of items.slice(0, reached * 25)) expect(stored).toContain(item.id);
    expect(Number(state.objects_synced)).toBe(reached * 25);
  });
});
