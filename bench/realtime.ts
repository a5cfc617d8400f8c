/**
 * Realtime fan-out: BENCH_CONNECTIONS (10,000) graphql-ws connections on one gateway process,
 * rooms of BENCH_ROOM_SIZE (100) members, each subscribed to `presence` and `typing` of its room.
 * The load generator (bench/realtime-load.ts) is a separate process on core 0; the server under
 * test is on core 1 (taskset, when available). Postgres and Redis are the machine's own.
 *
 * 1. Connect: time until every connection is acknowledged and has subscribed, then the server's
 *    memory per connection (RSS after − RSS before, ÷ connections) once it is quiet again (every
 *    user coming ONLINE is presence news for the 99 others in their room: ~1M deliveries).
 * 2. Latency: BENCH_RATE (200) typing events a second for BENCH_SECONDS (10): p50/p99 from
 *    `startTyping` sent to its delivery at each other member (≈ 99 × rate deliveries a second).
 *    A third of the events refresh someone still typing; indicators left alone lapse after the
 *    TTL (5 s) and those expiries are delivered too (counted apart).
 * 3. Saturation: the rate doubles in steps (400 … 6,400 events/s, 3 s each) and the best
 *    typing deliveries/s is kept — for the gateway and, in the same run, for a bare `ws` server
 *    (bench/peers/realtime-ws-server.ts) doing the same fan-out with the same frames.
 * Goals: p99 ≤ 50 ms at 200 events/s; saturation ≥ 50 % of the bare ws server.
 *
 * Run: npm run bench:realtime   (BENCH_CONNECTIONS, BENCH_ROOM_SIZE, BENCH_RATE, BENCH_SECONDS)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  cleanUpOnSignal,
  freshDatabase,
  migrate,
  PINNED,
  pinned,
  readyz,
  ROOT,
  type Server,
  startServer,
} from './support.ts';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10_000);
const ROOM_SIZE = Number(process.env['BENCH_ROOM_SIZE'] ?? 100);
const RATE = Number(process.env['BENCH_RATE'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const STEPS = [400, 800, 1600, 3200, 6400];
const STEP_SECONDS = 3;
const JWT_SECRET = randomBytes(24).toString('hex');
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface Ran {
  rate: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  delivered: number;
  expiries: number;
  refused: number;
  p50: number;
  p99: number;
  samples: number;
}

/** The load generator on core 0, answering each command with one message. */
const loads = new Set<ChildProcess>();

