/**
 * What the query benchmarks share (bench/stripe-query.ts, bench/github-query.ts): a GraphQL query
 * against Plugboard and the same data asked of PostGraphile v5, the two answers checked to be the
 * same data, then BENCH_ROUNDS (8) rounds of BENCH_SECONDS (3) per server at BENCH_CONNECTIONS
 * (16) with autocannon in this process, alternating which goes first. Every response is checked
 * against the first answer (a 200 with errors or other data counts as a failure). This VM's speed
 * drifts by ±20% within a minute, so the figure is the median of the per-round ratios.
 */
import autocannon from 'autocannon';
import { inTurn, median, PINNED, type Server } from './support.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

export type Node = Record<string, unknown>;

export interface Contender<Page> {
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

export const postQuery = (url: string, query: string, headers: Record<string, string> = {}) =>
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
export async function compareQueries<Page>(options: {
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
