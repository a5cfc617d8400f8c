/**
 * What the query benchmarks share (bench/stripe-query.ts, bench/github-query.ts): a fresh
 * database migrated by `plugboard migrate` and filled by the bench, then two servers over it,
 * each in its own process pinned to core 1 (taskset, unless BENCH_PIN=false) with a pool of 10
 * (Plugboard's size, gateway/db.ts), autocannon in this process on core 0: Plugboard
 * (`plugboard serve`, admin secret) and PostGraphile v5 (bench/peers/postgraphile-server.ts). A
 * GraphQL query to Plugboard and the same data asked of PostGraphile are checked to answer the
 * same data, then BENCH_ROUNDS (8) rounds of BENCH_SECONDS (3) per server at BENCH_CONNECTIONS
 * (16), alternating which goes first. Every response is checked against the first answer (a 200
 * with errors or other data counts as a failure). This VM's speed drifts by ±20% within a
 * minute, so the figure is the median of the per-round ratios. Target: >= 1.0x PostGraphile.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freshDatabase, inTurn, median, PINNED, readyz, ROOT, type Server, startServer } from './support.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

export type Node = Record<string, unknown>;

const ADMIN_SECRET = 'bench-admin-secret-0123';
/** Plugboard's pool size (createPool in gateway/db.ts); PostGraphile gets as many connections. */
const POOL_SIZE = '10';

interface Contender<Page> {
  name: string;
  server: Server;
  query: string;
  headers: Record<string, string>;
  /** The answer's data as plain data both servers must agree on. */
  page(data: Node): Page;
}

interface Run {
  rps: number;
  /** Server CPU (user + system) per request, in microseconds. */
  cpuPerRequest: number;
  failures: number;
  report: string;
}

const postQuery = (url: string, query: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });

/** The server's answer as sent (the load checks every response against it) and as a page. */
async function answer<Page>(contender: Contender<Page>): Promise<{ text: string; page: Page }> {
  const response = await postQuery(contender.server.url, contender.query, contender.headers);
  const text = await response.text();
  const body = JSON.parse(text) as { data?: Node; errors?: { message: string }[] };
  if (response.status !== 200 || body.errors || !body.data)
    throw new Error(`${contender.name}: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
  return { text, page: contender.page(body.data) };
}

async function measure<Page>(contender: Contender<Page>, expected: string, seconds: number): Promise<Run> {
  const { server } = contender;
  const cpuBefore = server.cpuMicros();
  const result = await autocannon({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...contender.headers },
    body: JSON.stringify({ query: contender.query }),
    expectBody: expected,
    connections: CONNECTIONS,
    duration: seconds,
  });
  // autocannon counts timeouts among the errors.
  return {
    rps: result.requests.average,
    cpuPerRequest: (server.cpuMicros() - cpuBefore) / Math.max(1, result.requests.total),
    failures: result.non2xx + result.errors + result.mismatches,
    report: `${result.non2xx} non-2xx, ${result.errors} errors (${result.timeouts} timeouts), ${result.mismatches} other answers`,
  };
}

/**
 * Checks both answer the same `Page` (described by `shape` in the output), then measures
 * Plugboard against the peer and prints the rounds, the median ratio and CPU per request.
 */
async function compareQueries<Page>(options: {
  title: string;
  plugboard: Contender<Page>;
  peer: Contender<Page>;
  shape(page: Page): string;
}): Promise<void> {
  const { plugboard, peer, shape } = options;
  const ours = await answer(plugboard);
  const theirs = await answer(peer);
  if (JSON.stringify(ours.page) !== JSON.stringify(theirs.page))
    throw new Error(
      `The answers differ:\n  ${plugboard.name} ${shape(ours.page)}: ${JSON.stringify(ours.page).slice(0, 2000)}\n  ${peer.name} ${shape(theirs.page)}: ${JSON.stringify(theirs.page).slice(0, 2000)}`,
    );
  console.log(
    `${options.title}; ${ROUNDS} rounds x ${SECONDS} s, ${CONNECTIONS} connections${PINNED ? ', servers on core 1, load on core 0' : ', unpinned: everything shares all cores'}`,
  );
  console.log(`  check: HTTP 200, no errors; the same answer from both (${shape(ours.page)})`);

  const contenders = [
    { contender: plugboard, expected: ours.text, runs: [] as Run[] },
    { contender: peer, expected: theirs.text, runs: [] as Run[] },
  ];
  for (const { contender, expected } of contenders) {
    const warmUp = await measure(contender, expected, 2); // JIT, pools, caches
    if (warmUp.failures > 0) console.log(`  !!! warm-up of ${contender.name}: ${warmUp.report}`);
  }
  const [mine, theirsRuns] = contenders as [(typeof contenders)[0], (typeof contenders)[0]];
  const ratios: number[] = [];
  let failedRounds = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const [first, second] = contenders.map(
      ({ contender, expected, runs }) =>
        async () =>
          runs.push(await measure(contender, expected, SECONDS)),
    );
    await inTurn(round, first!, second!);
    const a = mine.runs.at(-1)!;
    const b = theirsRuns.runs.at(-1)!;
    ratios.push(a.rps / b.rps);
    const failed = a.failures + b.failures > 0;
    if (failed) failedRounds++;
    console.log(
      `  round ${String(round).padStart(2)}: ${plugboard.name} ${a.rps.toFixed(0).padStart(5)} req/s   ${peer.name} ${b.rps.toFixed(0).padStart(5)} req/s   ratio ${ratios.at(-1)!.toFixed(2)}×` +
        (failed ? `   !!! FAILURES: ${plugboard.name} ${a.report}; ${peer.name} ${b.report}` : ''),
    );
  }
  const medianOf = (runs: Run[], pick: (run: Run) => number) => median(runs.map(pick));
  console.log(
    `  ${plugboard.name} ${medianOf(mine.runs, (r) => r.rps).toFixed(0)} req/s   ${peer.name} ${medianOf(theirsRuns.runs, (r) => r.rps).toFixed(0)} req/s   ratio ${median(ratios).toFixed(2)}× (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; target >= 1.0×)`,
  );
  console.log(
    `  server CPU per request (median): ${plugboard.name} ${(medianOf(mine.runs, (r) => r.cpuPerRequest) / 1000).toFixed(2)} ms   ${peer.name} ${(medianOf(theirsRuns.runs, (r) => r.cpuPerRequest) / 1000).toFixed(2)} ms`,
  );
  const failures = (runs: Run[]) => runs.reduce((n, r) => n + r.failures, 0);
  console.log(
    failedRounds === 0
      ? '  failures: none (no non-2xx responses, errors, timeouts or other answers in any round)'
      : `  !!! FAILURES in ${failedRounds} of ${ROUNDS} rounds: ${plugboard.name} ${failures(mine.runs)}, ${peer.name} ${failures(theirsRuns.runs)} failed requests — the figures above are not trustworthy`,
  );
}

function migrate(url: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/plugboard.js', 'migrate'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: url, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`plugboard migrate exited ${code}`))));
  });
}

export interface QueryBench<Page> {
  title: string;
  /** The plugin's schema, for PostGraphile. */
  schema: string;
  /** The gateway's environment: PLUGBOARD_PLUGINS and the plugin's configuration. */
  env: Record<string, string>;
  /** Fills the migrated database (then ANALYZE, and smart tags for PostGraphile's relations). */
  fill(databaseUrl: string): Promise<void>;
  plugboard: { query: string; page(data: Node): Page };
  postgraphile: { query: string; page(data: Node): Page };
  shape(page: Page): string;
}

/** Sets the database and both servers up, compares them, and tears everything down. */
export async function runQueryBench<Page>(bench: QueryBench<Page>): Promise<void> {
  const database = await freshDatabase(`bench_${bench.schema}_query`);
  const servers: Server[] = [];
  try {
    await migrate(database.url, bench.env);
    await bench.fill(database.url);
    const plugboard = await startServer(
      ['bin/plugboard.js', 'serve'],
      {
        DATABASE_URL: database.url,
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        // Documents as text, as before trusted documents (issue 23).
        PLUGBOARD_DOCUMENTS: 'any',
        PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
        ...bench.env,
      },
      readyz,
    );
    servers.push(plugboard);
    const postgraphile = await startServer(
      ['bench/peers/postgraphile-server.ts'],
      { DATABASE_URL: database.url, POOL_SIZE, NODE_ENV: 'production', SCHEMAS: bench.schema },
      (url) => postQuery(url, '{ __typename }'),
      120_000,
    );
    servers.push(postgraphile);
    await compareQueries<Page>({
      title: bench.title,
      plugboard: {
        name: 'plugboard',
        server: plugboard,
        headers: { 'x-hasura-admin-secret': ADMIN_SECRET },
        ...bench.plugboard,
      },
      peer: { name: 'postgraphile', server: postgraphile, headers: {}, ...bench.postgraphile },
      shape: bench.shape,
    });
  } finally {
    for (const server of servers) await server.stop();
    await database.drop();
  }
}
