/**
 * GitHub backfill against the limit of a raw COPY.
 *
 * The local GitHub stand-in (test/support/github-server.ts, in this process) holds BENCH_ISSUES
 * issues (50,000 by default) over BENCH_REPOS repositories (5). `plugboard github backfill
 * --resource issues` runs in a child process (pinned to the second core with taskset when
 * available) against a fresh database: the real Octokit lists them 100 a page over HTTP,
 * repository after repository, and each batch of pages is written set-based with its cursor
 * checkpoint. The stand-in's rate limit is set far above what a run spends, so neither the
 * primary nor the secondary limit makes the client wait. The rate is taken from the run's own
 * record (sync_runs.started_at → finished_at).
 *
 * The limit: the very rows it wrote, read back into memory, then `COPY … FROM STDIN` into an
 * empty table of the same shape (generated columns and indexes included) — no API, no upsert.
 * Target: backfill >= 50% of the COPY rate. Each round uses a fresh database; the figure is the
 * median of the per-round ratios.
 *
 * Run: npm run bench:github-backfill   (BENCH_ISSUES, BENCH_REPOS, BENCH_ROUNDS tune it;
 * BENCH_CPU_PROF=<dir> writes the backfill child's CPU profiles there; GITHUB_PAGES_AHEAD is passed on)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startGitHubServer } from '../test/support/github-server.ts';
import { freshDatabase, median, pinned, pinning } from './support.ts';

const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 50_000);
const REPOS = Number(process.env['BENCH_REPOS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CPU_PROF = process.env['BENCH_CPU_PROF'];
const CLI = fileURLToPath(new URL('../bin/plugboard.js', import.meta.url));
const COLUMNS = 'id, data, is_deleted, updated_at, last_event_id, synced_at';

function backfill(env: Record<string, string>): Promise<void> {
  const profile = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  const [command, ...args] = pinned(1, [
    process.execPath,
    ...profile,
    CLI,
    'github',
    'backfill',
    '--resource',
    'issues',
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`backfill exited ${code}:\n${output}`))));
  });
}

/** Reads the backfilled rows into memory, then times a raw COPY of them into a twin table. */
async function copyRate(db: pg.Client, expected: number): Promise<number> {
  const chunks: Buffer[] = [];
  await pipeline(
    db.query(copyTo(`COPY (SELECT ${COLUMNS} FROM github.issues) TO STDOUT`)),
    new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk);
        done();
      },
    }),
  );
  await db.query('CREATE SCHEMA copy_target; CREATE TABLE copy_target.issues (LIKE github.issues INCLUDING ALL)');
  const started = performance.now();
  await pipeline(Readable.from(chunks), db.query(copyFrom(`COPY copy_target.issues (${COLUMNS}) FROM STDIN`)));
  const seconds = (performance.now() - started) / 1000;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_target.issues');
  if (rows[0]!.n !== expected) throw new Error(`COPY wrote ${rows[0]!.n} rows, expected ${expected}`);
  return expected / seconds;
}

// A rate limit no run comes near: the bench measures the write path, not waits for a reset.
const github = await startGitHubServer({ rateLimit: 10_000_000 });
const seeded = github.seed({
  owner: 'acme',
  repos: REPOS,
  issuesPerRepo: Math.ceil(ISSUES / REPOS),
  pullsPerRepo: 0,
  commentsPerIssue: 0,
  reviewsPerPull: 0,
  releasesPerRepo: 0,
  branchesPerRepo: 0,
  commitsPerRepo: 0,
  workflowRunsPerRepo: 0,
  deploymentsPerRepo: 0,
  discussionsPerRepo: 0,
});
const expected = seeded.repositories
  .flatMap((repository) => github.listIssues(repository.full_name))
  .filter((issue) => !issue.pull_request).length;
const env = {
  GITHUB_TOKEN: github.token,
  GITHUB_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  GITHUB_API_URL: github.url,
  GITHUB_REPOS: seeded.repositories.map((repository) => repository.full_name).join(','),
  GITHUB_SYNC_INTERVAL: '0',
  ...(process.env['GITHUB_PAGES_AHEAD'] ? { GITHUB_PAGES_AHEAD: process.env['GITHUB_PAGES_AHEAD'] } : {}),
};

console.log(
  `GitHub backfill — ${expected} issues over ${REPOS} repositories from the local GitHub stand-in, ${ROUNDS} rounds, ${pinning}`,
);
const backfillRates: number[] = [];
const copyRates: number[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const database = await freshDatabase('bench_gh_backfill');
    try {
      const url = database.url;
      const before = github.stats();
      await backfill({ ...env, DATABASE_URL: url });
      const after = github.stats();
      if (after.primaryLimited + after.secondaryLimited > before.primaryLimited + before.secondaryLimited)
        throw new Error('the backfill met a rate limit (it would have waited)');
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ seconds: number; rows: number }>(
          "SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds, (SELECT count(*)::int FROM github.issues) AS rows FROM github.sync_runs WHERE status = 'completed'",
        );
        if (rows[0]?.rows !== expected) throw new Error(`backfill wrote ${rows[0]?.rows} issues, expected ${expected}`);
        backfillRates.push(expected / rows[0].seconds);
        copyRates.push(await copyRate(db, expected));
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
} finally {
  await github.close();
}
const ratios = backfillRates.map((rate, i) => rate / copyRates[i]!);
console.log(
  `  backfill ${median(backfillRates).toFixed(0)} rows/s   raw COPY ${median(copyRates).toFixed(0)} rows/s   ratio ${(median(ratios) * 100).toFixed(1)} % (rounds ${ratios.map((r) => (r * 100).toFixed(0)).join(', ')} %; target >= 50 %)`,
);
