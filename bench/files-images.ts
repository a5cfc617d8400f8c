/**
 * The files plugin's image pipeline against raw sharp doing the same image work, in one run.
 *
 * Photos: 12 MP (4000 × 3000) JPEGs at quality 90 with camera EXIF, a smooth colour field with
 * grain (~3.6 MB each, ~2 MB as WebP, like a phone's photo), made once with sharp and kept in
 * the system's temp folder; BENCH_DISTINCT (24) of them, taken in turn.
 *
 * - Plugboard: a gateway (`plugboard serve`, the files plugin on the local disk, its queue's
 *   workers inside, FILES_CONCURRENCY = BENCH_CONCURRENCY) on core 1. Each round's photos are
 *   uploaded first (createUpload + PUT to the signed local URL, not timed); the clock starts at
 *   the first completeUpload and stops at the last file's `processed_at`. Each file's job reads
 *   the object from storage into a temp file while hashing it (SHA-256), detects its type, makes
 *   the three thumbnails (FILES_THUMBNAIL_SIZES' default 100x100,400x400,1200x1200), the WebP
 *   copy and the metadata (sharp + exifr), writes the four derivatives to storage and records
 *   them, the metadata and the status in Postgres.
 * - Raw sharp: bench/peers/sharp-images.ts, one process on core 1, the same photos read from the
 *   disk and the same image work (bench/peers/sharp-pipeline.ts: the header's metadata, the three
 *   thumbnails and the full-size WebP, upright, quality 80 effort 2 as images.ts makes them),
 *   BENCH_CONCURRENCY photos at a time. Checked before measuring to produce the plugin's bytes.
 * Rounds alternate which side goes first; the ratio is the median of the per-round ratios.
 * Goal: Plugboard ≥ 0.85 × raw sharp, in images per minute.
 *
 * Run: npm run bench:files-images   (BENCH_PHOTOS: photos per side over the whole run, default
 * 500 as issue 20 says: on 2 cores about 9 minutes a side pinned, 5 unpinned, so bounded runs set
 * fewer; BENCH_ROUNDS 3; BENCH_CONCURRENCY 2, the plugin's default; BENCH_DISTINCT;
 * BENCH_PIN=false unpinned)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { processImage } from '../plugins/files/images.ts';
import { JWT_SECRET, signToken } from '../test/support/tokens.ts';
import { parseBoxes, rawImageWork } from './peers/sharp-pipeline.ts';
import { ensurePhotos } from './photos.ts';
import {
  cleanUpOnSignal,
  freshDatabase,
  inTurn,
  median,
  migrate,
  pinned,
  pinning,
  readyz,
  ROOT,
  runPinnedSelf,
  type Server,
  startServer,
} from './support.ts';

const PHOTOS = Number(process.env['BENCH_PHOTOS'] ?? 500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 2);
const DISTINCT = Number(process.env['BENCH_DISTINCT'] ?? 24);
const PER_ROUND = Math.ceil(PHOTOS / ROUNDS);
const SIZES = '100x100,400x400,1200x1200';
const ADMIN_SECRET = 'bench-admin-secret-0123456789';
/** Uploads (not timed) and completeUpload calls under way at once. */
const CLIENTS = 8;

/** Runs `task` over `items`, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Fails unless raw sharp's work makes the bytes the plugin's processImage makes (same settings). */
async function checkSameWork(photo: string): Promise<void> {
  const input = await readFile(photo);
  const boxes = parseBoxes(SIZES);
  const [plugin, raw] = await Promise.all([
    processImage(input, { sizes: boxes, avif: false, maxPixels: 100_000_000 }),
    rawImageWork(input, boxes),
  ]);
  const same =
    plugin.optimized.webp.data.equals(raw.webp) && plugin.thumbnails.every((t, i) => t.data.equals(raw.thumbnails[i]!));
  if (!same) throw new Error('raw sharp does not make the same derivatives as the plugin: the comparison is unfair');
  console.log(
    `same work checked: WebP ${(raw.webp.length / 1e6).toFixed(2)} MB, thumbnails ${raw.thumbnails.map((t) => `${(t.length / 1e3).toFixed(0)} kB`).join(', ')} — byte-identical on both sides`,
  );
}

