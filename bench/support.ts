/**
 * What the benchmarks share: fresh databases, server processes pinned to the second core (the
 * load generator keeps the first), and the median of per-round figures. This VM's speed drifts
 * by ±20% within a minute, so every benchmark rotates short rounds and reports medians.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import pg from 'pg';

export const ADMIN_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Processes are pinned to cores when taskset is there, so load generator and server do not trade
 * places; `BENCH_PIN=false` runs everything unpinned, sharing all cores as deployed.
 */
export const PINNED =
  process.env['BENCH_PINNED_CHILD'] === '1' || // runPinnedSelf's child, which sees one core
  (existsSync('/usr/bin/taskset') && availableParallelism() > 1 && process.env['BENCH_PIN'] !== 'false');
export const pinning = PINNED ? 'pinned (taskset)' : 'unpinned (all cores shared)';

const CLOCK_TICKS_PER_SECOND = 100;

/** A process's CPU time (user + system) so far, in µs: /proc/<pid>/stat fields 14 and 15, in clock ticks (after the comm field). */
export function cpuMicrosOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/** The process's write system calls so far (write, writev, sendmsg…: `syscw` in /proc/<pid>/io). */
export function writeCallsOf(pid: number): number {
  return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? Number.NaN);
}

/** The process's system (kernel) CPU time so far, in microseconds. */
export function systemMicrosOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[12]) / CLOCK_TICKS_PER_SECOND) * 1e6;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Runs the pair, swapping which goes first every round so neither always meets a warmer machine. */
export async function inTurn(
  round: number,
  first: () => Promise<unknown>,
  second: () => Promise<unknown>,
): Promise<void> {
  for (const run of round % 2 === 0 ? [first, second] : [second, first]) await run();
}

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(prefix = 'plugboard_bench'): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(ADMIN_URL);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client(ADMIN_URL);
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A command pinned to one core (unless PINNED is off). */
export const pinned = (cpu: number, command: string[]) =>
  PINNED ? ['taskset', '-c', String(cpu), ...command] : command;

/**
 * For benchmarks that run in one process: re-runs this script pinned to `cpu` and exits with its
 * status; returns in the pinned child (or at once when PINNED is off).
 */
