/**
 * The local storage signing key that instances on one database share (plugins/files/sql/signing-key.sql):
 * instances starting at the same moment all get the first one's key. (It once returned no row to
 * the second, whose gateway then failed to start: "Cannot read properties of undefined".)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../gateway/logger.ts';
import { runMigrations } from '../gateway/migrations.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const SIGNING_KEY = readFileSync(new URL('../plugins/files/sql/signing-key.sql', import.meta.url), 'utf8');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const dir = fileURLToPath(new URL('../plugins/files/migrations', import.meta.url));
  await runMigrations(db.pool, [{ plugin: 'files', schema: 'files', dir }], createLogger('silent'));
});
afterAll(() => db.drop());

it('gives an instance that starts while the first is making the key that same key', async () => {
  const first = new pg.Client({ connectionString: db.url, application_name: 'first instance' });
  const second = new pg.Client({ connectionString: db.url, application_name: 'second instance' });
  await Promise.all([first.connect(), second.connect()]);
  try {
    await first.query('BEGIN');
    expect((await first.query(SIGNING_KEY, ['key-of-the-first'])).rows).toEqual([{ secret: 'key-of-the-first' }]);
    const made = second.query(SIGNING_KEY, ['key-of-the-second']);
    // The second waits on the first's uncommitted row before the first commits.
    await expect
      .poll(
        async () =>
          (
            await db.pool.query(
              "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = 'second instance'",
            )
          ).rows[0]?.wait_event_type,
      )
      .toBe('Lock');
    await first.query('COMMIT');
    expect((await made).rows).toEqual([{ secret: 'key-of-the-first' }]);
    // And later instances read it too.
    expect((await second.query(SIGNING_KEY, ['key-of-a-third'])).rows).toEqual([{ secret: 'key-of-the-first' }]);
  } finally {
    await Promise.all([first.end(), second.end()]);
  }
});