interface Figures {
  imagesPerMinute: number;
  /** CPU time (user + system) of the process doing the work, per image, in ms. */
  cpuPerImage: number;
  /** Time from an image's start to its end, on average, in ms (a job's, for Plugboard). */
  msPerImage: number;
  /** Share of the timed span during which the CONCURRENCY slots were working on an image. */
  occupancy: number;
  /** Plugboard: time from a file's processed_at to its job's completion (its batch's end), on average, in ms. */
  heldMs?: number;
}

const children = new Set<ChildProcess>();

function rawSharp(photos: string[], count: number): Promise<Figures> {
  const [command, ...args] = pinned(1, [process.execPath, 'bench/peers/sharp-images.ts']);
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      PHOTOS: photos.join('\n'),
      COUNT: String(count),
      CONCURRENCY: String(CONCURRENCY),
      SIZES,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('message', (message: { ms: number; cpuMicros: number; busyMs: number }) =>
      resolve({
        imagesPerMinute: (count / message.ms) * 60_000,
        cpuPerImage: message.cpuMicros / 1000 / count,
        msPerImage: message.busyMs / count,
        occupancy: message.busyMs / (CONCURRENCY * message.ms),
      }),
    );
    child.once('exit', (code) => reject(new Error(`the raw sharp peer exited (${code}) without an answer`)));
  });
}

runPinnedSelf(0);

const database = await freshDatabase('bench_files_images');
let gateway: Server | undefined;
let storageDir: string | undefined;
cleanUpOnSignal(async () => {
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await database.drop();
});

