/**
 * The files plugin's upload path against a bare presigned PUT to the same S3-compatible server,
 * in uploads per second, in one run.
 *
 * - Plugboard: `createUpload` (GraphQL, a signed-in user: checks, a row, a presigned S3 PUT URL)
 *   + the PUT of the bytes to that URL + `completeUpload` (a ranged GET of the object: its size
 *   and first bytes, type detection from them, the row updated, the processing job queued). The
 *   gateway (`plugboard serve`, S3 storage) runs with PLUGBOARD_WORKERS=false: the queued jobs
 *   wait for a `plugboard jobs worker` that never comes, so no processing runs during the bench.
 * - Bare: a URL presigned by the plugin's S3 adapter (plugins/files/storage-s3.ts: the SDK's
 *   presigner, content type and length signed) in the load generator, then the same PUT.
 * The S3 server is test/support/s3-server.ts (s3rver; it checks each presigned signature again
 * with the SDK's presigner) in its own process (bench/peers/s3-server.ts). Gateway and S3 server
 * run on core 1, the load generator (this process) on core 0 (BENCH_S3_CORE=0: the S3 server
 * beside the load generator, the gateway alone). BENCH_CONCURRENCY (16) uploads are
 * under way at once, each uploader a user of its own; every file is the same PNG of ~100 kB
 * (BENCH_SIZE bytes), or with BENCH_FILE=photo the same 12 MP JPEG of ~3.6 MB (bench/photos.ts,
 * the image benchmark's photos). A warm-up of each side precedes the rounds; rounds alternate
 * which side goes first and the ratio is the median of the per-round ratios. Goal: ≥ 0.7 × the
 * bare PUT. The warm-up is BENCH_WARM_UP uploads of the ~100 kB PNG a side (so the gateway's code
 * is optimized by V8 before any measuring, whatever the file), then 32 of the photo.
 *
 * Besides the gateway's, the S3 server's and the load generator's CPU, it reports Postgres's: the
 * server processes serving the bench's database (Postgres is not pinned).
 *
 * Run: npm run bench:files-upload   (BENCH_UPLOADS per side per round, 2,000; BENCH_ROUNDS, 5;
 * BENCH_WARM_UP, 300; BENCH_CONCURRENCY; BENCH_FILE; BENCH_SIZE; BENCH_S3_CORE; BENCH_PIN=false
 * unpinned)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import pg from 'pg';
import sharp from 'sharp';
import { createS3Storage } from '../plugins/files/storage-s3.ts';
import { JWT_SECRET, signToken } from '../test/support/tokens.ts';
import { ensurePhotos } from './photos.ts';
import {
  cleanUpOnSignal,
  cpuMicrosOf,
  freshDatabase,
  inTurn,
  median,
  migrate,
  PINNED,
  pinned,
  pinning,
  readyz,
  ROOT,
  runPinnedSelf,
  type Server,
  startServer,
} from './support.ts';

const UPLOADS = Number(process.env['BENCH_UPLOADS'] ?? 2000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const SIZE = Number(process.env['BENCH_SIZE'] ?? 100_000);
/** `png`: a PNG of about BENCH_SIZE bytes; `photo`: a 12 MP JPEG (bench/photos.ts, ~3.6 MB). */
const FILE = process.env['BENCH_FILE'] ?? 'png';
/** Pinned, the S3 server shares core 1 with the gateway (the servers), or with BENCH_S3_CORE=0 the load generator's. */
const S3_CORE = Number(process.env['BENCH_S3_CORE'] ?? 1);
/** Uploads of ~100 kB a side before any measuring, so the gateway's code runs optimized (V8's JIT). */
const WARM_UP = Number(process.env['BENCH_WARM_UP'] ?? 300);
/** Then uploads of the measured file a side, when it is another (the photo). */
const WARM_UP_FILE = 32;
const ADMIN_SECRET = 'bench-admin-secret-0123456789';
/** The plugin's default FILES_UPLOAD_URL_TTL. */
const EXPIRES_IN = 900;

interface S3Peer {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

interface Upload {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
  name: string;
}

interface Figures {
  uploadsPerSecond: number;
  /** CPU time per upload, in µs, of the gateway, of the S3 server, of the load generator and of Postgres. */
  gatewayCpu: number;
  s3Cpu: number;
  loadCpu: number;
  postgresCpu: number;
  /** Share of the time the load generator was busy (near 100 %: it, not the servers, set the pace). */
  loadBusy: number;
}

/** A PNG of `size` bytes or a little more: noise does not compress, so its pixels are about its size. */
async function pngOfAbout(size: number): Promise<Buffer> {
  const side = Math.ceil(Math.sqrt(size / 3));
  const pixels = Buffer.alloc(side * side * 3);
  let state = 12_345;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    pixels[i] = state >>> 24;
  }
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/** Runs `upload` `count` times, CONCURRENCY at a time (uploader `slot` each); uploads per second. */
async function timed(count: number, upload: (slot: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, slot) => {
      while (next < count) {
        next++;
        await upload(slot);
      }
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

runPinnedSelf(0);

const children = new Set<ChildProcess>();
const database = await freshDatabase('bench_files_upload');
let gateway: Server | undefined;
cleanUpOnSignal(async () => {
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await database.drop();
});

try {
  const layout = PINNED ? `: gateway on core 1, S3 server on core ${S3_CORE}, load generator on core 0` : '';
  console.log(
    `Files upload path, ${pinning}${layout} — ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`,
  );
  if (FILE !== 'png' && FILE !== 'photo') throw new Error(`BENCH_FILE must be png or photo, not ${FILE}`);
  const png: Upload = { bytes: new Uint8Array(await pngOfAbout(SIZE)), contentType: 'image/png', name: 'picture.png' };
  const file: Upload =
    FILE === 'photo'
      ? {
          bytes: new Uint8Array(await readFile((await ensurePhotos(1))[0]!)),
          contentType: 'image/jpeg',
          name: 'photo.jpg',
        }
      : png;

  const [command, ...args] = pinned(S3_CORE, [process.execPath, 'bench/peers/s3-server.ts']);
  const s3Process = spawn(command!, args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // BENCH_S3_NODE_OPTIONS profiles the S3 server the same way.
    env: { ...process.env, NODE_OPTIONS: process.env['BENCH_S3_NODE_OPTIONS'] ?? '' },
  });
  children.add(s3Process);
  s3Process.once('exit', () => children.delete(s3Process));
  const s3 = await new Promise<S3Peer>((resolve, reject) => {
    s3Process.once('message', (message: S3Peer) => resolve(message));
    s3Process.once('exit', (code) => reject(new Error(`the S3 server exited (${code})`)));
  });
  const s3Cpu = () => cpuMicrosOf(s3Process.pid!);

  const env = {
    DATABASE_URL: database.url,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_PLUGINS: 'core,files',
    PLUGBOARD_WORKERS: 'false',
    FILES_S3_ENDPOINT: s3.endpoint,
    FILES_S3_REGION: s3.region,
    FILES_S3_BUCKET: s3.bucket,
    FILES_S3_ACCESS_KEY_ID: s3.accessKeyId,
    FILES_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    FILES_S3_FORCE_PATH_STYLE: 'true',
    NODE_ENV: 'production',
    // Documents as text, as before trusted documents (issue 23).
    PLUGBOARD_DOCUMENTS: 'any',
    LOG_LEVEL: 'warn',
    // BENCH_GATEWAY_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway.
    ...(process.env['BENCH_GATEWAY_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_GATEWAY_NODE_OPTIONS'] } : {}),
  };
  migrate(env);
  gateway = await startServer(['bin/plugboard.js', 'serve'], env, readyz);
  const server = gateway;

  // Postgres's share: the CPU of the server processes serving the bench's database (the
  // gateway's pools and pg-boss's), read from /proc (a local Postgres); a connection opened and
  // closed within one measurement is missed.
  const monitor = new pg.Client(database.url);
  await monitor.connect();
  const postgresCpu = async (): Promise<Map<number, number>> => {
    const { rows } = await monitor.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        cpu.set(pid, cpuMicrosOf(pid));
      } catch {
        // Ended meanwhile.
      }
    }
    return cpu;
  };

  const tokens = await Promise.all(
    Array.from({ length: CONCURRENCY }, (_, slot) => signToken({ userId: `uploader-${slot}`, expiresIn: '2h' })),
  );
  const graphql = async <T>(slot: number, query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[slot]}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as { data?: T; errors?: unknown[] };
    if (answer.errors || !answer.data) throw new Error(JSON.stringify(answer.errors));
    return answer.data;
  };
  const put = async (url: string, headers: Record<string, string>, body: Uint8Array<ArrayBuffer>) => {
    const response = await fetch(url, { method: 'PUT', headers, body });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`PUT answered ${response.status}: ${text.slice(0, 300)}`);
  };

  const CREATE =
    'mutation($n: String!, $t: String!, $s: Int!) { createUpload(filename: $n, contentType: $t, size: $s) { file { id } url headers } }';
  const COMPLETE = 'mutation($id: ID!) { completeUpload(id: $id) { id status } }';
  async function throughPlugboard(slot: number, upload: Upload): Promise<void> {
    const { createUpload } = await graphql<{
      createUpload: { file: { id: string }; url: string; headers: Record<string, string> };
    }>(slot, CREATE, { n: upload.name, t: upload.contentType, s: upload.bytes.length });
    await put(createUpload.url, createUpload.headers, upload.bytes);
    const { completeUpload } = await graphql<{ completeUpload: { status: string } }>(slot, COMPLETE, {
      id: createUpload.file.id,
    });
    if (completeUpload.status !== 'PROCESSING')
      throw new Error(`completeUpload left the file ${completeUpload.status}`);
  }

  // The plugin's own S3 adapter presigns: the URL a bare upload gets costs what the plugin's costs.
  const storage = createS3Storage({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
  });
  async function barePut(_slot: number, upload: Upload): Promise<void> {
    const url = await storage.presignPut(`bare/${randomUUID()}`, {
      contentType: upload.contentType,
      size: upload.bytes.length,
      expiresInSeconds: EXPIRES_IN,
    });
    await put(url, { 'Content-Type': upload.contentType }, upload.bytes);
  }

  async function measure(upload: (slot: number, file: Upload) => Promise<void>): Promise<Figures> {
    const postgresStarted = await postgresCpu();
    const gatewayStarted = server.cpuMicros();
    const s3Started = s3Cpu();
    const loadStarted = process.cpuUsage();
    const uploadsPerSecond = await timed(UPLOADS, (slot) => upload(slot, file));
    const load = process.cpuUsage(loadStarted);
    const loadCpu = (load.user + load.system) / UPLOADS;
    let postgres = 0;
    for (const [pid, cpu] of await postgresCpu()) postgres += cpu - (postgresStarted.get(pid) ?? 0);
    return {
      uploadsPerSecond,
      gatewayCpu: (server.cpuMicros() - gatewayStarted) / UPLOADS,
      s3Cpu: (s3Cpu() - s3Started) / UPLOADS,
      loadCpu,
      postgresCpu: postgres / UPLOADS,
      loadBusy: (loadCpu * uploadsPerSecond) / 1e6,
    };
  }

  const warmUpFile = file === png ? 0 : WARM_UP_FILE;
  console.log(
    `${UPLOADS} uploads of ${file.bytes.length} bytes per side per round × ${ROUNDS} rounds, concurrency ${CONCURRENCY} (after a warm-up of ${WARM_UP} uploads of ${png.bytes.length} bytes${warmUpFile ? ` and ${warmUpFile} of the file` : ''} a side)`,
  );
  for (const side of [throughPlugboard, barePut]) {
    await timed(WARM_UP, (slot) => side(slot, png));
    await timed(warmUpFile, (slot) => side(slot, file));
  }
  const bare: Figures[] = [];
  const ours: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => ours.push(await measure(throughPlugboard)),
      async () => bare.push(await measure(barePut)),
    );
    const [b, o] = [bare.at(-1)!, ours.at(-1)!];
    const describe = (f: Figures) =>
      `${f.uploadsPerSecond.toFixed(0)}/s (load generator busy ${(f.loadBusy * 100).toFixed(0)} %)`;
    console.log(
      `  round ${round + 1}: bare presigned PUT ${describe(b)}, plugboard ${describe(o)} → ${(o.uploadsPerSecond / b.uploadsPerSecond).toFixed(2)}×`,
    );
  }
  storage.close();
  await monitor.end();

  const db = new pg.Client(database.url);
  await db.connect();
  const { rows } = await db.query<{ processing: number }>(
    "SELECT count(*) FILTER (WHERE status = 'processing')::int AS processing FROM files.files",
  );
  await db.end();
  const expected = WARM_UP + warmUpFile + UPLOADS * ROUNDS;
  if (rows[0]!.processing !== expected)
    throw new Error(`${rows[0]!.processing} files are waiting for processing, ${expected} expected`);

  const ratios = bare.map((b, i) => ours[i]!.uploadsPerSecond / b.uploadsPerSecond);
  const pick = (figures: Figures[], key: keyof Figures) => median(figures.map((f) => f[key]));
  console.log(
    `\n  uploads per second: plugboard ${pick(ours, 'uploadsPerSecond').toFixed(0)} vs bare presigned PUT ${pick(bare, 'uploadsPerSecond').toFixed(0)} → ${median(ratios).toFixed(2)}× (rounds ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal >= 0.7×)`,
  );
  console.log(
    `  CPU per upload: plugboard — gateway ${pick(ours, 'gatewayCpu').toFixed(0)} µs + S3 server ${pick(ours, 's3Cpu').toFixed(0)} µs (load generator ${pick(ours, 'loadCpu').toFixed(0)} µs, Postgres ${pick(ours, 'postgresCpu').toFixed(0)} µs); bare — S3 server ${pick(bare, 's3Cpu').toFixed(0)} µs (load generator ${pick(bare, 'loadCpu').toFixed(0)} µs)`,
  );
  // What the gateway spends with no request (its timers: queue upkeep, metrics…), from the bare rounds.
  const idle = median(bare.map((f) => (f.gatewayCpu * f.uploadsPerSecond) / 1000));
  console.log(`  the gateway while the bare side runs (no requests): ${idle.toFixed(1)} ms of CPU a second`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await gateway?.stop();
  await database.drop();
}
