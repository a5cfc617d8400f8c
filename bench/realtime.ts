/**
 * Realtime fan-out: BENCH_CONNECTIONS (10,000) graphql-ws connections on one gateway process,
 * rooms of BENCH_ROOM_SIZE (100) members, each subscribed to `presence` and `typing` of its room.
 * The load generator (bench/realtime-load.ts) is a separate process on core 0; the server under
 * test is on core 1 (taskset, when available; BENCH_PIN=false shares all cores). Postgres and
 * Redis are the machine's own. The same run measures a bare `ws` server
 * (bench/peers/realtime-ws-server.ts) doing the same fan-out with the same frames: both servers
 * hold their connections at once, each with its own load generator, and take turns at each phase
 * (the saturation steps alternate which goes first), since this VM's speed drifts by the minute.
 *
 * 1. Connect: time until every connection is acknowledged and has subscribed, plus until the
 *    server is quiet again (every user coming ONLINE is presence news for the 99 others in their
 *    room: ~1M deliveries); then memory per connection (RSS growth ÷ connections).
 * 2. Latency: BENCH_RATE (200) typing events a second for BENCH_SECONDS (10): p50/p99 from
 *    `startTyping` sent to its delivery at each other member (≈ 99 × rate deliveries a second).
 *    A third of the events refresh someone still typing; indicators left alone lapse after the
 *    TTL (5 s), and how late those expiries arrive after their `expiresAt` is reported too.
 * 3. Saturation: the rate doubles in steps (400 … 6,400 events/s, 3 s each) and the best
 *    typing deliveries/s (starts and refreshes) is kept; then twice the saturating rate, which
 *    must not collapse: there every typing frame delivered counts, expiries too (shed refreshes
 *    make typers lapse, and each lapse is a delivery to the room).
 * 4. With BENCH_SOAK_SECONDS (e.g. 600), the gateway's soak: BENCH_SOAK_CHURN (50) connections a
 *    second closed and reopened, its RSS sampled every 10 s.
 * The servers' GC pauses are recorded beside each phase (bench/gc-pauses.ts).
 * Goals (issue 22): ≤ 16 KiB per connection, connect ≤ 2× the bare server, saturation ≥ 80 %
 * of it, ≥ 90 % of the peak at twice the saturating rate, p99 ≤ 50 ms pinned and unpinned,
 * expiries ≤ 100 ms late at p99, RSS flat over the soak.
 *
 * With BENCH_MEMORY_ONLY=true it stops after connect: RSS per connection at rest for a minute and
 * after a full collection, the live heap, and each V8 space's size (where the RSS is); with
 * BENCH_HEAP_SNAPSHOT_DIR each server writes a heap snapshot at each full collection, with
 * BENCH_HEAP_SAMPLING_DIR an allocation profile (bench/gc-pauses.ts). The gateway is started
 * with `npm start`'s Node flags (package.json).
 *
 * Run: npm run bench:realtime   (BENCH_CONNECTIONS, BENCH_ROOM_SIZE, BENCH_RATE, BENCH_SECONDS,
 * BENCH_STEPS (the saturation steps' rates, comma-separated), BENCH_PEER=false (the gateway alone),
 * BENCH_PIN, BENCH_SOAK_SECONDS, BENCH_SOAK_CHURN, BENCH_MEMORY_ONLY, BENCH_HEAP_SNAPSHOT_DIR,
 * BENCH_HEAP_SAMPLING_DIR, BENCH_HEAP_SAMPLING_MINOR, BENCH_SERVER_NODE_OPTIONS; PLUGBOARD_*
 * settings in its environment are passed to the gateway)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  cleanUpOnSignal,
  cpuMicrosOf,
  freshDatabase,
  migrate,
  PINNED,
  pinned,
  readyz,
  ROOT,
  type Server,
  startServer,
  systemMicrosOf,
  writeCallsOf,
} from './support.ts';

const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 10_000);
const ROOM_SIZE = Number(process.env['BENCH_ROOM_SIZE'] ?? 100);
const RATE = Number(process.env['BENCH_RATE'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const STEPS = (process.env['BENCH_STEPS'] ?? '400,800,1600,3200,6400').split(',').map(Number);
const STEP_SECONDS = 3;
/** Both servers lapse typers after 5 s. */
const TYPING_TTL_MS = 5000;
/**
 * Between steps: a step's typers lapse within the TTL, and their expiries, delivered by the server
 * that ran it, are not to load the next step (the other server's, when pinned, on the same core).
 */
