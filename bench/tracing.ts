/**
 * Tracing overhead: requests/s of the gateway with OpenTelemetry tracing on, sampling 10 % of
 * traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1) and exporting
 * OTLP/protobuf to a local receiver in this process, against the same gateway with tracing off
 * (no endpoint: the SDK is never loaded). Same query and settings as bench/gateway.ts (JWT auth,
 * limits, metrics). Two gateways run at once, pinned to core 1 (taskset, unless BENCH_PIN=false),
 * autocannon and the receiver on core 0; they take turns in short rounds.
 *
 * Why several pairs of processes: two processes of the same gateway, same settings, differ by up
 * to ±8 % in throughput on this VM for as long as they live (JIT decisions, memory layout), more
 * than the effect measured. So BENCH_PAIRS (4) fresh pairs are started one after the other, each
 * warmed up and measured for BENCH_ROUNDS rounds; the figure is the median of all rounds' ratios,
 * and each pair's median is printed too. Target: traced >= 95 % of untraced.
 *
 * Run: npm run bench:tracing (Postgres at DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 * BENCH_PAIRS, BENCH_ROUNDS (5 a pair), BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_WARM_UP_SECONDS
 * (10, each gateway) tune it; BENCH_PIN=false runs unpinned.
 */
import { cpus } from 'node:os';
import { startOtlpReceiver } from '../test/support/otlp-receiver.ts';
import {
  cleanUpOnSignal,
  gatewayEnv,
  inTurn,
  median,
  pinning,
  readyz,
  runPinnedSelf,
  startServer,
  BENCH_JWT_SECRET,
  benchUserToken,
  SMALL_QUERY,
  graphqlRequestsPerSecond,
  type Server,
} from './support.ts';