export function runPinnedSelf(cpu: number): void {
  if (!PINNED || process.env['BENCH_PINNED_CHILD'] === '1') return;
  const [command, ...args] = pinned(cpu, [process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  const { status } = spawnSync(command!, args, { stdio: 'inherit', env: { ...process.env, BENCH_PINNED_CHILD: '1' } });
  process.exit(status ?? 1);
}

export interface Server {
  url: string;
  pid: number;
  /** CPU time (user + system) the server process has used so far, in microseconds. */
  cpuMicros(): number;
  /** The server process's resident memory now, in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/** Spawns `node <script>` on core 1 with PORT set to a free port, and waits until `probe` answers 200. */
export async function startServer(
  script: string[],
  env: Record<string, string>,
  probe: (url: string) => Promise<Response>,
  timeoutMs = 60_000,
): Promise<Server> {
  const port = await freePort();
  const [command, ...args] = pinned(1, [process.execPath, ...script]);
  const child: ChildProcess = spawn(command!, args, {
    cwd: ROOT,
    // No load balancer in front: SIGTERM need not wait for one to take the server out.
    env: { PATH: process.env['PATH'] ?? '', PLUGBOARD_SHUTDOWN_DELAY_MS: '0', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${script.join(' ')} exited before it was ready`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script.join(' ')} not ready in ${timeoutMs} ms`);
    }
    const ok = await probe(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(20);
  }
  return {
    url,
    pid: child.pid!,
    cpuMicros: () => cpuMicrosOf(child.pid!),
    rssBytes: () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs `plugboard migrate` with `env` (and PATH), its output shown; throws if it fails. */
export function migrate(env: Record<string, string>): void {
  const migrated = spawnSync(process.execPath, ['bin/plugboard.js', 'migrate'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: 'inherit',
  });
  if (migrated.status !== 0) throw new Error('plugboard migrate failed');
}

export const readyz = (url: string) => fetch(`${url}/readyz`);

/**
 * Posts every request to `url` with `concurrency` senders over keep-alive connections, each taking
 * the next request from a shared index (so requests about one object may arrive out of order, as
 * providers' webhooks do); throws when any answer is not 200.
 */
export async function postAll(
  url: string,
  requests: readonly { body: string; headers: Record<string, string> }[],
  concurrency: number,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const failures: string[] = [];
  const post = ({ body, headers }: { body: string; headers: Record<string, string> }) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => {
            if (response.statusCode !== 200) failures.push(`${response.statusCode} ${text.slice(0, 200)}`);
            resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests.length) await post(requests[next++]!);
    }),
  );
  agent.destroy();
  if (failures.length > 0) throw new Error(`${url}: ${failures.length} deliveries refused, e.g. ${failures[0]}`);
}

/**
 * Waits until `count` events of a plugin's webhook log are processed (polled every 20 ms, for at
 * most two minutes); throws as soon as one has failed.
 */
export async function untilApplied(db: pg.Client, schema: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { rows } = await db.query<{ done: number; failed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'processed')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM ${pg.escapeIdentifier(schema)}.events`,
    );
    if (rows[0]!.failed > 0) throw new Error(`${rows[0]!.failed} events failed`);
    if (rows[0]!.done === count) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]!.done} of ${count} events applied`);
    await sleep(20);
  }
}

/** On Ctrl-C or `timeout` (SIGINT, SIGTERM): runs `cleanup` (stop servers, drop the database), then exits 130. */
export function cleanUpOnSignal(cleanup: () => Promise<unknown>): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

/** A Hasura-style JWT for the benches' user, signed with `secret` (HS256), valid for an hour. */
export function benchUserToken(secret: string, userId = 'bench-user'): Promise<string> {
  return new SignJWT({
    'https://hasura.io/jwt/claims': {
      'x-hasura-default-role': 'user',
      'x-hasura-allowed-roles': ['user'],
      'x-hasura-user-id': userId,
    },
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret));
}

/**
 * POSTs `body` to `url`/graphql over `connections` connections for `seconds`, or until `amount`
 * requests are answered (autocannon): the average requests a second and how many were answered.
 * Any non-2xx answer or error throws, so a figure is never of failing requests.
 */
export async function graphqlRequestsPerSecond(
  url: string,
  options: { body: string; headers: Record<string, string>; connections: number } & (
    | { seconds: number }
    | { amount: number }
  ),
): Promise<{ rps: number; requests: number }> {
  const result = await autocannon({
    url: `${url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    connections: options.connections,
    ...('amount' in options ? { amount: options.amount } : { duration: options.seconds }),
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return { rps: result.requests.average, requests: result.requests.total };
}

/**
 * The gateway as `npm run bench` runs it (JWT, limits, metrics, the core plugin only), with
 * tracing on when `tracing` is given: an OTLP endpoint and the ratio of traces sampled.
 */
export function gatewayEnv(tracing?: { endpoint: string; ratio: string }): Record<string, string> {
  return {
    DATABASE_URL: ADMIN_URL,
    PLUGBOARD_JWT_SECRET: BENCH_JWT_SECRET,
    // Documents as text, as before trusted documents (issue 23).
    PLUGBOARD_DOCUMENTS: 'any',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PLUGBOARD_PLUGINS: 'core',
    ...(tracing && {
      OTEL_EXPORTER_OTLP_ENDPOINT: tracing.endpoint,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: tracing.ratio,
      // The batch span processor's OTEL_BSP_* settings pass through, to price them.
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('OTEL_BSP_'))),
    }),
  };
}

/** The gateway's smallest query and its JWT secret: `npm run bench` and the benches measured beside it (tracing). */
export const SMALL_QUERY = 'query Bench { viewer { role userId } plugins { name version enabled reason } }';
export const BENCH_JWT_SECRET = 'bench-secret-0123456789abcdef-0123456789';
