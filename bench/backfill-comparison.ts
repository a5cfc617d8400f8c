/**
 * What the backfill benchmarks share (bench/stripe-backfill.ts, bench/github-backfill.ts): each
 * round, on a fresh database, `plugboard <plugin> backfill --resource <resource>` runs in a child
 * process (pinned to the second core with taskset unless BENCH_PIN=false) and its rate is taken
 * from the run's own record (sync_runs.started_at → finished_at). The limit it is held against:
 * the very rows it wrote, read back into memory, then `COPY … FROM STDIN` into empty tables of
 * the same shape (generated columns, indexes and compression included) — no API, no upsert. The
 * figure is the median of the per-round ratios; target >= 50 %.
 */
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { freshDatabase, median, pinned } from './support.ts';

const CLI = fileURLToPath(new URL('../bin/plugboard.js', import.meta.url));

export interface BackfillBench {
  plugin: string;
  resource: string;
  schema: string;
  /** The synced tables the backfill writes, the columns the COPY writes, and the rows each gets. */
  tables: { table: string; columns: string; rows: number }[];
  rounds: number;
  env: Record<string, string>;
  /** A directory for the backfill child's CPU profiles. */
  cpuProfiles?: string | undefined;
  /** Called after each backfill; throws when the run is not a fair measurement. */
  check?(): void;
  /** One backfill before the rounds, not measured (a stand-in that caches its answers renders them there). */
  warmUp?: boolean;
  /**
   * When the provider had the data ready (Shopify: its bulk export completed), if later than the
   * run's start: the time before it is the provider's, and the backfill is timed from there.
   */
  readyAt?(): Date | null;
  /** The ratio to reach; default 0.5. */
  target?: number;
}

function backfill(bench: BackfillBench, databaseUrl: string): Promise<void> {
  const profile = bench.cpuProfiles ? ['--cpu-prof', `--cpu-prof-dir=${bench.cpuProfiles}`] : [];
  const [command, ...args] = pinned(1, [
    process.execPath,
    ...profile,
    CLI,
    bench.plugin,
    'backfill',
    '--resource',
    bench.resource,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, {
      env: { PATH: process.env['PATH'] ?? '', ...bench.env, DATABASE_URL: databaseUrl },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`backfill exited ${code}:\n${output}`))));
  });
}

/** Reads the backfilled rows into memory, then times a raw COPY of them into twin tables. */
async function copyRate(db: pg.Client, bench: BackfillBench): Promise<number> {
  await db.query('CREATE SCHEMA copy_target');
  const copies: { table: string; columns: string; rows: number; chunks: Buffer[] }[] = [];
  for (const { table, columns, rows } of bench.tables) {
    const source = `${bench.schema}.${table}`;
    const chunks: Buffer[] = [];
    await pipeline(
      db.query(copyTo(`COPY (SELECT ${columns} FROM ${source}) TO STDOUT`)),
      new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          chunks.push(chunk);
          done();
        },
      }),
    );
    await db.query(`CREATE TABLE copy_target.${table} (LIKE ${source} INCLUDING ALL)`);
    copies.push({ table, columns, rows, chunks });
  }
  const started = performance.now();
  for (const { table, columns, chunks } of copies)
    await pipeline(Readable.from(chunks), db.query(copyFrom(`COPY copy_target.${table} (${columns}) FROM STDIN`)));
  const seconds = (performance.now() - started) / 1000;
  for (const { table, rows: expected } of copies) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM copy_target.${table}`);
    if (rows[0]!.n !== expected) throw new Error(`COPY wrote ${rows[0]!.n} rows into ${table}, expected ${expected}`);
  }
  return totalRows(bench) / seconds;
}

const totalRows = (bench: BackfillBench) => bench.tables.reduce((sum, { rows }) => sum + rows, 0);

/** Runs the rounds and prints each, then the medians and the ratio. */
export async function compareBackfill(bench: BackfillBench): Promise<void> {
  const backfillRates: number[] = [];
  const copyRates: number[] = [];
  if (bench.warmUp) {
    const database = await freshDatabase(`bench_${bench.plugin}_backfill`);
    try {
      await backfill(bench, database.url);
    } finally {
      await database.drop();
    }
  }
  for (let round = 0; round < bench.rounds; round++) {
    const database = await freshDatabase(`bench_${bench.plugin}_backfill`);
    try {
      await backfill(bench, database.url);
      bench.check?.();
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        const { rows } = await db.query<{ seconds: number }>(
          `SELECT extract(epoch FROM finished_at - greatest(started_at, $1::timestamptz))::float8 AS seconds
           FROM ${bench.schema}.sync_runs WHERE status = 'completed'`,
          [bench.readyAt?.() ?? null],
        );
        for (const { table, rows: expected } of bench.tables) {
          const { rows: counted } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${bench.schema}.${table}`,
          );
          if (counted[0]!.n !== expected)
            throw new Error(`backfill wrote ${counted[0]!.n} rows into ${table}, expected ${expected}`);
        }
        backfillRates.push(totalRows(bench) / rows[0]!.seconds);
        copyRates.push(await copyRate(db, bench));
      } finally {
        await db.end();
      }
    } finally {
      await database.drop();
    }
    const i = backfillRates.length - 1;
    console.log(
      `  round ${round + 1}: backfill ${backfillRates[i]!.toFixed(0)} rows/s, COPY ${copyRates[i]!.toFixed(0)} rows/s, ${((backfillRates[i]! / copyRates[i]!) * 100).toFixed(1)} %`,
    );
  }
  const ratios = backfillRates.map((rate, i) => rate / copyRates[i]!);
  console.log(
    `  backfill ${median(backfillRates).toFixed(0)} rows/s   raw COPY ${median(copyRates).toFixed(0)} rows/s   ratio ${(median(ratios) * 100).toFixed(1)} % (rounds ${ratios.map((r) => (r * 100).toFixed(0)).join(', ')} %; target >= ${((bench.target ?? 0.5) * 100).toFixed(0)} %)`,
  );
}
