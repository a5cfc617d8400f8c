/**
 * Per-plugin SQL migrations: `plugins/<name>/migrations/NNN_description.sql`, applied in order,
 * each in its own transaction with `search_path` set to the plugin's schema, recorded with a
 * checksum in plugboard.schema_migrations, all under one Postgres advisory lock.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError, type ConfigProblem } from './config/variables.ts';
import { gatewaySql } from './sql.ts';

export interface MigrationSource {
  plugin: string;
  /** The Postgres schema the plugin owns. */
  schema: string;
  /** Folder of NNN_*.sql files, or null for a plugin without migrations. */
  dir: string | null;
  /** The tables its manifest says the migrations create (`database.tables`), when it lists them. */
  tables?: readonly string[] | undefined;
}

export interface MigrationFile {
  plugin: string;
  schema: string;
  version: number;
  name: string;
  path: string;
  checksum: string;
  sql: string;
}

export type MigrationState = 'applied' | 'pending' | 'changed' | 'missing';

export interface MigrationStatus {
  plugin: string;
  version: number;
  name: string;
  state: MigrationState;
  appliedAt: Date | null;
}

/** Stops start-up: a migration failed, was edited after it ran, or is missing or out of order. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_-]+)\.sql$/i;

function display(path: string): string {
  return relative(process.cwd(), path) || path;
}

export function loadMigrationFiles(source: MigrationSource): MigrationFile[] {
  if (!source.dir || !existsSync(source.dir)) return [];
  const files: MigrationFile[] = [];
  for (const entry of readdirSync(source.dir).sort()) {
    if (!entry.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(entry);
    const path = join(source.dir, entry);
    if (!match) throw new MigrationError(`${display(path)}: migration files are named NNN_description.sql`);
    const sql = readFileSync(path, 'utf8');
    const version = Number(match[1]);
    const clash = files.find((f) => f.version === version);
    if (clash) throw new MigrationError(`${display(path)} and ${display(clash.path)} share version ${version}`);
    files.push({
      plugin: source.plugin,
      schema: source.schema,
      version,
      name: match[2]!,
      path,
      checksum: createHash('sha256').update(sql).digest('hex'),
      sql,
    });
  }
  return files;
}

interface AppliedRow {
  plugin: string;
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

async function readApplied(db: pg.Pool | pg.PoolClient, plugins: string[]): Promise<AppliedRow[]> {
  const exists = await db.query<{ exists: boolean }>(gatewaySql('migrations-table-exists'));
  if (!exists.rows[0]?.exists) return [];
  return (await db.query<AppliedRow>(gatewaySql('migrations-applied'), [plugins])).rows;
}

function compare(files: MigrationFile[], applied: AppliedRow[]): MigrationStatus[] {
  const statuses: MigrationStatus[] = [];
  const byKey = new Map(applied.map((row) => [`${row.plugin}:${row.version}`, row]));
  for (const file of files) {
    const row = byKey.get(`${file.plugin}:${file.version}`);
    byKey.delete(`${file.plugin}:${file.version}`);
    statuses.push({
      plugin: file.plugin,
      version: file.version,
      name: file.name,
      state: !row ? 'pending' : row.checksum === file.checksum ? 'applied' : 'changed',
      appliedAt: row?.applied_at ?? null,
    });
  }
  for (const row of byKey.values()) {
    statuses.push({
      plugin: row.plugin,
      version: row.version,
      name: row.name,
      state: 'missing',
      appliedAt: row.applied_at,
    });
  }
  return statuses.sort((a, b) => a.plugin.localeCompare(b.plugin) || a.version - b.version);
}

export async function migrationStatus(pool: pg.Pool, sources: MigrationSource[]): Promise<MigrationStatus[]> {
  return statusOf(
    pool,
    sources.flatMap(loadMigrationFiles),
    sources.map((s) => s.plugin),
  );
}

/** Status of files already loaded (readiness checks call this without touching the disk). */
export async function statusOf(pool: pg.Pool, files: MigrationFile[], plugins: string[]): Promise<MigrationStatus[]> {
  return compare(files, await readApplied(pool, plugins));
}

