/**
 * `plugboard github …` as real child processes against the local GitHub stand-in, through the
 * real Octokit: a backfill of 10,000 issues across 20 repositories killed (SIGKILL) half-way and
 * resumed, every row once and the rate limit it reports; a full backfill of every resource, a
 * clean check, and an incremental sync that lists only what changed; `repos` and `test`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startGitHubServer, type GitHubServer, type SeedResult } from './support/github-server.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { runCli, spawnCli } from './support/processes.ts';

let db: TestDatabase;
let github: GitHubServer;
let gateway: TestGateway;
let env: Record<string, string>;
let acme: SeedResult;

const REPOS = 20;
const ISSUES_PER_REPO = 500;

const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await db.pool.query(text, params)).rows as T[];

/** The count a sync's summary table gives a resource. */
function countOf(stdout: string, resource: string): number {
  const line = stdout.split('\n').find((l) => l.startsWith(`${resource} `));
  if (!line) throw new Error(`no row for ${resource} in:\n${stdout}`);
  return Number(line.trim().split(/\s+/)[1]);
}

/** "rate limit: N requests counted, M answered 304" from a command's stderr. */
function reportedUsage(stderr: string): { counted: number; notModified: number } {
  const match = /rate limit: (\d+) requests counted, (\d+) answered 304/.exec(stderr);
  if (!match) throw new Error(`no rate limit report in:\n${stderr}`);
  return { counted: Number(match[1]), notModified: Number(match[2]) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  github = await startGitHubServer();
  acme = github.seed({
    owner: 'acme',
    repos: REPOS,
    issuesPerRepo: ISSUES_PER_REPO,
    pullsPerRepo: 3,
    commentsPerIssue: 0,
    reviewsPerPull: 2,
    releasesPerRepo: 2,
    branchesPerRepo: 2,
    commitsPerRepo: 5,
    workflowRunsPerRepo: 2,
    deploymentsPerRepo: 1,
    discussionsPerRepo: 2,
    teams: 2,
    membersPerTeam: 3,
  });
  env = {
    DATABASE_URL: db.url,
    GITHUB_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    GITHUB_TOKEN: github.token,
    GITHUB_API_URL: github.url,
    GITHUB_ORG: 'acme',
    GITHUB_SYNC_INTERVAL: '0',
  };
  // The gateway applies the migrations the commands then share.
  gateway = await startTestGateway({ databaseUrl: db.url, env });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await github?.close();
  await db?.drop();
});

