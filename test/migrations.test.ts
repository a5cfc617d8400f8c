import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../gateway/logger.ts';
import { MigrationError, migrationStatus, runMigrations, type MigrationSource } from '../gateway/migrations.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const log = createLogger('silent');
let db: TestDatabase;
let dir: string;
let source: MigrationSource;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plugboard-migrations-'));
  const plugin = `m${Math.random().toString(36).slice(2, 8)}`;
  source = { plugin, schema: plugin, dir };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = (name: string, sql: string) => writeFile(join(dir, name), sql);

describe('migrations', () => {
  it('applies files in order, each into the plugin schema, recorded with a checksum', async () => {
    await write('002_add_email.sql', 'ALTER TABLE people ADD COLUMN email text;');
    await write('001_people.sql', 'CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL);');
    const applied = await runMigrations(db.pool, [source], log);
    expect(applied.map((m) => m.version)).toEqual([1, 2]);

    const columns = await db.pool.query(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [source.schema, 'people'],
    );
    expect(columns.rows.map((r) => r.column_name)).toEqual(['id', 'name', 'email']);
    const recorded = await db.pool.query(
      'SELECT version, name, length(checksum) AS len FROM plugboard.schema_migrations WHERE plugin = $1 ORDER BY version',
      [source.plugin],
    );
    expect(recorded.rows).toEqual([
      { version: 1, name: 'people', len: 64 },
      { version: 2, name: 'add_email', len: 64 },
    ]);

    expect(await runMigrations(db.pool, [source], log)).toEqual([]);
    expect((await migrationStatus(db.pool, [source])).map((s) => s.state)).toEqual(['applied', 'applied']);
  });

  it('stops when an applied file was changed', async () => {
    await write('001_t.sql', 'CREATE TABLE t (id int);');
    await runMigrations(db.pool, [source], log);
    await write('001_t.sql', 'CREATE TABLE t (id bigint);');
    await write('002_u.sql', 'CREATE TABLE u (id int);');
    await expect(runMigrations(db.pool, [source], log)).rejects.toThrow(/001_t\.sql was changed after it was applied/);
    expect((await migrationStatus(db.pool, [source])).map((s) => s.state)).toEqual(['changed', 'pending']);
    const u = await db.pool.query('SELECT to_regclass($1) AS t', [`${source.schema}.u`]);
    expect(u.rows[0].t).toBeNull();
  });

  it('rolls back a failed migration, records nothing, and names the file and the error', async () => {
    await write('001_ok.sql', 'CREATE TABLE ok (id int);');
    await write('002_bad.sql', 'CREATE TABLE half (id int);\nSELECT no_such_function();');
    const error = await runMigrations(db.pool, [source], log).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(
      /002_bad\.sql failed and was rolled back: function no_such_function\(\) does not exist/,
    );
    const half = await db.pool.query('SELECT to_regclass($1) AS t', [`${source.schema}.half`]);
    expect(half.rows[0].t).toBeNull();
    expect((await migrationStatus(db.pool, [source])).map((s) => `${s.version}:${s.state}`)).toEqual([
      '1:applied',
      '2:pending',
    ]);
  });

  it('refuses a pending migration older than an applied one, and a missing applied file', async () => {
    await write('002_b.sql', 'CREATE TABLE b (id int);');
    await runMigrations(db.pool, [source], log);
    await write('001_a.sql', 'CREATE TABLE a (id int);');
    await expect(runMigrations(db.pool, [source], log)).rejects.toThrow(
      /migration 1 is pending but 2 is already applied/,
    );
    await rm(join(dir, '002_b.sql'));
    await rm(join(dir, '001_a.sql'));
    await expect(runMigrations(db.pool, [source], log)).rejects.toThrow(/002_b was applied but its file is gone/);
  });

  it('refuses badly named files and duplicate versions', async () => {
    await write('1_short.sql', 'SELECT 1;');
    await expect(runMigrations(db.pool, [source], log)).rejects.toThrow(/NNN_description\.sql/);
    await rm(join(dir, '1_short.sql'));
    await write('001_a.sql', 'SELECT 1;');
    await write('001_b.sql', 'SELECT 1;');
    await expect(runMigrations(db.pool, [source], log)).rejects.toThrow(/share version 1/);
  });

  it('lets two gateways migrate at once without racing (advisory lock)', async () => {
    // Slow enough that both runners overlap; without the lock the second CREATE TABLE fails.
    await write('001_slow.sql', 'SELECT pg_sleep(0.5); CREATE TABLE raced (id int);');
    await write('002_more.sql', 'INSERT INTO raced VALUES (1);');
    const second = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const [a, b] = await Promise.all([runMigrations(db.pool, [source], log), runMigrations(second, [source], log)]);
      expect([...a, ...b].map((m) => m.version).sort()).toEqual([1, 2]);
      const rows = await db.pool.query(`SELECT count(*)::int AS n FROM ${source.schema}.raced`);
      expect(rows.rows[0].n).toBe(1);
    } finally {
      await second.end();
    }
  });
});