try {
  console.log(
    `Files image pipeline, ${pinning} — ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}`,
  );
  const photos = await ensurePhotos(DISTINCT);
  await checkSameWork(photos[0]!);

  storageDir = await mkdtemp(join(tmpdir(), 'plugboard-bench-files-'));
  const env = {
    DATABASE_URL: database.url,
    PLUGBOARD_ADMIN_SECRET: ADMIN_SECRET,
    PLUGBOARD_JWT_SECRET: JWT_SECRET,
    PLUGBOARD_PLUGINS: 'core,files',
    FILES_LOCAL_DIR: storageDir,
    FILES_CONCURRENCY: String(CONCURRENCY),
    FILES_THUMBNAIL_SIZES: SIZES,
    // Each round's photos all wait for completeUpload at once.
    FILES_MAX_PENDING_UPLOADS: '10000',
    NODE_ENV: 'production',
    // Documents as text, as before trusted documents (issue 23).
    PLUGBOARD_DOCUMENTS: 'any',
    LOG_LEVEL: 'warn',
  };
  migrate(env);
  gateway = await startServer(['bin/plugboard.js', 'serve'], env, readyz);
  const server = gateway;
  const user = { authorization: `Bearer ${await signToken({ userId: 'bench-photographer', expiresIn: '2h' })}` };
  const graphql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...user },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const db = new pg.Client(database.url);
  await db.connect();

  /** createUpload + PUT of each photo to the gateway's signed URL; returns the file ids. */
  async function uploadAll(count: number, offset: number): Promise<string[]> {
    const ids: string[] = [];
    await eachLimited(
      Array.from({ length: count }, (_, i) => photos[(offset + i) % photos.length]!),
      CLIENTS,
      async (photo) => {
        const bytes = await readFile(photo);
        const { createUpload } = await graphql<{
          createUpload: { file: { id: string }; url: string; headers: Record<string, string> };
        }>(
          'mutation($n: String!, $t: String!, $s: Int!) { createUpload(filename: $n, contentType: $t, size: $s) { file { id } url headers } }',
          { n: 'photo.jpg', t: 'image/jpeg', s: bytes.length },
        );
        const put = await fetch(new URL(createUpload.url, server.url), {
          method: 'PUT',
          headers: createUpload.headers,
          body: new Uint8Array(bytes),
        });
        if (put.status !== 200) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);
        ids.push(createUpload.file.id);
      },
    );
    return ids;
  }

  async function throughPlugboard(count: number, offset: number): Promise<Figures> {
    const ids = await uploadAll(count, offset);
    const cpuStarted = server.cpuMicros();
    const started = Date.now();
    await eachLimited(ids, CLIENTS, async (id) => {
      await graphql('mutation($id: ID!) { completeUpload(id: $id) { id } }', { id });
    });
    for (;;) {
      const { rows } = await db.query<{ ready: number; failed: number; error: string | null; last: number }>(
        `SELECT count(*) FILTER (WHERE status = 'ready')::int AS ready,
                count(*) FILTER (WHERE status IN ('failed', 'infected'))::int AS failed,
                min(error) AS error,
                (extract(epoch FROM max(processed_at)) * 1000)::float8 AS last
         FROM files.files WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      const { ready, failed, error, last } = rows[0]!;
      if (failed > 0) throw new Error(`${failed} files failed: ${error}`);
      if (ready === count) {
        const cpu = server.cpuMicros() - cpuStarted;
        // A job runs from its start in pg-boss to its file's processed_at.
        // pg-boss completes the jobs of a fetched batch together, once the last is done.
        const { rows: jobs } = await db.query<{ busy: number; held: number }>(
          `SELECT sum(extract(epoch FROM f.processed_at - j.started_on) * 1000)::float8 AS busy,
                  avg(extract(epoch FROM j.completed_on - f.processed_at) * 1000)::float8 AS held
           FROM files.files AS f JOIN pgboss.job AS j ON j.name = 'files' AND j.data -> 'data' ->> 'id' = f.id::text
           WHERE f.id = ANY($1::uuid[])`,
          [ids],
        );
        const ms = last - started;
        return {
          imagesPerMinute: (count / ms) * 60_000,
          cpuPerImage: cpu / 1000 / count,
          msPerImage: jobs[0]!.busy / count,
          occupancy: jobs[0]!.busy / (CONCURRENCY * ms),
          heldMs: jobs[0]!.held,
        };
      }
      if (Date.now() - started > 30 * 60_000) throw new Error(`only ${ready} of ${count} files ready after 30 min`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  console.log(
    `${PER_ROUND} photos per side per round × ${ROUNDS} rounds (${PER_ROUND * ROUNDS} a side; ${DISTINCT} distinct), concurrency ${CONCURRENCY}, thumbnails ${SIZES} + full-size WebP`,
  );
  const raw: Figures[] = [];
  const ours: Figures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await inTurn(
      round,
      async () => ours.push(await throughPlugboard(PER_ROUND, round * PER_ROUND)),
      async () => raw.push(await rawSharp(photos, PER_ROUND)),
    );
    const [r, o] = [raw.at(-1)!, ours.at(-1)!];
    const describe = (f: Figures) =>
      `${f.imagesPerMinute.toFixed(1)}/min (CPU ${f.cpuPerImage.toFixed(0)} ms/image, ${f.msPerImage.toFixed(0)} ms an image, slots busy ${(f.occupancy * 100).toFixed(0)} %)`;
    console.log(
      `  round ${round + 1}: raw sharp ${describe(r)}, plugboard ${describe(o)} → ${(o.imagesPerMinute / r.imagesPerMinute).toFixed(2)}×`,
    );
  }
  await db.end();
  const ratios = raw.map((r, i) => ours[i]!.imagesPerMinute / r.imagesPerMinute);
  console.log(
    `\n  images per minute: plugboard ${median(ours.map((f) => f.imagesPerMinute)).toFixed(1)} vs raw sharp ${median(raw.map((f) => f.imagesPerMinute)).toFixed(1)} → ${median(ratios).toFixed(2)}× (rounds ${ratios.map((x) => x.toFixed(2)).join(', ')}; goal >= 0.85×)`,
  );
  const pick = (figures: Figures[], key: Exclude<keyof Figures, 'heldMs'>) => median(figures.map((f) => f[key]));
  console.log(
    `  CPU per image: plugboard gateway ${pick(ours, 'cpuPerImage').toFixed(0)} ms, raw sharp ${pick(raw, 'cpuPerImage').toFixed(0)} ms`,
  );
  console.log(
    `  time an image: plugboard job ${pick(ours, 'msPerImage').toFixed(0)} ms, raw sharp ${pick(raw, 'msPerImage').toFixed(0)} ms; slots busy: plugboard ${(pick(ours, 'occupancy') * 100).toFixed(0)} %, raw ${(pick(raw, 'occupancy') * 100).toFixed(0)} %; a processed file's job completes ${median(ours.map((f) => f.heldMs ?? 0)).toFixed(0)} ms later (with its batch)`,
  );
} finally {
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await database.drop();
  if (storageDir) await rm(storageDir, { recursive: true, force: true });
}
