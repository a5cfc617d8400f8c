/**
 * Trusted documents: the same documents sent as `{ documentId }` and as text, to one gateway in
 * the same run (PLUGBOARD_DOCUMENTS=any, so both are served; the manifest holds both documents).
 * By id, the request is smaller and the text comes from the manifest as the same string object
 * each time, so yoga's parse and validation caches find it without hashing the text again.
 * Target: documentId ≥ 1.0× text, for each document.
 *
 * Two documents: the gateway bench's small query, and a larger one (about 2 KB: fragments,
 * aliases, directives) where the text's cost shows more. In each round a document's text and id
 * run back to back, alternating which goes first; the figure is the median of the per-round
 * ratios, beside the gateway's CPU time per request. The gateway runs on core 1,
 * autocannon here on core 0 (`BENCH_PIN=false`: unpinned).
 *
 * Run: npm run bench:trusted-documents (Postgres at DATABASE_URL). BENCH_ROUNDS, BENCH_SECONDS,
 * BENCH_CONNECTIONS tune it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_URL as DATABASE_URL,
  inTurn,
  median,
  PINNED,
  pinning,
  readyz,
  runPinnedSelf,
  startServer,
  benchUserToken,
  graphqlRequestsPerSecond,
} from './support.ts';

runPinnedSelf(0);

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 20);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 2);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 20);
const JWT_SECRET = 'bench-secret-0123456789abcdef-0123456789';

const SMALL = 'query Bench { viewer { role userId } plugins { name version enabled reason } }';
const LARGE = `query BenchLarge($withReason: Boolean = true, $withVersion: Boolean = true) {
  viewer { ...Caller }
  me: viewer { ...Caller role }
  all: plugins { ...Plugin }
  again: plugins { ...Plugin name }
  ${Array.from({ length: 12 }, (_, i) => `p${i}: plugins { name enabled version @include(if: $withVersion) reason @include(if: $withReason) }`).join('\n  ')}
}
fragment Caller on Viewer { role userId allowedRoles }
fragment Plugin on Plugin { name version @include(if: $withVersion) enabled reason @include(if: $withReason) }`;

const idOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

const token = await benchUserToken(JWT_SECRET);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

const variants = [
  { name: 'small, text', document: 'small', body: JSON.stringify({ query: SMALL }) },
  { name: 'small, documentId', document: 'small', body: JSON.stringify({ documentId: idOf(SMALL) }) },
  { name: 'large, text', document: 'large', body: JSON.stringify({ query: LARGE }) },
  { name: 'large, documentId', document: 'large', body: JSON.stringify({ documentId: idOf(LARGE) }) },
] as const;

const directory = await mkdtemp(join(tmpdir(), 'plugboard-bench-documents-'));
const manifest = join(directory, 'documents.json');
await writeFile(manifest, JSON.stringify({ [idOf(SMALL)]: SMALL, [idOf(LARGE)]: LARGE }));
const gateway = await startServer(
  ['bin/plugboard.js', 'serve'],
  {
    DATABASE_URL,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    PLUGBOARD_DOCUMENTS: 'any',
    PLUGBOARD_TRUSTED_DOCUMENTS: manifest,
    PLUGBOARD_PLUGINS: 'core',
  },
  readyz,
);

const run = (body: string, seconds: number) =>
  graphqlRequestsPerSecond(gateway.url, { body, headers, connections: CONNECTIONS, seconds });

try {
  console.log(
    `Trusted documents: documentId vs text — ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${pinning}`,
  );
  console.log(`documents: small ${SMALL.length} B, large ${LARGE.length} B\n`);
  // Each document answers the same by id as by text.
  for (const [text, id] of [
    [variants[0], variants[1]],
    [variants[2], variants[3]],
  ] as const) {
    const [byText, byId] = await Promise.all(
      [text, id].map((v) =>
        fetch(`${gateway.url}/graphql`, { method: 'POST', headers, body: v.body }).then((r) => r.text()),
      ),
    );
    if (byText !== byId || !byText!.startsWith('{"data"')) throw new Error(`answers differ:\n${byText}\n${byId}`);
  }
  for (const variant of variants) await run(variant.body, 2); // warm-up (JIT)

  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratios = { small: [] as number[], large: [] as number[] };
  const measure = async (variant: (typeof variants)[number]) => {
    const before = gateway.cpuMicros();
    const result = await run(variant.body, SECONDS);
    rps.get(variant.name)!.push(result.rps);
    cpu.get(variant.name)!.push((gateway.cpuMicros() - before) / result.requests);
    return result.rps;
  };
  for (let round = 1; round <= ROUNDS; round++) {
    // Each document's text and id run back to back, in turn first, so a drift of the VM's speed
    // between them is seconds long and favours neither.
    const line: string[] = [];
    for (const [document, text, id] of [
      ['small', variants[0], variants[1]],
      ['large', variants[2], variants[3]],
    ] as const) {
      let byText = 0;
      let byId = 0;
      await inTurn(
        round,
        async () => (byText = await measure(text)),
        async () => (byId = await measure(id)),
      );
      ratios[document].push(byId / byText);
      line.push(`${document}: text ${byText.toFixed(0).padStart(6)}, id ${byId.toFixed(0).padStart(6)}`);
    }
    console.log(`round ${String(round).padStart(2)}: ${line.join('   ')} req/s`);
  }
  console.log(
    `\n${ROUNDS} rounds, text and id of each document back to back, ${SECONDS} s each, ${CONNECTIONS} connections${PINNED ? ', gateway on core 1, load on core 0' : ', unpinned'}`,
  );
  for (const variant of variants) {
    console.log(
      `  ${variant.name.padEnd(18)}: median ${median(rps.get(variant.name)!).toFixed(0).padStart(6)} req/s, ${median(cpu.get(variant.name)!).toFixed(1)} µs gateway CPU per request`,
    );
  }
  for (const document of ['small', 'large'] as const) {
    const list = ratios[document];
    const cpuRatio = median(cpu.get(`${document}, text`)!) / median(cpu.get(`${document}, documentId`)!);
    console.log(
      `  ${document}: documentId / text req/s median ${median(list).toFixed(3)}× (rounds ${Math.min(...list).toFixed(2)}–${Math.max(...list).toFixed(2)}), CPU per request text / documentId ${cpuRatio.toFixed(3)}×; target >= 1.0×`,
    );
  }
} finally {
  await gateway.stop();
  await rm(directory, { recursive: true, force: true });
}
