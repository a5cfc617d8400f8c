/**
 * store.withLog: the upserts a webhook batch is applied with inside the statement that logs it.
 * Pure rules, no database (the statement itself runs in test/github-webhooks.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { ObjectState, SyncTables } from '../gateway/sync/resource.ts';
import { createSyncStore } from '../gateway/sync/store.ts';

const tables: SyncTables = {
  schema: 'shop',
  versionColumn: 'updated_at',
  resources: [
    { table: 'items', idType: 'bigint' },
    { table: 'notes' },
    {
      table: 'orders',
      children: [{ table: 'lines', parentColumn: 'order_id', of: (order) => ({ objects: [], complete: !!order }) }],
    },
  ],
};
const store = createSyncStore(tables);
const state = (table: string, id: number, versionAt: number, eventId = `e${id}.${versionAt}`): ObjectState => ({
  table,
  object: { id },
  deleted: false,
  versionAt,
  eventId,
  inPayload: { path: ['item'] },
});

describe('store.withLog', () => {
  it('gives one upsert per table, tables in name order, parameters numbered from the first free one', () => {
    const parts = store.withLog([state('notes', 1, 10), state('items', 2, 10), state('items', 1, 10)], 2)!;
    expect(parts.statements).toHaveLength(2);
    expect(parts.statements[0]).toMatch(/INSERT INTO "shop"\."items"[\s\S]*jsonb_to_recordset\(\$2::jsonb\)/);
    expect(parts.statements[1]).toMatch(/INSERT INTO "shop"\."notes"[\s\S]*jsonb_to_recordset\(\$3::jsonb\)/);
    // Rows in id order, the object's place in its event's payload instead of the object.
    expect(JSON.parse(parts.values[0]!)).toEqual([
      { id: '1', data: null, path: ['item'], is_deleted: false, version_at: 10, event_id: 'e1.10' },
      { id: '2', data: null, path: ['item'], is_deleted: false, version_at: 10, event_id: 'e2.10' },
    ]);
  });

  it('keeps the newest state of an id within the batch', () => {
    const parts = store.withLog([state('items', 1, 20), state('items', 1, 10)], 2)!;
    expect(JSON.parse(parts.values[0]!)).toMatchObject([{ id: '1', version_at: 20, event_id: 'e1.20' }]);
  });

  it('declines a batch whose objects carry children: their removal needs statements of its own', () => {
    expect(store.withLog([state('orders', 1, 10)], 2)).toBeNull();
  });

  it('has nothing to write for a batch without states', () => {
    expect(store.withLog([], 2)).toEqual({ statements: [], values: [] });
  });
});