describe('plugboard github', () => {
  it('backfills 10,000 issues across 20 repositories, killed (SIGKILL) half-way and resumed: every issue once', async () => {
    const issues = acme.repositories.flatMap((repository) => github.listIssues(repository.full_name));
    const total = issues.filter((issue) => !issue.pull_request).length;
    expect(total).toBeGreaterThanOrEqual(REPOS * ISSUES_PER_REPO);
    github.setLatency(40);
    const child = spawnCli(['github', 'backfill', '--resource', 'issues'], env);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await expect
        .poll(
          async () => {
            const [state] = await sql<{ synced: string }>(
              "SELECT objects_synced AS synced FROM github.sync_state WHERE resource = 'issues' AND status = 'running'",
            );
            return Number(state?.synced ?? 0);
          },
          { timeout: 60_000, message: 'the backfill made no progress' },
        )
        .toBeGreaterThanOrEqual(total / 2);
    } finally {
      child.kill('SIGKILL');
      await exited;
      github.setLatency(0);
    }
    const [killed] = await sql<{ status: string; cursor: string; synced: string }>(
      "SELECT status, cursor, objects_synced AS synced FROM github.sync_state WHERE resource = 'issues'",
    );
    expect(killed).toMatchObject({ status: 'running' });
    // The checkpoint names the repository and the page it continues from.
    expect(killed!.cursor).toMatch(/^acme\/\S+\t\d+$/);

    // What the killed process still had in flight is answered (and counted) before the resumed run.
    await expect.poll(() => github.stats().inFlight).toBe(0);
    const before = github.stats();
    const resumed = await runCli(['github', 'backfill', '--resource', 'issues'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const spent = github.stats();
    // It listed from the checkpoint on, not from the start…
    expect(countOf(resumed.stdout, 'issues')).toBeLessThanOrEqual(total - Number(killed!.synced) + 100);
    // …and says what it spent of the rate limit, exactly what GitHub counted.
    expect(reportedUsage(resumed.stderr)).toEqual({
      counted: spent.counted - before.counted,
      notModified: spent.notModified - before.notModified,
    });
    const [stored] = await sql<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM github.issues WHERE NOT is_deleted',
    );
    expect(stored).toEqual({ n: total, distinct: total });
    const [state] = await sql('SELECT status, cursor FROM github.sync_state WHERE resource = $1', ['issues']);
    expect(state).toEqual({ status: 'completed', cursor: null });
  });

  it('backfills every resource, finds it in step with GitHub, then syncs only what changed', async () => {
    // Issues were backfilled above; every other resource now.
    const others = ['repositories', 'branches', 'commits', 'pull_requests', 'pull_request_reviews', 'issue_comments'];
    const more = ['releases', 'workflow_runs', 'deployments', 'teams', 'team_members'];
    const full = await runCli(['github', 'backfill', '--resource', ...others, ...more], env);
    // Discussions come from the GraphQL API, whose requests Octokit spaces a second apart: two repositories.
    const two = acme.repositories.slice(0, 2).map((r) => r.full_name);
    const discussions = await runCli(['github', 'backfill', '--resource', 'discussions'], {
      ...env,
      GITHUB_ORG: '',
      GITHUB_REPOS: two.join(','),
    });
    expect(discussions.code, discussions.stderr).toBe(0);
    expect(countOf(discussions.stdout, 'discussions')).toBe(2 * 2);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stdout).toMatch(/backfill completed/);
    const repository = acme.repositories[0]!.full_name;
    const expected: Record<string, number> = {
      repositories: REPOS,
      pull_requests: REPOS * 3,
      pull_request_reviews: REPOS * 3 * 2,
      releases: REPOS * 2,
      discussions: 2 * 2,
      teams: 2,
      team_members: 2 * 3,
    };
    for (const [table, count] of Object.entries(expected)) {
      const [row] = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM github.${table} WHERE NOT is_deleted`);
      expect(row!.n, table).toBe(count);
    }
    const [branches] = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM github.branches WHERE repository = $1',
      [repository],
    );
    expect(branches!.n).toBeGreaterThanOrEqual(2);

    const check = await runCli(['github', 'check', '--resource', 'repositories', 'releases', 'teams'], env);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/in step with GitHub/);

    // Two issues change; the incremental sync lists issues changed since the last sync began.
    github.updateIssue(repository, 1, { title: 'Changed on GitHub' });
    github.updateIssue(acme.repositories[1]!.full_name, 2, { state: 'closed' });
    const sync = await runCli(['github', 'sync', '--resource', 'issues'], env);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toMatch(/incremental completed/);
    expect(countOf(sync.stdout, 'issues')).toBe(2);
    const [changed] = await sql<{ title: string }>(
      'SELECT title FROM github.issues WHERE repository = $1 AND number = 1',
      [repository],
    );
    expect(changed!.title).toBe('Changed on GitHub');

    // Nothing changed since: every repository's first page answers 304, which GitHub does not count.
    const quiet = await runCli(['github', 'sync', '--resource', 'issues'], env);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(countOf(quiet.stdout, 'issues')).toBe(0);
    // The one counted request lists the organization's repositories.
    expect(reportedUsage(quiet.stderr)).toEqual({ counted: 1, notModified: REPOS });
  }, 60_000);

  it('check --fix marks what GitHub no longer has deleted, looked up by its own API URL, and never follows a foreign one', async () => {
    const repository = acme.repositories.at(-1)!.full_name;
    const idOf = async (number: number) =>
      (
        await sql<{ id: string }>('SELECT id::text FROM github.issues WHERE repository = $1 AND number = $2', [
          repository,
          number,
        ])
      )[0]!.id;
    const [gone, forged] = [await idOf(3), await idOf(4)];
    github.deleteIssue(repository, 3);
    github.deleteIssue(repository, 4);
    // A stored object naming a URL elsewhere: the token is not sent there, and the check says why.
    await sql(`UPDATE github.issues SET data = jsonb_set(data, '{url}', '"http://127.0.0.1:9/steal"') WHERE id = $1`, [
      forged,
    ]);
    const check = await runCli(['github', 'check', '--resource', 'issues', '--fix'], env);
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(
      `1 issues row(s) could not be looked up: ${forged}: cannot look up http://127.0.0.1:9/steal: not a GitHub API URL under ${github.url}/`,
    );
    // The other one was looked up at its own URL, found gone, and marked deleted.
    expect(github.requestCount(`/repos/${repository}/issues/3`, 'GET')).toBe(1);
    const deleted = await sql<{ id: string; is_deleted: boolean }>(
      'SELECT id::text, is_deleted FROM github.issues WHERE id = ANY($1) ORDER BY number',
      [[gone, forged]],
    );
    expect(deleted).toEqual([
      { id: gone, is_deleted: true },
      { id: forged, is_deleted: false },
    ]);
  }, 60_000);

  it('syncs as a GitHub App installation (its repositories only) and waits out a secondary rate limit', async () => {
    const installation = github.addInstallation({ account: 'acme', repositories: ['repo-01', 'repo-02'] });
    const app = {
      DATABASE_URL: db.url,
      GITHUB_WEBHOOK_SECRET: env['GITHUB_WEBHOOK_SECRET']!,
      GITHUB_API_URL: github.url,
      GITHUB_SYNC_INTERVAL: '0',
      GITHUB_APP_ID: String(github.app.id),
      // As environment files hold it: one line, \n escaped.
      GITHUB_APP_PRIVATE_KEY: github.app.privateKey.replaceAll('\n', '\\n'),
      GITHUB_APP_INSTALLATION_ID: String(installation.id),
    };
    const tested = await runCli(['github', 'test'], app);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(`installation ${installation.id}`);
    expect(tested.stdout).toMatch('repositories 2 in scope');

    github.resetRequests();
    github.secondaryLimitOnce(1, 1);
    const synced = await runCli(['github', 'backfill', '--resource', 'releases'], app);
    expect(synced.code, synced.stderr).toBe(0);
    expect(countOf(synced.stdout, 'releases')).toBe(2 * 2);
    expect(synced.stderr).toMatch(/secondary rate limit/);
    const refused = github.requests.filter((request) => request.status === 403);
    expect(refused).toHaveLength(1);
    // The refused request was sent again after GitHub's retry-after, not failed; one installation
    // token served the run.
    const again = github.requests.filter((r) => r.path === refused[0]!.path && r.method === refused[0]!.method);
    expect(again.map((r) => r.status)).toEqual([403, refused[0]!.method === 'POST' ? 201 : 200]);
    expect(again[1]!.at - again[0]!.at).toBeGreaterThanOrEqual(1000);
    const minted = github.requests.filter(
      (r) => r.path === `/app/installations/${installation.id}/access_tokens` && r.status === 201,
    );
    expect(minted).toHaveLength(1);
    expect(github.requests.filter((r) => r.path.startsWith('/repos/acme/repo-03/'))).toEqual([]);
  }, 60_000);

  it('lists the repositories in scope, and tests the credential', async () => {
    const repos = await runCli(['github', 'repos'], env);
    expect(repos.code, repos.stderr).toBe(0);
    expect(repos.stdout).toMatch(new RegExp(`${acme.repositories[0]!.full_name}\\s+false\\s+${ISSUES_PER_REPO}`));
    expect(repos.stdout).toMatch(`${REPOS} repositories in scope`);

    const test = await runCli(['github', 'test'], env);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toMatch(/token\s+authenticates as \S+/);
    expect(test.stdout).toMatch(/rate limit\s+\d+ of \d+ left/);
    expect(test.stdout).toMatch(`repositories ${REPOS} in scope`);

    const wrong = await runCli(['github', 'test'], { ...env, GITHUB_TOKEN: `ghp_${'x'.repeat(36)}` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Bad credentials/);
  });
});