const DRAIN_MS = TYPING_TTL_MS + 1000;
const JWT_SECRET = randomBytes(24).toString('hex');
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SOAK_SECONDS = Number(process.env['BENCH_SOAK_SECONDS'] ?? 0);
const SOAK_CHURN = Number(process.env['BENCH_SOAK_CHURN'] ?? 50);
const MEMORY_ONLY = process.env['BENCH_MEMORY_ONLY'] === 'true';
const GC_FILE = join(tmpdir(), `plugboard-bench-gc-${process.pid}.jsonl`);
const GC_OBSERVER = `--expose-gc --import=${join(ROOT, 'bench/gc-pauses.ts')}`;
/** What bench/gc-pauses.ts needs in each server (and, when set, where it writes heap snapshots and allocation samples). */
const GC_ENV = Object.fromEntries(
  ['BENCH_HEAP_SNAPSHOT_DIR', 'BENCH_HEAP_SAMPLING_DIR', 'BENCH_HEAP_SAMPLING_MINOR'].flatMap((name) =>
    process.env[name] ? [[name, process.env[name]]] : [],
  ),
) as Record<string, string>;
GC_ENV['BENCH_GC_FILE'] = GC_FILE;

interface Ran {
  rate: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  /** Expiries (isTyping false) delivered a second in the same window: typers of earlier events lapsing. */
  expiredPerSecond: number;
  delivered: number;
  expiries: number;
  refused: number;
  p50: number;
  p99: number;
  samples: number;
  expiryLateP50: number;
  expiryLateP99: number;
  expirySamples: number;
}

/** The load generator on core 0, answering each command with one message. */
const loads = new Set<ChildProcess>();

function startLoad(): { ask<T>(command: object): Promise<T>; cpuMicros(): number } {
  const [command, ...args] = pinned(0, [process.execPath, 'bench/realtime-load.ts']);
  const child: ChildProcess = spawn(command!, args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Structured clone: a percentile of no samples stays NaN (JSON would make it null).
    serialization: 'advanced',
  });
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
    cpuMicros: () => cpuMicrosOf(child.pid!),
  };
}

/**
 * Waits until the server has used under 15 % of a core for two seconds running; resolves with
 * how long it was busy before that calm began.
 */
async function quiet(server: Server): Promise<number> {
  const started = performance.now();
  let calmSince = started;
  for (let calm = 0; calm < 2; ) {
    const before = server.cpuMicros();
    const at = performance.now();
    await sleep(1000);
    if ((server.cpuMicros() - before) / 1e4 < 15) {
      if (calm++ === 0) calmSince = at;
    } else calm = 0;
  }
  return calmSince - started;
}

interface GcPauses {
  count: number;
  totalMs: number;
  maxMs: number;
  over10ms: number;
  over50ms: number;
  /** After a full collection, at the signal. */
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
  /** Each V8 space's physical size. */
  spaces: Record<string, number>;
}

/**
 * The server's GC pauses since the last call, and its memory (bench/gc-pauses.ts, loaded into it,
 * answers SIGUSR2; SIGWINCH, for `collect`, after collecting all garbage first).
 */
