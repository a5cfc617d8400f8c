/**
 * Several gateways behind HAProxy on this machine: N `plugboard serve` processes (no job workers
 * inside), M `plugboard jobs worker` processes, and HAProxy in front balancing HTTP and WebSocket
 * upgrades with `/readyz` as its health check. They share the Postgres and Redis they are given.
 * Any gateway can be stopped (SIGTERM drains, SIGKILL does not) and started again on its port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { expect, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import type { GraphQLBody } from './gateway.ts';
import { startHttpTarget, type HttpTarget } from './http-target.ts';
import { serveGateway, type ServingGateway } from './processes.ts';
import { signedWebhook, startStripeServer, type StripeServer } from './stripe-server.ts';
import { ADMIN_SECRET, JWT_SECRET, signToken } from './tokens.ts';

const CLI = fileURLToPath(new URL('../../bin/plugboard.js', import.meta.url));
const HAPROXY = process.env['HAPROXY'] ?? 'haproxy';

/**
 * HAProxy's health check: every CHECK_INTERVAL_MS; CHECK_FALL failures in a row take a gateway out
 * (one slow answer from a busy gateway does not), one success brings it back.
 */
export const CHECK_INTERVAL_MS = 500;
export const CHECK_FALL = 3;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The balancer's configuration. Requests and WebSockets (tunnelled) go to whichever gateway has
 * the fewest connections among those whose `/readyz` answers 200 — so the sockets of a stopping
 * gateway move mostly to the one just restarted — (a check may take 3 s: a busy gateway is slow,
 * not down). HAProxy opens a connection per request to a
 * gateway (`http-server-close`), so it never sends a request down a kept-alive connection the
 * gateway is closing; a connection refused is retried on another gateway (`redispatch`), which is
 * safe for any method since nothing was sent. No other retry: a POST is never replayed.
 */
export function haproxyConfig(options: {
  /** Where clients connect, `host:port`. */
  bind: string;
  /** Where HAProxy's own stats page answers (`/stats`), `host:port`. */
  stats: string;
  /** The gateways, `host:port` each. */
  servers: readonly string[];
}): string {
  return `global
  maxconn 4000
  # Gateways taken out and brought back, with the reason, on stderr.
  log stderr format raw local0 notice

defaults
  mode http
  log global
  maxconn 4000
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  timeout check 3s
  timeout http-keep-alive 10s
  option http-server-close
  option forwardfor
  option redispatch 1
  retries 3
  retry-on conn-failure

frontend gateways
  bind ${options.bind}
  default_backend gateways

backend gateways
  balance leastconn
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter ${CHECK_INTERVAL_MS}ms fall ${CHECK_FALL} rise 1
${options.servers.map((server, index) => `  server g${index + 1} ${server} check`).join('\n')}

listen stats
  bind ${options.stats}
  stats enable
  stats uri /stats
`;
}

export interface ClusterGateway {
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:port, the gateway itself (not through the balancer). */
  readonly url: string;
  /** Everything its processes have logged, the stopped ones' included. */
  output(): string;
  /** Signals the running process and resolves with its exit code (or the signal's name). */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
  /** Starts it again on the same port, resolving once it listens. */
  start(): Promise<void>;
}

export interface ClusterWorker {
  readonly child: ChildProcess;
  output(): string;
}

export interface Cluster {
  /** The balancer: http://127.0.0.1:port. */
  readonly url: string;
  readonly gateways: readonly ClusterGateway[];
  readonly workers: readonly ClusterWorker[];
  /** What HAProxy says of each gateway now: `UP`, `DOWN`, … by server name (g1, g2, …). */
  backendStates(): Promise<Record<string, string>>;
  /** HAProxy's log: each gateway taken out or brought back, and why. */
  balancerLog(): string;
  /** Stops HAProxy, the workers and the gateways, and removes the temp dir. */
  close(): Promise<void>;
}

export interface ClusterOptions {
  gateways: number;
  workers: number;
  /** The environment every process gets (DATABASE_URL, REDIS_URL, secrets, plugin settings). */
  env: Record<string, string>;
  /** Arguments after `plugboard jobs worker` (queues, --concurrency). */
  workerArgs?: string[];
}

function startWorker(env: Record<string, string>, args: string[]): Promise<ClusterWorker> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'jobs', 'worker', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/worker \d+ working/.test(output)) resolve({ child, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`jobs worker exited with ${code} before working:\n${output}`)));
  });
}

