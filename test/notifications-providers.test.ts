/**
 * The notifications plugin's provider sync (sql/providers-sync.sql), run by every gateway at
 * start: two gateways starting at once on a fresh database must both see every configured provider.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runMigrations } from '../gateway/migrations.ts';
import { createLogger } from '../gateway/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const SYNC = readFileSync(new URL('../plugins/notifications/sql/providers-sync.sql', import.meta.url), 'utf8');
/** Sessions of this database waiting for a lock: the sync, blocked behind the other gateway's insert. */
const WAITING =
  "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const dir = fileURLToPath(new URL('../plugins/notifications/migrations/', import.meta.url));
  await runMigrations(db.pool, [{ plugin: 'notifications', schema: 'notifications', dir }], createLogger('silent'));
});
afterAll(() => db?.drop());

test('returns a provider another gateway added after its snapshot began, and keeps admin switches', async () => {
  const other = new pg.Client(db.url);
  await other.connect();
  try {
    // Another gateway has added `smtp` but not committed yet: this sync's insert waits for it.
    await other.query('BEGIN');
    await other.query(
      "INSERT INTO notifications.providers (name, channel, priority, enabled) VALUES ('smtp', 'EMAIL', 1, false)",
    );
    const sync = db.pool.query<{ name: string; enabled: boolean }>(SYNC, [
      ['smtp', 'twilio'],
      ['EMAIL', 'SMS'],
    ]);
    await expect.poll(async () => (await db.pool.query<{ n: number }>(WAITING)).rows[0]!.n).toBeGreaterThan(0);
    await other.query('COMMIT');
    expect((await sync).rows).toEqual([
      { name: 'smtp', channel: 'EMAIL', priority: 1, enabled: false },
      { name: 'twilio', channel: 'SMS', priority: 2, enabled: true },
    ]);
  } finally {
    await other.end();
  }
});