async function gcPauses(server: Server, file: string, collect = false): Promise<GcPauses> {
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
  const before = lines().length;
  process.kill(server.pid, collect ? 'SIGWINCH' : 'SIGUSR2');
  for (let waited = 0; lines().length === before; waited += 20) {
    // A heap snapshot of 10,000 connections takes a while to write.
    if (waited > (GC_ENV['BENCH_HEAP_SNAPSHOT_DIR'] ? 120_000 : 5000))
      throw new Error('the server did not report its GC pauses (bench/gc-pauses.ts not loaded?)');
    await sleep(20);
  }
  return JSON.parse(lines().at(-1)!) as GcPauses;
}

/** The gateway's shed counters (/metrics, graphql_websocket_operations_shed_total), summed by reason. */
async function shedCounts(server: Server): Promise<{ lag: number; inFlight: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const sum = (reason: string) =>
    [
      ...text.matchAll(
        new RegExp(`^graphql_websocket_operations_shed_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)`, 'gm'),
      ),
    ]
      .map((match) => Number(match[1]))
      .reduce((total, count) => total + count, 0);
  return { lag: sum('lag'), inFlight: sum('in_flight') };
}

const gcLine = (gc: GcPauses) =>
  `GC ${gc.count} pauses, ${gc.totalMs.toFixed(0)} ms in all, longest ${gc.maxMs.toFixed(1)} ms, ${gc.over10ms} over 10 ms, ${gc.over50ms} over 50 ms`;

/**
 * BENCH_MEMORY_ONLY: RSS per connection at rest for a minute, then after a full collection; the
 * live heap; and where the memory is (MiB): RSS, the heap's committed and used size, each V8
 * space, and what lives outside the heap.
 */
async function memoryReport(
  name: string,
  server: Server,
  gcFile: string,
  before: GcPauses,
  connected: GcPauses,
  connections: number,
) {
  const perConnection = () => Math.round((server.rssBytes() - before.rss) / connections);
  const atRest: number[] = [];
  for (let i = 0; i < 12; i++) {
    await sleep(5000);
    atRest.push(perConnection());
  }
  const collected = await gcPauses(server, gcFile, true);
  const afterCollection: number[] = [];
  for (let i = 0; i < 4; i++) {
    await sleep(3000);
    afterCollection.push(perConnection());
  }
  console.log(`  ${name}: RSS bytes per connection at rest, every 5 s: ${atRest.join(' ')}`);
  console.log(`  ${name}: after a full collection, every 3 s: ${afterCollection.join(' ')}`);
  console.log(
    `  ${name}: live heap ${((collected.heapUsed - before.heapUsed) / connections / 1024).toFixed(1)} KiB per connection`,
  );
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  for (const [when, gc] of [
    ['before', before],
    ['connected', connected],
    ['collected', collected],
  ] as const) {
    const spaces = Object.entries(gc.spaces)
      .filter(([, bytes]) => bytes >= 2 ** 20)
      .map(([space, bytes]) => `${space} ${mib(bytes)}`);
    console.log(
      `  ${name}: ${when}: RSS ${mib(gc.rss)}, heap ${mib(gc.heapTotal)} (used ${mib(gc.heapUsed)}; ${spaces.join(', ')}), external ${mib(gc.external)} MiB`,
    );
  }
}

/**
 * A server under test and its own load generator, measured phase by phase, so that the two
 * servers' saturation steps can take turns: this VM's speed drifts from minute to minute, and
 * steps of the two servers minutes apart measured the drift as much as the servers.
 */
class Subject {
  readonly load = startLoad();
  /** Steps run, by offered rate. */
  private readonly delivered = new Map<number, Ran>();
  private best: Ran | undefined;
  /** A step fell below 90 % of the best: past saturation, no more steps. */
  saturated = false;
  private before!: GcPauses;
  private connected!: { ms: number; connections: number; failures: number };
  private settledMs = 0;
  private perConnection = 0;
  private latency!: Ran;
  private latencyGc!: GcPauses;
  private latencyCpu = 0;