function startHaproxy(configFile: string): { child: ChildProcess; output(): string; exited: Promise<unknown> } {
  // -db: foreground, no daemon; a child of the test, never a system service.
  const child = spawn(HAPROXY, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'plugboard-cluster-'));
  const ports = await Promise.all(Array.from({ length: options.gateways }, freePort));
  const [port, statsPort] = [await freePort(), await freePort()];
  const running = new Map<number, ServingGateway>();
  /** What the stopped processes of each port logged. */
  const logged = new Map<number, string>();
  const workers: ClusterWorker[] = [];
  let haproxy: ReturnType<typeof startHaproxy> | undefined;

  const serveOn = async (gatewayPort: number) => {
    running.set(
      gatewayPort,
      await serveGateway({ ...options.env, PORT: String(gatewayPort), PLUGBOARD_WORKERS: 'false' }, 90_000, {
        cli: CLI,
      }),
    );
  };
  const gateways = ports.map(
    (gatewayPort, index): ClusterGateway => ({
      name: `g${index + 1}`,
      port: gatewayPort,
      url: `http://127.0.0.1:${gatewayPort}`,
      output: () => (logged.get(gatewayPort) ?? '') + (running.get(gatewayPort)?.output() ?? ''),
      stop: async (signal = 'SIGTERM') => {
        const gateway = running.get(gatewayPort);
        if (!gateway) throw new Error(`gateway on port ${gatewayPort} is not running`);
        const code = await gateway.stop(signal);
        logged.set(gatewayPort, (logged.get(gatewayPort) ?? '') + gateway.output());
        running.delete(gatewayPort);
        return code;
      },
      start: () => serveOn(gatewayPort),
    }),
  );

  const backendStates = async () => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const columns = header!.split(',');
    const [proxy, server, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
    return Object.fromEntries(
      rows
        .map((row) => row.split(','))
        .filter((cells) => cells[proxy!] === 'gateways' && /^g\d+$/.test(cells[server!]!))
        .map((cells) => [cells[server!]!, cells[status!]!]),
    );
  };

  const close = async () => {
    haproxy?.child.kill('SIGTERM');
    await haproxy?.exited;
    await Promise.all([
      ...workers.map(
        (worker) =>
          new Promise((resolve) => {
            if (worker.child.exitCode !== null) return resolve(null);
            worker.child.once('exit', resolve);
            worker.child.kill('SIGTERM');
          }),
      ),
      ...[...running.values()].map((gateway) => gateway.stop('SIGKILL')),
    ]);
    running.clear();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // All at once: the migrations' advisory lock has them take turns.
    await Promise.all([
      ...ports.map(serveOn),
      ...Array.from({ length: options.workers }, async () =>
        workers.push(await startWorker(options.env, options.workerArgs ?? [])),
      ),
    ]);
    const configFile = join(dir, 'haproxy.cfg');
    await writeFile(
      configFile,
      haproxyConfig({
        bind: `127.0.0.1:${port}`,
        stats: `127.0.0.1:${statsPort}`,
        servers: ports.map((gatewayPort) => `127.0.0.1:${gatewayPort}`),
      }),
    );
    haproxy = startHaproxy(configFile);
    const started = haproxy;
    await vi.waitFor(
      async () => {
        if (started.child.exitCode !== null) throw new Error(`haproxy exited:\n${started.output()}`);
        const states = await backendStates();
        expect(states, started.output()).toEqual(Object.fromEntries(gateways.map((gateway) => [gateway.name, 'UP'])));
      },
      { timeout: 15_000, interval: 100 },
    );
  } catch (error) {
    await close();
    throw error;
  }

  const balancerLog = () => haproxy?.output() ?? '';
  return { url: `http://127.0.0.1:${port}`, gateways, workers, backendStates, balancerLog, close };
}

export interface ClusterServices {
  db: TestDatabase;
  stripe: StripeServer;
  /** Where the http-request jobs call, so each run of a job is counted. */
  target: HttpTarget;
  webhookSecret: string;
  /** What every gateway and worker of the cluster gets. */
  env: Record<string, string>;
  /** Posts a Stripe event, signed, to `url` (a gateway or the balancer). */
  deliver(url: string, event: unknown): Promise<Response>;
  /** Stops the stand-ins, drops the database and the cluster's Redis keys. */
  stop(): Promise<void>;
}

/**
 * What a cluster shares: a database of its own on the machine's Postgres, a Redis database of its
 * own on the machine's Redis (the BullMQ queues of other test files' gateways never take its
 * jobs), the Stripe stand-in and an HTTP target for jobs.
 */
export async function startClusterServices(
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<ClusterServices> {
  const db = await createTestDatabase();
  const stripe = await startStripeServer();
  const target = await startHttpTarget();
  const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
  const ownRedis = `${redisUrl.replace(/\/\d*$/, '')}/${randomInt(1, 16)}`;
  return {
    db,
    stripe,
    target,
    webhookSecret,
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: ownRedis,
      PLUGBOARD_PLUGINS: 'core,jobs,realtime,stripe',
      PLUGBOARD_JWT_SECRET: JWT_SECRET,
      PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
      // HAProxy adds X-Forwarded-For: the realtime caps then count the client, not the balancer.
      PLUGBOARD_TRUSTED_PROXIES: '127.0.0.1',
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      JOBS_HTTP_ALLOWED_HOSTS: target.host,
      // Longer than HAProxy takes to notice (CHECK_FALL checks CHECK_INTERVAL_MS apart, each answered
      // at once by a draining gateway), with room for a busy machine.
      PLUGBOARD_SHUTDOWN_DELAY_MS: String((CHECK_FALL + 4) * CHECK_INTERVAL_MS),
      LOG_LEVEL: 'info',
      ...env,
    },
    deliver: (url, event) => {
      const { body, headers } = signedWebhook(event, webhookSecret);
      return fetch(`${url}/webhooks/stripe`, { method: 'POST', headers, body });
    },
    async stop() {
      await Promise.all([stripe.close(), target.close(), db.drop()]);
      const redis = new Redis(ownRedis);
      const keys = await redis.keys('plugboard:*');
      if (keys.length > 0) await redis.unlink(...keys);
      redis.disconnect();
    },
  };
}

/** POSTs a GraphQL request; the status and the parsed body. */
export async function graphqlAt(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLBody }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLBody };
}

export const adminHeaders = { 'x-hasura-admin-secret': ADMIN_SECRET };
export const bearer = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });
