/**
 * GitHub backfill against the limit of a raw COPY (bench/backfill-comparison.ts says how).
 *
 * The local GitHub stand-in (test/support/github-server.ts, in this process) holds BENCH_ISSUES
 * issues (50,000 by default) over BENCH_REPOS repositories (5). `plugboard github backfill
 * --resource issues` lists them with the real Octokit, 100 a page over HTTP, repository after
 * repository, each batch of pages written set-based with its cursor checkpoint. The stand-in's
 * rate limit is set far above what a run spends, so neither the primary nor the secondary limit
 * makes the client wait (a run that meets one fails).
 *
 * Run: npm run bench:github-backfill   (BENCH_ISSUES, BENCH_REPOS, BENCH_ROUNDS tune it;
 * BENCH_CPU_PROF=<dir> writes the backfill child's CPU profiles there; GITHUB_PAGES_AHEAD is passed on)
 */
import { randomBytes } from 'node:crypto';
import { startGitHubServer } from '../test/support/github-server.ts';
import { compareBackfill } from './backfill-comparison.ts';
import { pinning } from './support.ts';

const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 50_000);
const REPOS = Number(process.env['BENCH_REPOS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
// A rate limit no run comes near: the bench measures the write path, not waits for a reset. The
// stand-in renders each page once (in an unmeasured first backfill) and then serves it from
// memory: GitHub's own cost of serving 150 MB is not on this machine, so it must not take CPU
// from the backfill measured (rendering took ~2 s of CPU per 50,000 issues).
const github = await startGitHubServer({ rateLimit: 10_000_000, cacheReads: true });
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
let limited = 0;
try {
  await compareBackfill({
    plugin: 'github',
    resource: 'issues',
    schema: 'github',
    tables: [
      { table: 'issues', columns: 'id, data, is_deleted, updated_at, last_event_id, synced_at', rows: expected },
    ],
    rounds: ROUNDS,
    env,
    cpuProfiles: process.env['BENCH_CPU_PROF'],
    warmUp: true,
    check() {
      const { primaryLimited, secondaryLimited } = github.stats();
      if (primaryLimited + secondaryLimited > limited)
        throw new Error('the backfill met a rate limit (it would have waited)');
      limited = primaryLimited + secondaryLimited;
    },
  });
} finally {
  await github.close();
}