function startLoad(): { ask<T>(command: object): Promise<T>; stop(): void } {
  const [command, ...args] = pinned(0, [process.execPath, 'bench/realtime-load.ts']);
  const child: ChildProcess = spawn(command!, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  loads.add(child);
  child.once('exit', () => loads.delete(child));
  let answer: ((message: { event: string; message?: string }) => void) | undefined;
  child.on('message', (message: { event: string; message?: string }) => answer?.(message));
  const ready = new Promise<void>((resolve) => (answer = () => resolve()));
  return {
    async ask<T>(command: object) {
      await ready;
      const reply = new Promise<T>(
        (resolve, reject) => (answer = (m) => (m.event === 'error' ? reject(new Error(m.message)) : resolve(m as T))),
      );
      child.send(command);
      return reply;
    },
    stop: () => void child.kill('SIGKILL'),
  };
}

/** Waits until the server has used under 15 % of a core for two seconds running. */
async function quiet(server: Server): Promise<void> {
  for (let calm = 0; calm < 2; ) {
    const before = server.cpuMicros();
    await sleep(1000);
    calm = (server.cpuMicros() - before) / 1e4 < 15 ? calm + 1 : 0;
  }
}

async function measure(name: string, mode: 'graphql' | 'ws', server: Server, rooms: string[]) {
  const load = startLoad();
  try {
    const rssBefore = server.rssBytes();
    const connected = await load.ask<{ ms: number; connections: number; failures: number }>({
      cmd: 'connect',
      mode,
      url: `${server.url.replace(/^http/, 'ws')}/graphql`,
      rooms,
      roomSize: ROOM_SIZE,
      jwtSecret: JWT_SECRET,
    });
    const settleStarted = performance.now();
    await quiet(server);
    const settledMs = performance.now() - settleStarted;
    const perConnection = (server.rssBytes() - rssBefore) / connected.connections;
    console.log(
      `  ${name}: ${connected.connections} connected in ${(connected.ms / 1000).toFixed(1)} s (${connected.failures} failed); quiet again ${(settledMs / 1000).toFixed(1)} s later; ${(perConnection / 1024).toFixed(1)} KiB per connection`,
    );
    const cpuBefore = server.cpuMicros();
    const latency = await load.ask<Ran>({ cmd: 'run', rate: RATE, seconds: SECONDS, latency: true });
    const cpu = (server.cpuMicros() - cpuBefore) / 1e6 / (SECONDS + 0.5);
    console.log(
      `  ${name}: ${latency.sentPerSecond.toFixed(0)} typing events/s → ${latency.deliveredPerSecond.toFixed(0)} deliveries/s, latency p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (${latency.samples} samples); ${latency.expiries} expiries delivered; ${latency.refused} refused; server CPU ${(cpu * 100).toFixed(0)} %`,
    );
    let best = 0;
    for (const rate of STEPS) {
      const step = await load.ask<Ran>({ cmd: 'run', rate, seconds: STEP_SECONDS, latency: false });
      console.log(
        `  ${name}: step ${rate}/s sent ${step.sentPerSecond.toFixed(0)}/s → ${step.deliveredPerSecond.toFixed(0)} deliveries/s${step.refused ? ` (${step.refused} refused)` : ''}`,
      );
      best = Math.max(best, step.deliveredPerSecond);
      if (step.deliveredPerSecond < best * 0.9) break; // past saturation
      await sleep(1000);
    }
    return { connected, perConnection, latency, cpu, best };
  } finally {
    load.stop();
  }
}

const database = await freshDatabase('bench_realtime');
const servers: Server[] = [];
// Stopped (by Ctrl-C or `timeout`): the servers, load generators and database go too.
cleanUpOnSignal(async () => {
  for (const load of loads) load.kill('SIGKILL');
  await Promise.all(servers.map((server) => server.stop()));
  await database.drop();
});
try {
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_PLUGINS: 'core,realtime',
    REALTIME_MAX_CONNECTIONS: String(CONNECTIONS * 2),
    // Every load connection comes from 127.0.0.1, one per user.
    REALTIME_MAX_CONNECTIONS_PER_IP: String(CONNECTIONS * 2),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    // e.g. BENCH_SERVER_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the gateway.
    ...(process.env['BENCH_SERVER_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_SERVER_NODE_OPTIONS'] } : {}),
  };
  migrate(env);
  const db = new pg.Client(database.url);
  await db.connect();
  const roomCount = Math.ceil(CONNECTIONS / ROOM_SIZE);
  const { rows } = await db.query<{ id: string }>(
    "INSERT INTO realtime.rooms (name, created_by) SELECT 'room ' || i, 'bench' FROM generate_series(1, $1) AS i RETURNING id",
    [roomCount],
  );
  const rooms = rows.map((row) => row.id);
  await db.query(
    "INSERT INTO realtime.room_members (room_id, user_id) SELECT ($1::uuid[])[1 + i / $2], 'u' || i FROM generate_series(0, $3 - 1) AS i",
    [rooms, ROOM_SIZE, CONNECTIONS],
  );
  await db.end();

  console.log(
    `Realtime fan-out — ${CONNECTIONS} connections, ${roomCount} rooms × ${ROOM_SIZE}, typing at ${RATE}/s for ${SECONDS} s${PINNED ? '; server on core 1, load generator on core 0' : '; unpinned: everything shares all cores'}`,
  );
  const gateway = await startServer(['bin/plugboard.js', 'serve'], env, readyz);
  servers.push(gateway);
  const ours = await measure('plugboard', 'graphql', gateway, rooms);
  await gateway.stop();

  const peer = await startServer(['bench/peers/realtime-ws-server.ts'], { TYPING_TTL_MS: '5000' }, readyz);
  servers.push(peer);
  const theirs = await measure('bare ws', 'ws', peer, rooms);
  await peer.stop();

  console.log(
    `\n  latency at ${RATE} typing events/s: p50 ${ours.latency.p50.toFixed(1)} ms, p99 ${ours.latency.p99.toFixed(1)} ms (goal p99 <= 50 ms; bare ws p99 ${theirs.latency.p99.toFixed(1)} ms)`,
  );
  console.log(
    `  memory per connection: ${(ours.perConnection / 1024).toFixed(1)} KiB (bare ws ${(theirs.perConnection / 1024).toFixed(1)} KiB); connect ${(ours.connected.ms / 1000).toFixed(1)} s (bare ws ${(theirs.connected.ms / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  saturation: plugboard ${ours.best.toFixed(0)} deliveries/s, bare ws ${theirs.best.toFixed(0)} deliveries/s → ${((ours.best / theirs.best) * 100).toFixed(1)} % (goal >= 50 %)`,
  );
} finally {
  for (const server of servers) await server.stop();
  await database.drop();
}