const PAIRS = Number(process.env['BENCH_PAIRS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 20);
const WARM_UP_SECONDS = Number(process.env['BENCH_WARM_UP_SECONDS'] ?? 10);
const WARM_UP_TURN_SECONDS = 5;
// BENCH_SAMPLE_RATIO=0 prices the unsampled path alone, 1 a request traced in full; `off` runs two
// untraced gateways against each other, which shows what this bench can resolve.
const SAMPLE_RATIO = process.env['BENCH_SAMPLE_RATIO'] ?? '0.1';
const ON_NAME = SAMPLE_RATIO === 'off' ? 'tracing off, again' : `tracing on, ${Number(SAMPLE_RATIO) * 100} % sampled`;

const requestsPerSecond = (url: string, headers: Record<string, string>, seconds: number) =>
  graphqlRequestsPerSecond(url, {
    body: JSON.stringify({ query: SMALL_QUERY }),
    headers,
    connections: CONNECTIONS,
    seconds,
  });

// autocannon and the receiver on core 0, as the gateways are on core 1 (when pinned).
runPinnedSelf(0);
console.log(
  `Plugboard tracing overhead, ${pinning} — ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}\n`,
);
const receiver = await startOtlpReceiver();
const token = await benchUserToken(BENCH_JWT_SECRET);
const headers = { authorization: `Bearer ${token}` };
// e.g. `--cpu-prof --cpu-prof-dir=/tmp/profiles` for every gateway's profile.
const nodeOptions: Record<string, string> = process.env['BENCH_NODE_OPTIONS']
  ? { NODE_OPTIONS: process.env['BENCH_NODE_OPTIONS'] }
  : {};
let running: Server[] = [];
const stopAll = () => Promise.all([...running.map((server) => server.stop()), receiver.close()]);
cleanUpOnSignal(stopAll);

const rps = { off: [] as number[], on: [] as number[] };
const cpu = { off: [] as number[], on: [] as number[] };
const ratios: number[] = [];
const pairMedians: number[] = [];
let tracedRequests = 0;
const exportsBefore = { requests: receiver.requests(), bytes: receiver.bytes() };
try {
  for (let pair = 1; pair <= PAIRS; pair++) {
    const off = await startServer(['bin/plugboard.js', 'serve'], { ...gatewayEnv(), ...nodeOptions }, readyz);
    running = [off];
    const on = await startServer(
      ['bin/plugboard.js', 'serve'],
      {
        ...(SAMPLE_RATIO === 'off' ? gatewayEnv() : gatewayEnv({ endpoint: receiver.url, ratio: SAMPLE_RATIO })),
        ...nodeOptions,
      },
      readyz,
    );
    running = [off, on];
    // Warm-up: a function of the sampled path runs for a tenth of the requests, and reaches optimized
    // code later than the rest. Taken in turns of at most 5 s, so that the two gateways age together:
    // a gateway's throughput dips for a while at about 100 s of age (bench/RESULTS.md), and a long
    // warm-up taken in one block put only the older gateway's rounds there.
    for (let warmed = 0; warmed < WARM_UP_SECONDS; warmed += WARM_UP_TURN_SECONDS) {
      const seconds = Math.min(WARM_UP_TURN_SECONDS, WARM_UP_SECONDS - warmed);
      await requestsPerSecond(off.url, headers, seconds);
      tracedRequests += (await requestsPerSecond(on.url, headers, seconds)).requests;
    }
    const pairRatios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const measure = (which: 'off' | 'on') => async () => {
        const server = which === 'off' ? off : on;
        const before = server.cpuMicros();
        const { rps: rate, requests } = await requestsPerSecond(server.url, headers, SECONDS);
        rps[which].push(rate);
        cpu[which].push((server.cpuMicros() - before) / requests);
        if (which === 'on') tracedRequests += requests;
      };
      await inTurn(round, measure('off'), measure('on'));
      pairRatios.push(rps.on.at(-1)! / rps.off.at(-1)!);
      console.log(
        `pair ${pair} round ${round}: off ${rps.off.at(-1)!.toFixed(0).padStart(6)}  on ${rps.on.at(-1)!.toFixed(0).padStart(6)} req/s  (${(pairRatios.at(-1)! * 100).toFixed(1)} %)`,
      );
    }
    ratios.push(...pairRatios);
    pairMedians.push(median(pairRatios));
    console.log(`pair ${pair}: median ${(median(pairRatios) * 100).toFixed(1)} %`);
    // The traced gateway's last spans leave at its shutdown, which flushes them.
    await Promise.all([off.stop(), on.stop()]);
    running = [];
  }
  const exported = {
    requests: receiver.requests() - exportsBefore.requests,
    bytes: receiver.bytes() - exportsBefore.bytes,
  };

  console.log(
    `\n${PAIRS} pairs of fresh gateways, ${ROUNDS} rounds of ${SECONDS} s each a pair, taking turns, ${CONNECTIONS} connections, ${pinning}`,
  );
  for (const which of ['off', 'on'] as const) {
    console.log(
      `  ${(which === 'off' ? 'tracing off' : ON_NAME).padEnd(28)}: median ${median(rps[which]).toFixed(0).padStart(6)} req/s, ${median(cpu[which]).toFixed(1)} µs server CPU per request`,
    );
  }
  console.log(
    `  exported: ${exported.requests} OTLP requests, ${(exported.bytes / 1024).toFixed(0)} KiB for the ${tracedRequests} requests the second gateways answered, warm-ups included (${((exported.bytes / tracedRequests) * 10).toFixed(0)} bytes per 10 requests)`,
  );
  console.log(`  pairs' medians: ${pairMedians.map((ratio) => `${(ratio * 100).toFixed(1)} %`).join(', ')}`);
  console.log(
    `  traced / untraced: req/s median ${(median(ratios) * 100).toFixed(1)} % (rounds ${(Math.min(...ratios) * 100).toFixed(0)}-${(Math.max(...ratios) * 100).toFixed(0)} %), CPU per request ${((median(cpu.on) / median(cpu.off)) * 100).toFixed(1)} %; target >= 95 %`,
  );
} finally {
  await stopAll();
}