  readonly name: string;
  readonly server: Server;
  private readonly mode: 'graphql' | 'ws';
  private readonly gcFile: string;

  constructor(name: string, mode: 'graphql' | 'ws', server: Server, gcFile: string) {
    this.name = name;
    this.mode = mode;
    this.server = server;
    this.gcFile = gcFile;
  }

  /** Connects every member of every room and waits until the server is quiet; RSS per connection. */
  async connect(rooms: string[]): Promise<void> {
    this.before = await gcPauses(this.server, this.gcFile, true);
    this.connected = await this.load.ask({
      cmd: 'connect',
      mode: this.mode,
      url: `${this.server.url.replace(/^http/, 'ws')}/graphql`,
      rooms,
      roomSize: ROOM_SIZE,
      jwtSecret: JWT_SECRET,
    });
    // Until every user's coming ONLINE has reached the 99 others of their room.
    this.settledMs = await quiet(this.server);
    const connectGc = await gcPauses(this.server, this.gcFile);
    this.perConnection = (connectGc.rss - this.before.rss) / this.connected.connections;
    console.log(
      `  ${this.name}: ${this.connected.connections} connected in ${(this.connected.ms / 1000).toFixed(1)} s (${this.connected.failures} failed), settled ${(this.settledMs / 1000).toFixed(1)} s after; ${(this.perConnection / 1024).toFixed(1)} KiB per connection (RSS); ${gcLine(connectGc)}`,
    );
    if (MEMORY_ONLY)
      await memoryReport(this.name, this.server, this.gcFile, this.before, connectGc, this.connected.connections);
  }

  /** RATE typing events a second for SECONDS: latency from send to each delivery, and expiries' lateness. */
  async measureLatency(): Promise<void> {
    const cpuBefore = this.server.cpuMicros();
    this.latency = await this.load.ask<Ran>({ cmd: 'run', rate: RATE, seconds: SECONDS, latency: true });
    this.latencyCpu = (this.server.cpuMicros() - cpuBefore) / 1e6 / (SECONDS + 0.5);
    this.latencyGc = await gcPauses(this.server, this.gcFile);
    const latency = this.latency;
    console.log(
      `  ${this.name}: ${latency.sentPerSecond.toFixed(0)} typing events/s → ${latency.deliveredPerSecond.toFixed(0)} deliveries/s, latency p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms (${latency.samples} samples); ${latency.expiries} expiries delivered, late by p50 ${latency.expiryLateP50.toFixed(1)} ms, p99 ${latency.expiryLateP99.toFixed(1)} ms; ${latency.refused} refused; server CPU ${(this.latencyCpu * 100).toFixed(0)} %; ${gcLine(this.latencyGc)}`,
    );
  }

  /** A step of the ascent: kept if it is the best so far; one under 90 % of the best ends the ascent. */
  async ascend(rate: number): Promise<void> {
    const ran = await this.step(rate);
    if (!this.best || ran.deliveredPerSecond > this.best.deliveredPerSecond) this.best = ran;
    if (ran.deliveredPerSecond < this.best.deliveredPerSecond * 0.9) this.saturated = true;
  }

  /** One saturation step: `rate` typing events a second offered for STEP_SECONDS. */
  private async step(rate: number): Promise<Ran> {
    const { server, load } = this;
    const cpu = {
      server: server.cpuMicros(),
      kernel: systemMicrosOf(server.pid),
      load: load.cpuMicros(),
      writes: writeCallsOf(server.pid),
    };
    const shedBefore = this.mode === 'graphql' ? await shedCounts(server) : undefined;
    const ran = await load.ask<Ran>({ cmd: 'run', rate, seconds: STEP_SECONDS, latency: false });
    const share = (micros: number) => `${((micros / 1e6 / (STEP_SECONDS + 0.5)) * 100).toFixed(0)} %`;
    const writes = writeCallsOf(server.pid) - cpu.writes;
    const shed = shedBefore && (await shedCounts(server));
    const why =
      shed && shedBefore
        ? `: shed for lag ${shed.lag - shedBefore.lag}, in flight ${shed.inFlight - shedBefore.inFlight}`
        : '';
    this.delivered.set(rate, ran);
    console.log(
      `  ${this.name}: step ${rate}/s sent ${ran.sentPerSecond.toFixed(0)}/s → ${ran.deliveredPerSecond.toFixed(0)} deliveries/s (and ${ran.expiredPerSecond.toFixed(0)} expiries/s)${ran.refused ? ` (${ran.refused} refused${why})` : ''}; CPU of a core: server ${share(server.cpuMicros() - cpu.server)} (kernel ${share(systemMicrosOf(server.pid) - cpu.kernel)}), load generator ${share(load.cpuMicros() - cpu.load)}; server write calls ${(writes / (STEP_SECONDS + 0.5)).toFixed(0)}/s (${(ran.delivered / writes).toFixed(2)} deliveries each)`,
    );
    return ran;
  }

  /** Rates double each step, so the step after the best is twice the saturating rate: run it unless it ran. */
  async stepTwiceTheBest(): Promise<void> {
    const twice = this.best!.rate * 2;
    if (!this.delivered.has(twice)) await this.step(twice);
  }

  /** What the connections really keep, after a full collection (which stalls the server: nothing is timed after it). */
  async results(): Promise<Measured> {
    await quiet(this.server);
    const collected = await gcPauses(this.server, this.gcFile, true);
    const heapPerConnection = (collected.heapUsed - this.before.heapUsed) / this.connected.connections;
    console.log(`  ${this.name}: ${(heapPerConnection / 1024).toFixed(1)} KiB of live heap per connection`);
    const best = this.best!;
    const overload = this.delivered.get(best.rate * 2)!;
    return {
      connected: this.connected,
      settledMs: this.settledMs,
      perConnection: this.perConnection,
      heapPerConnection,
      latency: this.latency,
      latencyGc: this.latencyGc,
      best: best.deliveredPerSecond,
      bestRate: best.rate,
      // Every typing frame counts here: an expiry is a delivery too, and shed refreshes make typers
      // lapse, so under overload a share of the deliveries are expiries (which the peer, shedding
      // nothing, has none of); what is asked is whether delivery collapses.
      overload:
        (overload.deliveredPerSecond + overload.expiredPerSecond) / (best.deliveredPerSecond + best.expiredPerSecond),
      overloadStartsOnly: overload.deliveredPerSecond / best.deliveredPerSecond,
    };
  }
}

interface Measured {
  connected: { ms: number; connections: number; failures: number };
  settledMs: number;
  perConnection: number;
  heapPerConnection: number;
  latency: Ran;
  latencyGc: GcPauses;
  best: number;
  bestRate: number;
  overload: number;
  overloadStartsOnly: number;
  soak?: { firstMinute: number; lastMinute: number };
}

/**
 * Saturation, the servers taking turns at each rate (which goes first alternates), each until a
 * step falls below 90 % of its best; then each at twice its saturating rate.
 */
async function saturate(subjects: Subject[]): Promise<void> {
  for (const [index, rate] of STEPS.entries()) {
    const turn = index % 2 === 0 ? subjects : [...subjects].reverse();
    for (const subject of turn.filter((s) => !s.saturated)) {
      const others = subjects.filter((other) => other !== subject);
      const idleBefore = others.map((other) => other.server.cpuMicros());
      await subject.ascend(rate);
      // Both servers share core 1 when pinned: what the idle one took meanwhile.
      others.forEach((other, i) => {
        const share = (other.server.cpuMicros() - idleBefore[i]!) / 1e6 / (STEP_SECONDS + 0.5);
        console.log(`    (${other.name}, idle meanwhile: ${(share * 100).toFixed(1)} % of a core)`);
      });
      await sleep(DRAIN_MS);
    }
  }
  for (const subject of subjects) {
    await subject.stepTwiceTheBest();
    await sleep(DRAIN_MS);
  }
}