/** Rejects a database whose applied history disagrees with the files on disk. */
function verifyHistory(files: MigrationFile[], statuses: MigrationStatus[]): void {
  const problems: string[] = [];
  for (const status of statuses) {
    const file = files.find((f) => f.plugin === status.plugin && f.version === status.version);
    if (status.state === 'changed') {
      problems.push(
        `${display(file!.path)} was changed after it was applied; applied migrations are immutable, add a new one instead`,
      );
    } else if (status.state === 'missing') {
      problems.push(
        `migration ${status.plugin} ${String(status.version).padStart(3, '0')}_${status.name} was applied but its file is gone`,
      );
    }
  }
  for (const pending of statuses.filter((s) => s.state === 'pending')) {
    const later = statuses.find(
      (s) => s.plugin === pending.plugin && s.state === 'applied' && s.version > pending.version,
    );
    if (later) {
      problems.push(
        `${pending.plugin} migration ${pending.version} is pending but ${later.version} is already applied (out of order)`,
      );
    }
  }
  if (problems.length > 0) throw new MigrationError(`Migrations cannot run:\n  - ${problems.join('\n  - ')}`);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Applies every pending migration of the given plugins. Safe to call from several processes at
 * once: the advisory lock makes them take turns, and each re-reads the history under the lock.
 */
export async function runMigrations(pool: pg.Pool, sources: MigrationSource[], log: Logger): Promise<MigrationFile[]> {
  const files = sources.flatMap(loadMigrationFiles);
  const client = await pool.connect();
  // A connection lost between statements arrives as an 'error' event on this checked-out client;
  // the next statement fails with it anyway (and the client is then destroyed, see below).
  const ignoreLost = () => {};
  client.on('error', ignoreLost);
  const applied: MigrationFile[] = [];
  let unlocked = false;
  try {
    await client.query(gatewaySql('migrations-lock'));
    try {
      await client.query(gatewaySql('migrations-table'));
      const statuses = compare(
        files,
        await readApplied(
          client,
          sources.map((s) => s.plugin),
        ),
      );
      verifyHistory(files, statuses);
      for (const file of files) {
        if (statuses.find((s) => s.plugin === file.plugin && s.version === file.version)?.state !== 'pending') continue;
        const started = Date.now();
        try {
          await client.query('BEGIN');
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(file.schema)}`);
          await client.query(`SET LOCAL search_path TO ${quoteIdent(file.schema)}, public`);
          await client.query(file.sql);
          await client.query(gatewaySql('migrations-record'), [
            file.plugin,
            file.version,
            file.name,
            file.checksum,
            Date.now() - started,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          const reason = error instanceof Error ? error.message : String(error);
          throw new MigrationError(`Migration ${display(file.path)} failed and was rolled back: ${reason}`, {
            cause: error,
          });
        }
        log.info(
          { plugin: file.plugin, version: file.version, name: file.name, ms: Date.now() - started },
          'migration applied',
        );
        applied.push(file);
      }
    } finally {
      unlocked = await client.query(gatewaySql('migrations-unlock')).then(
        () => true,
        () => false,
      );
    }
  } finally {
    // A connection that may still hold the lock is closed rather than returned to the pool.
    client.off('error', ignoreLost);
    client.release(!unlocked);
  }
  return applied;
}

/**
 * After migrations: each plugin's schema holds exactly the tables its manifest lists, so the
 * manifest (which operators and Hasura metadata read) cannot drift from the migrations.
 */
export async function checkPluginTables(pool: pg.Pool, sources: readonly MigrationSource[]): Promise<void> {
  const listing = sources.filter((source) => source.dir && source.tables);
  if (listing.length === 0) return;
  const { rows } = await pool.query<{ schema: string; tables: string[] }>(gatewaySql('plugin-tables'), [
    listing.map((source) => source.schema),
  ]);
  const problems: ConfigProblem[] = [];
  for (const source of listing) {
    const actual = rows.find((row) => row.schema === source.schema)?.tables ?? [];
    const unmade = source.tables!.filter((table) => !actual.includes(table));
    const unlisted = actual.filter((table) => !source.tables!.includes(table));
    const owner = `plugin ${source.plugin}`;
    if (unmade.length > 0)
      problems.push({
        variable: 'plugin.json',
        owner,
        message: `/database/tables lists ${unmade.join(', ')}, which its migrations do not create in schema ${source.schema}`,
      });
    if (unlisted.length > 0)
      problems.push({
        variable: 'plugin.json',
        owner,
        message: `/database/tables lacks ${unlisted.join(', ')}, which its migrations create in schema ${source.schema}`,
      });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