/**
 * The soak: SOAK_CHURN connections a second closed and opened again for SOAK_SECONDS, the
 * server's RSS sampled every 10 s. A leak shows as RSS that keeps growing after the first minute.
 */
async function soakRss(name: string, server: Server, load: ReturnType<typeof startLoad>) {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(server.rssBytes()), 10_000);
  const started = server.rssBytes();
  const churned = await load.ask<{ cycled: number; failures: number }>({
    cmd: 'churn',
    seconds: SOAK_SECONDS,
    perSecond: SOAK_CHURN,
  });
  clearInterval(sampler);
  await quiet(server);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const firstMinute = Math.max(...samples.slice(0, 6));
  const lastMinute = Math.max(...samples.slice(-6));
  console.log(
    `  ${name}: soak ${SOAK_SECONDS} s, ${churned.cycled} reconnects (${churned.failures} failed): RSS ${mib(started)} MiB at the start, max of the first minute ${mib(firstMinute)}, of the last minute ${mib(lastMinute)}, after ${mib(server.rssBytes())} MiB (every 10 s: ${samples.map(mib).join(' ')})`,
  );
  return { firstMinute, lastMinute };
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
    REALTIME_TYPING_TTL_MS: String(TYPING_TTL_MS),
    // Every load connection comes from 127.0.0.1, one per user.
    REALTIME_MAX_CONNECTIONS_PER_IP: String(CONNECTIONS * 2),
    NODE_ENV: 'production',
    // Documents as text, as before trusted documents (issue 23).
    PLUGBOARD_DOCUMENTS: 'any',
    LOG_LEVEL: 'warn',
    // GC pauses recorded (bench/gc-pauses.ts); e.g. BENCH_SERVER_NODE_OPTIONS='--cpu-prof
    // --cpu-prof-dir=/tmp/prof' to profile the gateway as well.
    NODE_OPTIONS: [GC_OBSERVER, process.env['BENCH_SERVER_NODE_OPTIONS'] ?? ''].join(' ').trim(),
    ...GC_ENV,
    // Settings to try (PLUGBOARD_SHED_IN_FLIGHT=1000, say) reach the gateway from the bench's environment.
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('PLUGBOARD_'))),
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
  // Started as `npm start` starts it, with the same Node flags.
  const gateway = await startServer(startCommand(), env, readyz);
  servers.push(gateway);
  const subjects = [new Subject('plugboard', 'graphql', gateway, GC_FILE)];
  await subjects[0]!.connect(rooms);
  // BENCH_PEER=false: trying a setting, the gateway alone.
  if (process.env['BENCH_PEER'] !== 'false') {
    const peerGcFile = `${GC_FILE}.peer`;
    const peer = await startServer(
      ['bench/peers/realtime-ws-server.ts'],
      { TYPING_TTL_MS: String(TYPING_TTL_MS), NODE_OPTIONS: GC_OBSERVER, ...GC_ENV, BENCH_GC_FILE: peerGcFile },
      readyz,
    );
    servers.push(peer);
    subjects.push(new Subject('bare ws', 'ws', peer, peerGcFile));
    await subjects[1]!.connect(rooms);
  }
  if (!MEMORY_ONLY) {
    for (const subject of subjects) {
      await subject.measureLatency();
      await sleep(DRAIN_MS);
    }
    await saturate(subjects);
    const [ours, theirs] = [await subjects[0]!.results(), await subjects[1]?.results()];
    for (const subject of subjects.slice(1)) await subject.server.stop();
    if (SOAK_SECONDS > 0) ours!.soak = await soakRss(subjects[0]!.name, gateway, subjects[0]!.load);
    if (theirs) compare(ours!, theirs);
  }
} finally {
  for (const load of loads) load.kill('SIGKILL');
  for (const server of servers) await server.stop();
  await database.drop();
  rmSync(GC_FILE, { force: true });
  rmSync(`${GC_FILE}.peer`, { force: true });
}

/** `npm start`'s command (package.json), without its `node`: the Node flags, the script and `serve`. */
function startCommand(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = scripts.start.split(' ');
  if (node !== 'node') throw new Error(`package.json's start script does not run node: ${scripts.start}`);
  return args;
}

/** The summary against the issue's goals. */
function compare(ours: Measured, theirs: Measured) {
  const check = (ok: boolean) => (ok ? '✓' : '✗');
  const connectOurs = ours.connected.ms + ours.settledMs;
  const connectTheirs = theirs.connected.ms + theirs.settledMs;
  console.log(`\n  Plugboard against the bare ws server (${PINNED ? 'pinned' : 'unpinned'}):`);
  console.log(
    `  memory per connection: ${(ours.perConnection / 1024).toFixed(1)} KiB (bare ws ${(theirs.perConnection / 1024).toFixed(1)} KiB; goal <= 16 KiB ${check(ours.perConnection <= 16 * 1024)}); live heap ${(ours.heapPerConnection / 1024).toFixed(1)} KiB (bare ws ${(theirs.heapPerConnection / 1024).toFixed(1)} KiB)`,
  );
  console.log(
    `  connect and settle: ${(connectOurs / 1000).toFixed(1)} s (bare ws ${(connectTheirs / 1000).toFixed(1)} s) = ${(connectOurs / connectTheirs).toFixed(2)}× (goal <= 2× ${check(connectOurs <= 2 * connectTheirs)})`,
  );
  console.log(
    `  saturation: ${ours.best.toFixed(0)} deliveries/s at ${ours.bestRate}/s offered, bare ws ${theirs.best.toFixed(0)} → ${((ours.best / theirs.best) * 100).toFixed(1)} % (goal >= 80 % ${check(ours.best >= 0.8 * theirs.best)})`,
  );
  console.log(
    `  at twice the saturating rate (${ours.bestRate * 2}/s): typing frames delivered (starts, refreshes and expiries) ${(ours.overload * 100).toFixed(1)} % of the peak's (goal >= 90 % ${check(ours.overload >= 0.9)}; bare ws ${(theirs.overload * 100).toFixed(1)} %); starts and refreshes alone ${(ours.overloadStartsOnly * 100).toFixed(1)} % (bare ws ${(theirs.overloadStartsOnly * 100).toFixed(1)} %)`,
  );
  console.log(
    `  latency at ${RATE} typing events/s: p50 ${ours.latency.p50.toFixed(1)} ms, p99 ${ours.latency.p99.toFixed(1)} ms (goal <= 50 ms ${check(ours.latency.p99 <= 50)}; bare ws p99 ${theirs.latency.p99.toFixed(1)} ms); longest GC pause meanwhile ${ours.latencyGc.maxMs.toFixed(1)} ms (bare ws ${theirs.latencyGc.maxMs.toFixed(1)} ms)`,
  );
  console.log(
    `  typing expiries late by p99 ${ours.latency.expiryLateP99.toFixed(1)} ms (${ours.latency.expirySamples} samples; goal <= 100 ms ${check(ours.latency.expiryLateP99 <= 100)}; bare ws ${theirs.latency.expiryLateP99.toFixed(1)} ms)`,
  );
  if (ours.soak)
    console.log(
      `  soak: RSS max ${(ours.soak.firstMinute / 2 ** 20).toFixed(0)} MiB in the first minute, ${(ours.soak.lastMinute / 2 ** 20).toFixed(0)} MiB in the last (goal: flat, within 10 % ${check(ours.soak.lastMinute <= ours.soak.firstMinute * 1.1)})`,
    );
}
