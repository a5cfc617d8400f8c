/**
 * The local GitHub stand-in (test/support/github-server.ts) behaves like api.github.com for the
 * real Octokit (@octokit/rest with plugin-throttling and plugin-retry, @octokit/auth-app):
 * pagination by Link headers, filters, conditional requests, rate limits, App authentication,
 * GraphQL discussions, failures, and a store that stays fast at 10,000 issues.
 */
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Octokit } from '@octokit/rest';
import { throttling } from '@octokit/plugin-throttling';
import { retry } from '@octokit/plugin-retry';
import { createAppAuth } from '@octokit/auth-app';
import { startGitHubServer, type GitHubServer, type SeedResult } from './support/github-server.ts';

const ThrottledOctokit = Octokit.plugin(throttling, retry);
type ThrottledClient = InstanceType<typeof ThrottledOctokit>;
type LimitHook = (retryAfter: number, options: object, octokit: unknown, retryCount: number) => boolean;

/** GitHub's recorded webhook payloads (the package's main file is their JSON). */
const webhookExamples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Record<string, Record<string, unknown>>[];
}[];

const quietLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function client(
  server: GitHubServer,
  hooks: { onRateLimit?: LimitHook; onSecondaryRateLimit?: LimitHook; auth?: string } = {},
): ThrottledClient {
  return new ThrottledOctokit({
    baseUrl: server.url,
    auth: hooks.auth ?? server.token,
    log: quietLog,
    throttle: {
      onRateLimit: hooks.onRateLimit ?? (() => false),
      onSecondaryRateLimit: hooks.onSecondaryRateLimit ?? (() => false),
    },
    // plugin-retry waits (retryCount + 1)² × this many ms: keep injected 5xx cheap.
    retry: { retryAfterBaseValue: 10 },
  });
}

let server: GitHubServer;
let octokit: ThrottledClient;
let acme: SeedResult;

beforeAll(async () => {
  server = await startGitHubServer();
  octokit = client(server);
  acme = server.seed({
    owner: 'acme',
    repos: ['api', 'web'],
    issuesPerRepo: 230,
    pullsPerRepo: 40,
    discussionsPerRepo: 4,
    commentsPerIssue: 2,
    reviewsPerPull: 2,
    releasesPerRepo: 7,
    branchesPerRepo: 3,
    commitsPerRepo: 45,
    workflowRunsPerRepo: 35,
    deploymentsPerRepo: 12,
    teams: 3,
    membersPerTeam: 4,
  });
});

afterAll(async () => {
  await server?.close();
});

describe('object shapes', () => {
  it('carries every field of the objects in GitHub recorded payloads', () => {
    const example = (name: string): Record<string, Record<string, unknown>> => {
      const definition = webhookExamples.find((d) => d.name === name);
      if (!definition) throw new Error(`no ${name} example`);
      return definition.examples[0] as Record<string, Record<string, unknown>>;
    };
    const missing = (theirs: Record<string, unknown> | undefined, ours: object): string[] =>
      Object.keys(theirs ?? {}).filter((key) => !(key in ours));
    const issues = server.listIssues('acme/api');
    const plain = issues.find((issue) => !issue.pull_request)!;
    const pullIssue = issues.find((issue) => issue.pull_request)!;
    const pull = server.getPullRequest('acme/api', pullIssue.number)!;

    const issuePayload = example('issues').issue as Record<string, unknown>;
    expect(missing(issuePayload, plain)).toEqual([]);
    expect(missing(example('pull_request').pull_request, pull)).toEqual([]);
    expect(missing(example('issues').repository, server.getRepository('acme/api')!)).toEqual([]);
    expect(missing(issuePayload.user as Record<string, unknown>, plain.user!)).toEqual([]);

    expect(plain.id).toBeTypeOf('number');
    expect(Buffer.from(plain.node_id, 'base64').toString()).toBe(`05:Issue${plain.id}`);
    expect(plain.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(plain.repository_url).toBe(`${server.url}/repos/acme/api`);
    expect(plain.html_url).toBe(`https://github.com/acme/api/issues/${plain.number}`);
    expect(pullIssue.pull_request?.url).toBe(`${server.url}/repos/acme/api/pulls/${pullIssue.number}`);
    expect(pull.number).toBe(pullIssue.number);
    expect(pull.title).toBe(pullIssue.title);
    expect(pull.id).not.toBe(pullIssue.id);
  });
});

describe('pagination and filters', () => {
  it('walks 270 issues (pull requests included) newest first over three Link-header pages', async () => {
    const before = server.requestCount('/repos/acme/api/issues');
    const pages: number[] = [];
    const seen: { number: number; created_at: string; pull: boolean }[] = [];
    for await (const page of octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'api',
      state: 'all',
      per_page: 100,
    })) {
      pages.push(page.data.length);
      for (const issue of page.data)
        seen.push({ number: issue.number, created_at: issue.created_at, pull: Boolean(issue.pull_request) });
    }
    expect(pages).toEqual([100, 100, 70]);
    expect(new Set(seen.map((i) => i.number)).size).toBe(270);
    expect(seen.filter((i) => i.pull)).toHaveLength(40);
    const numbers = seen.map((i) => i.number);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
    expect(server.requestCount('/repos/acme/api/issues') - before).toBe(3);

    const middle = await octokit.rest.issues.listForRepo({
      owner: 'acme',
      repo: 'api',
      state: 'all',
      per_page: 100,
      page: 2,
    });
    const at = (page: number) => `<${server.url}/repos/acme/api/issues?state=all&per_page=100&page=${page}>`;
    expect(middle.headers.link).toBe(
      `${at(1)}; rel="prev", ${at(3)}; rel="next", ${at(3)}; rel="last", ${at(1)}; rel="first"`,
    );
  });

  it('filters on state, sorts by updated and returns only issues updated since a time', async () => {
    const all = server.listIssues('acme/web');
    const open = await octokit.paginate(octokit.rest.issues.listForRepo, { owner: 'acme', repo: 'web', per_page: 100 });
    expect(open.length).toBe(all.filter((i) => i.state === 'open').length);
    expect(open.every((i) => i.state === 'open')).toBe(true);

    const byUpdated = await octokit.paginate(octokit.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'web',
      state: 'all',
      sort: 'updated',
      direction: 'asc',
      per_page: 100,
    });
    const times = byUpdated.map((i) => Date.parse(i.updated_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const later = Date.parse('2031-03-01T10:00:00Z');
    server.setNow(later);
    try {
      for (const number of [3, 17, 42]) server.updateIssue('acme/web', number, { title: `Edited #${number}` });
      server.updateIssue('acme/web', 5, { state: 'closed' });
    } finally {
      server.setNow(null);
    }
    const since = await octokit.paginate(octokit.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'web',
      state: 'all',
      since: '2031-03-01T10:00:00Z',
      per_page: 100,
    });
    expect(since.map((i) => i.number).sort((a, b) => a - b)).toEqual([3, 5, 17, 42]);
    // The incremental-sync form: oldest change first, read straight off the updated-at index.
    const sinceByUpdate = await octokit.paginate(octokit.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'web',
      state: 'all',
      since: '2031-03-01T10:00:00Z',
      sort: 'updated',
      direction: 'asc',
      per_page: 2,
    });
    expect(sinceByUpdate.map((i) => i.number)).toEqual([3, 5, 17, 42].sort((a, b) => a - b));
    expect(since.every((i) => i.updated_at === '2031-03-01T10:00:00Z')).toBe(true);
    const closed = since.find((i) => i.number === 5)!;
    expect(closed.state).toBe('closed');
    expect(closed.closed_at).toBe('2031-03-01T10:00:00Z');
  });

  it('backfills pull requests, comments, reviews, releases, branches, commits, runs, deployments and teams', async () => {
    const repo = { owner: 'acme', repo: 'api', per_page: 100 } as const;
    const pulls = await octokit.paginate(octokit.rest.pulls.list, { ...repo, state: 'all' });
    expect(pulls).toHaveLength(40);
    expect(pulls[0]).not.toHaveProperty('merged');
    const detail = await octokit.rest.pulls.get({ owner: 'acme', repo: 'api', pull_number: pulls[0]!.number });
    expect(detail.data.merged).toBeTypeOf('boolean');
    expect(detail.data.head.repo?.full_name).toBe('acme/api');

    const comments = await octokit.paginate(octokit.rest.issues.listCommentsForRepo, repo);
    expect(comments).toHaveLength(270 * 2);
    const sinceIso = comments[400]!.updated_at;
    const recent = await octokit.paginate(octokit.rest.issues.listCommentsForRepo, { ...repo, since: sinceIso });
    expect(recent.length).toBe(comments.filter((c) => c.updated_at >= sinceIso).length);
    expect(recent.length).toBeLessThan(comments.length);

    const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, { ...repo, pull_number: pulls[0]!.number });
    expect(reviews).toHaveLength(2);
    expect(reviews[0]!.pull_request_url).toBe(pulls[0]!.url);

    const releases = await octokit.paginate(octokit.rest.repos.listReleases, { ...repo, per_page: 3 });
    expect(releases.map((r) => r.tag_name)).toEqual([
      'v7.0.0',
      'v6.0.0',
      'v5.0.0',
      'v4.0.0',
      'v3.0.0',
      'v2.0.0',
      'v1.0.0',
    ]);

    const branches = await octokit.paginate(octokit.rest.repos.listBranches, repo);
    expect(branches.map((b) => b.name)).toEqual(['feature/001', 'feature/002', 'feature/003', 'main']);

    const commits = await octokit.paginate(octokit.rest.repos.listCommits, { ...repo, per_page: 20 });
    expect(commits).toHaveLength(45);
    expect(commits[0]!.sha).toBe(branches.find((b) => b.name === 'main')!.commit.sha);
    const cut = commits[9]!.commit.committer!.date!;
    const newer = await octokit.paginate(octokit.rest.repos.listCommits, { ...repo, since: cut });
    expect(newer.map((c) => c.sha)).toEqual(commits.slice(0, 10).map((c) => c.sha));

    const runs = await octokit.paginate(octokit.rest.actions.listWorkflowRunsForRepo, { ...repo, per_page: 10 });
    expect(runs).toHaveLength(35);
    const firstPage = await octokit.rest.actions.listWorkflowRunsForRepo({ ...repo, per_page: 10 });
    expect(firstPage.data.total_count).toBe(35);
    expect(firstPage.data.workflow_runs[0]!.run_number).toBe(35);

    const deployments = await octokit.paginate(octokit.rest.repos.listDeployments, { ...repo, per_page: 5 });
    expect(deployments).toHaveLength(12);

    const teams = await octokit.paginate(octokit.rest.teams.list, { org: 'acme', per_page: 2 });
    expect(teams.map((t) => t.slug)).toEqual(acme.teams.map((t) => t.slug));
    const members = await octokit.paginate(octokit.rest.teams.listMembersInOrg, {
      org: 'acme',
      team_slug: teams[0]!.slug,
    });
    expect(members).toHaveLength(4);

    const orgRepos = await octokit.paginate(octokit.rest.repos.listForOrg, { org: 'acme', sort: 'full_name' });
    expect(orgRepos.map((r) => r.full_name)).toEqual(['acme/api', 'acme/web']);
  });
});

describe('conditional requests', () => {
  it('answers a matching If-None-Match with 304, which does not count against the limit', async () => {
    const first = await octokit.rest.repos.get({ owner: 'acme', repo: 'api' });
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-f]{64}"$/);
    expect(first.headers['last-modified']).toBe(new Date(first.data.updated_at).toUTCString());
    const before = server.stats();

    const notModified = await octokit
      .request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'api', headers: { 'if-none-match': etag } })
      .then(
        () => null,
        (error: { status: number; response: { headers: Record<string, string> } }) => error,
      );
    expect(notModified?.status).toBe(304);
    expect(notModified?.response.headers['x-ratelimit-remaining']).toBe(first.headers['x-ratelimit-remaining']);
    const after = server.stats();
    expect(after.notModified - before.notModified).toBe(1);
    expect(after.counted - before.counted).toBe(0);

    const list = { owner: 'acme', repo: 'api', state: 'all', sort: 'updated', per_page: 5 } as const;
    const page = await octokit.rest.issues.listForRepo(list);
    await expect(
      octokit.request('GET /repos/{owner}/{repo}/issues', { ...list, headers: { 'if-none-match': page.headers.etag } }),
    ).rejects.toMatchObject({ status: 304 });
    server.updateIssue('acme/api', page.data[3]!.number, { labels: ['bug'] });
    const changed = await octokit.request('GET /repos/{owner}/{repo}/issues', {
      ...list,
      headers: { 'if-none-match': page.headers.etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(page.headers.etag);
    expect(changed.data[0]!.number).toBe(page.data[3]!.number);
  });
});

describe('cached reads (for benchmarks)', () => {
  it('answers a repeated GET from memory until something changes, still counting every request', async () => {
    const cached = await startGitHubServer({ cacheReads: true });
    try {
      cached.addRepository('acme', 'api');
      cached.addIssue('acme/api', { title: 'first' });
      const reader = client(cached);
      const list = { owner: 'acme', repo: 'api', state: 'all', per_page: 5 } as const;
      const first = await reader.rest.issues.listForRepo(list);
      const before = cached.stats();
      const again = await reader.rest.issues.listForRepo(list);
      expect(again.data).toEqual(first.data);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(cached.stats().counted - before.counted).toBe(1);
      expect(Number(again.headers['x-ratelimit-remaining'])).toBe(Number(first.headers['x-ratelimit-remaining']) - 1);
      cached.updateIssue('acme/api', first.data[0]!.number, { title: 'edited' });
      const changed = await reader.rest.issues.listForRepo(list);
      expect(changed.data[0]!.title).toBe('edited');
      expect(changed.headers.etag).not.toBe(first.headers.etag);
    } finally {
      await cached.close();
    }
  });
});

describe('rate limits', () => {
  it('sends the limit headers on every response; /rate_limit itself is free', async () => {
    const response = await octokit.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: 1 });
    const h = response.headers;
    expect(h['x-ratelimit-resource']).toBe('core');
    expect(Number(h['x-ratelimit-used']) + Number(h['x-ratelimit-remaining'])).toBe(Number(h['x-ratelimit-limit']));
    expect(Number(h['x-ratelimit-reset'])).toBeGreaterThan(Date.now() / 1000);
    const overview = await octokit.rest.rateLimit.get();
    const again = await octokit.rest.rateLimit.get();
    expect(again.data.resources.core.used).toBe(overview.data.resources.core.used);
    expect(overview.data.rate.used).toBe(Number(h['x-ratelimit-used']));
  });

  it('refuses with 403 and GitHub’s body once the primary limit is spent', async () => {
    const limited = await startGitHubServer({ rateLimit: 3 });
    try {
      limited.addRepository('acme', 'tiny');
      const plain = new Octokit({ baseUrl: limited.url, auth: limited.token, log: quietLog });
      for (let i = 0; i < 3; i++) await plain.rest.repos.get({ owner: 'acme', repo: 'tiny' });
      const refused = await plain.rest.repos.get({ owner: 'acme', repo: 'tiny' }).then(
        () => null,
        (error: { status: number; response: { data: unknown; headers: Record<string, string> } }) => error,
      );
      expect(refused?.status).toBe(403);
      expect(refused?.response.data).toEqual({
        message: `API rate limit exceeded for user ID ${limited.user.id}.`,
        documentation_url: expect.stringContaining('docs.github.com'),
        status: '403',
      });
      expect(refused?.response.headers['x-ratelimit-remaining']).toBe('0');
      expect(limited.stats()).toMatchObject({ counted: 3, primaryLimited: 1 });

      // GraphQL has its own budget and answers an exhausted one with a RATE_LIMITED error.
      const query = 'query { viewer { login } }';
      await expect(plain.graphql<{ viewer: { login: string } }>(query)).resolves.toEqual({
        viewer: { login: 'octocat' },
      });
      limited.setRateLimit({ remaining: 0 });
      await expect(plain.graphql(query)).rejects.toMatchObject({ errors: [{ type: 'RATE_LIMITED' }] });
    } finally {
      await limited.close();
    }
  });

  it('lets plugin-throttling wait for the reset and retry when onRateLimit says so', async () => {
    const limited = await startGitHubServer({ rateLimitWindowSeconds: 1 });
    try {
      limited.seed({ owner: 'acme', repos: ['small'], issuesPerRepo: 45 });
      // The token's first window starts spent: its first request is refused.
      limited.setRateLimit({ remaining: 0 });
      const calls: { retryAfter: number; retryCount: number }[] = [];
      const throttled = client(limited, {
        onRateLimit: (retryAfter, _options, _octokit, retryCount) => {
          calls.push({ retryAfter, retryCount });
          return retryCount === 0;
        },
      });
      const started = Date.now();
      const issues = await throttled.paginate(throttled.rest.issues.listForRepo, {
        owner: 'acme',
        repo: 'small',
        per_page: 10,
        state: 'all',
      });
      expect(issues).toHaveLength(45);
      expect(calls).toEqual([{ retryAfter: expect.any(Number), retryCount: 0 }]);
      expect(calls[0]!.retryAfter).toBeGreaterThanOrEqual(1);
      expect(calls[0]!.retryAfter).toBeLessThanOrEqual(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(calls[0]!.retryAfter * 1000 - 50);
      expect(limited.stats()).toMatchObject({ primaryLimited: 1, counted: 5 });
    } finally {
      await limited.close();
    }
  });

  it('answers injected secondary limits with retry-after, retried by plugin-throttling', async () => {
    const calls: number[] = [];
    const throttled = client(server, {
      onSecondaryRateLimit: (retryAfter) => {
        calls.push(retryAfter);
        return true;
      },
    });
    const before = server.stats();
    server.secondaryLimitOnce(1, 1);
    const started = Date.now();
    const response = await throttled.rest.repos.get({ owner: 'acme', repo: 'web' });
    expect(response.data.full_name).toBe('acme/web');
    expect(calls).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const after = server.stats();
    expect(after.secondaryLimited - before.secondaryLimited).toBe(1);
    expect(after.counted - before.counted).toBe(1);

    // Refused when the hook declines: GitHub's message and retry-after reach the caller.
    server.secondaryLimitOnce(1, 30, 429);
    const refused = await client(server)
      .request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'web', request: { retries: 0 } })
      .then(
        () => null,
        (error: { status: number; message: string; response: { headers: Record<string, string> } }) => error,
      );
    expect(refused?.status).toBe(429);
    expect(refused?.message).toMatch(/secondary rate limit/);
    expect(refused?.response.headers['retry-after']).toBe('30');
  });
});

describe('errors and authentication', () => {
  it('answers 404, 410, 422 and 401 with GitHub’s bodies', async () => {
    await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'nope' })).rejects.toMatchObject({
      status: 404,
      response: { data: { message: 'Not Found', documentation_url: expect.stringContaining('docs.github.com') } },
    });
    const doomed = server.addIssue('acme/web', { title: 'Spam' });
    server.deleteIssue('acme/web', doomed.number);
    await expect(
      octokit.rest.issues.get({ owner: 'acme', repo: 'web', issue_number: doomed.number }),
    ).rejects.toMatchObject({ status: 410 });
    const listed = await octokit.paginate(octokit.rest.issues.listForRepo, {
      owner: 'acme',
      repo: 'web',
      state: 'all',
      per_page: 100,
    });
    expect(listed.some((i) => i.number === doomed.number)).toBe(false);
    await expect(
      octokit.request('GET /repos/{owner}/{repo}/issues?state=sideways', { owner: 'acme', repo: 'web' }),
    ).rejects.toMatchObject({ status: 422 });

    const stranger = client(server, { auth: 'ghp_000000000000000000000000000000000000' });
    await expect(stranger.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Bad credentials' } },
    });
    const anonymous = new Octokit({ baseUrl: server.url, log: quietLog });
    await expect(anonymous.rest.users.getAuthenticated()).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'Requires authentication' } },
    });
  });

  it('accepts the personal token as `token` and `Bearer`', async () => {
    const bearer = await octokit.request('GET /user', { headers: { authorization: `Bearer ${server.token}` } });
    expect(bearer.data.login).toBe('octocat');
    const token = await octokit.rest.users.getAuthenticated();
    expect(token.data.id).toBe(server.user.id);
    expect(server.requests.at(-1)?.headers.authorization).toBe(`token ${server.token}`);
  });

  it('runs the GitHub App flow: JWT for /app, an installation token for the rest, scoped to the installation', async () => {
    server.addRepository('elsewhere', 'secret');
    const installation = server.addInstallation({ account: 'acme' });
    const appOctokit = new ThrottledOctokit({
      baseUrl: server.url,
      authStrategy: createAppAuth,
      auth: { appId: server.app.id, privateKey: server.app.privateKey, installationId: installation.id },
      log: quietLog,
      throttle: { onRateLimit: () => false, onSecondaryRateLimit: () => false },
    });
    server.resetRequests();

    const me = await appOctokit.rest.apps.getAuthenticated();
    expect(me.data?.id).toBe(server.app.id);
    expect(server.requests[0]?.headers.authorization).toMatch(/^bearer eyJ/);

    const repos = await appOctokit.paginate(appOctokit.rest.apps.listReposAccessibleToInstallation, { per_page: 1 });
    expect(repos.map((r) => r.full_name)).toEqual(['acme/api', 'acme/web']);
    const minted = server.requests.filter((r) => r.path === `/app/installations/${installation.id}/access_tokens`);
    expect(minted).toHaveLength(1);
    expect(minted[0]?.method).toBe('POST');
    const used = server.requests.filter((r) => r.path === '/installation/repositories');
    expect(used).toHaveLength(2);
    expect(used.every((r) => /^token ghs_[A-Za-z0-9]{36}$/.test(r.headers.authorization ?? ''))).toBe(true);
    expect(used[0]?.principal).toBe(`installation:${installation.id}`);

    const issue = await appOctokit.rest.issues.get({ owner: 'acme', repo: 'api', issue_number: 2 });
    expect(issue.data.number).toBe(2);
    await expect(appOctokit.rest.repos.get({ owner: 'elsewhere', repo: 'secret' })).rejects.toMatchObject({
      status: 404,
    });
    const { token, expiresAt } = (await appOctokit.auth({ type: 'installation' })) as {
      token: string;
      expiresAt: string;
    };
    expect(token).toMatch(/^ghs_/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500_000);

    // A token minted for some of the installation's repositories reaches only those.
    const narrowed = (await appOctokit.auth({
      type: 'installation',
      installationId: installation.id,
      repositoryNames: ['web'],
    })) as { token: string; repositoryNames?: string[] };
    expect(narrowed.repositoryNames).toEqual(['web']);
    const scoped = client(server, { auth: narrowed.token });
    await expect(scoped.rest.repos.get({ owner: 'acme', repo: 'web' })).resolves.toMatchObject({ status: 200 });
    await expect(scoped.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 404 });
    await expect(
      appOctokit.auth({ type: 'installation', installationId: installation.id, repositoryNames: ['secret'] }),
    ).rejects.toMatchObject({ status: 422 });
  });

  it('narrows a selected-repositories installation and refuses JWTs that do not verify', async () => {
    const selected = server.addInstallation({ account: 'acme', repositories: ['web'] });
    const appOctokit = new ThrottledOctokit({
      baseUrl: server.url,
      authStrategy: createAppAuth,
      auth: { appId: server.app.id, privateKey: server.app.privateKey, installationId: selected.id },
      log: quietLog,
      throttle: { onRateLimit: () => false, onSecondaryRateLimit: () => false },
    });
    const repos = await appOctokit.paginate(appOctokit.rest.apps.listReposAccessibleToInstallation);
    expect(repos.map((r) => r.full_name)).toEqual(['acme/web']);
    await expect(appOctokit.rest.repos.get({ owner: 'acme', repo: 'api' })).rejects.toMatchObject({ status: 404 });

    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const impostor = new Octokit({
      baseUrl: server.url,
      authStrategy: createAppAuth,
      auth: { appId: server.app.id, privateKey: otherKey },
      log: quietLog,
    });
    await expect(impostor.rest.apps.getAuthenticated()).rejects.toMatchObject({
      status: 401,
      response: { data: { message: 'A JSON web token could not be decoded' } },
    });

    const seconds = Math.floor(Date.now() / 1000);
    const expired = signJwt(server.app.privateKey, { iat: seconds - 1200, exp: seconds - 600, iss: server.app.id });
    const late = new Octokit({ baseUrl: server.url, auth: expired, log: quietLog });
    await expect(late.rest.apps.getAuthenticated()).rejects.toMatchObject({
      status: 401,
      response: { data: { message: expect.stringContaining("'Expiration time' claim ('exp')") } },
    });
    // A JWT is for /app endpoints only; a personal token is not a JWT.
    const fresh = signJwt(server.app.privateKey, { iat: seconds - 30, exp: seconds + 500, iss: server.app.id });
    await expect(
      new Octokit({ baseUrl: server.url, auth: fresh, log: quietLog }).rest.repos.get({ owner: 'acme', repo: 'api' }),
    ).rejects.toMatchObject({ status: 403 });
    await expect(octokit.rest.apps.getAuthenticated()).rejects.toMatchObject({ status: 401 });
  });
});

describe('installation token lifetime', () => {
  it('refuses an installation token once it expires', async () => {
    const shortLived = await startGitHubServer({ installationTokenTtlSeconds: 1 });
    try {
      shortLived.addRepository('acme', 'api');
      const installation = shortLived.addInstallation({ account: 'acme' });
      const appOctokit = new Octokit({
        baseUrl: shortLived.url,
        authStrategy: createAppAuth,
        auth: { appId: shortLived.app.id, privateKey: shortLived.app.privateKey },
        log: quietLog,
      });
      const minted = (await appOctokit.auth({ type: 'installation', installationId: installation.id })) as {
        token: string;
        expiresAt: string;
      };
      expect(Date.parse(minted.expiresAt) - Date.now()).toBeLessThanOrEqual(1000);
      const holder = new Octokit({ baseUrl: shortLived.url, auth: minted.token, log: quietLog });
      const status = () =>
        holder.rest.repos.get({ owner: 'acme', repo: 'api' }).then(
          (response) => response.status,
          (error: { status: number }) => error.status,
        );
      expect(await status()).toBe(200);
      await expect.poll(status, { timeout: 5000, interval: 100 }).toBe(401);
    } finally {
      await shortLived.close();
    }
  });
});

/** An RS256 JWT, for the claims createAppAuth would never send. */
function signJwt(privateKeyPem: string, claims: Record<string, unknown>): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(unsigned), createPrivateKey(privateKeyPem));
  return `${unsigned}.${signature.toString('base64url')}`;
}

describe('GraphQL discussions', () => {
  interface DiscussionsPage {
    repository: {
      discussions: {
        totalCount: number;
        nodes: { number: number; title: string; author: { login: string } | null; category: { name: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    };
  }
  const query = /* GraphQL */ `
    query Discussions($owner: String!, $name: String!, $after: String, $order: DiscussionOrder) {
      repository(owner: $owner, name: $name) {
        discussions(first: 10, after: $after, orderBy: $order) {
          totalCount
          nodes {
            number
            title
            author {
              login
            }
            category {
              name
            }
          }
          pageInfo {
            hasNextPage
            endCursor
          }
        }
      }
    }
  `;

  it('pages 25 discussions by cursor and orders them by creation or update', async () => {
    server.addRepository('acme', 'community');
    const created: number[] = [];
    for (let i = 0; i < 25; i++) {
      const at = Date.parse('2026-01-01T00:00:00Z') + i * 60_000;
      created.push(
        server.addDiscussion('acme/community', {
          title: `Topic ${i}`,
          category: i % 5 === 0 ? 'Q&A' : 'General',
          createdAt: new Date(at).toISOString(),
        }).number,
      );
    }
    // Plain Octokit: plugin-throttling spaces GraphQL calls a second apart.
    const plain = new Octokit({ baseUrl: server.url, auth: server.token, log: quietLog });
    const seen: number[] = [];
    const requestsBefore = server.requestCount('/graphql');
    let after: string | null = null;
    let total = 0;
    do {
      const page: DiscussionsPage = await plain.graphql<DiscussionsPage>(query, {
        owner: 'acme',
        name: 'community',
        after,
        order: { field: 'CREATED_AT', direction: 'ASC' },
      });
      const { discussions } = page.repository;
      total = discussions.totalCount;
      seen.push(...discussions.nodes.map((n) => n.number));
      after = discussions.pageInfo.hasNextPage ? discussions.pageInfo.endCursor : null;
    } while (after && seen.length <= 25);
    expect(total).toBe(25);
    expect(seen).toEqual(created);
    expect(server.requestCount('/graphql') - requestsBefore).toBe(3);

    server.updateDiscussion('acme/community', created[7]!, { title: 'Bumped' });
    const latest = await client(server).graphql<DiscussionsPage>(query, { owner: 'acme', name: 'community' });
    expect(latest.repository.discussions.nodes[0]).toMatchObject({
      number: created[7],
      title: 'Bumped',
      author: { login: 'octocat' },
      category: { name: 'General' },
    });
  });

  it('answers errors the way GitHub does', async () => {
    const plain = new Octokit({ baseUrl: server.url, auth: server.token, log: quietLog });
    await expect(plain.graphql(query, { owner: 'acme', name: 'missing' })).rejects.toMatchObject({
      errors: [{ type: 'NOT_FOUND', path: ['repository'], message: expect.stringContaining("'acme/missing'") }],
    });
    await expect(
      plain.graphql('query { repository(owner: "acme", name: "api") { discussions { totalCount } } }'),
    ).rejects.toMatchObject({ errors: [{ type: 'MISSING_PAGINATION_BOUNDARIES' }] });
    await expect(plain.graphql('query { repository(owner: "acme", name: "api") { stars } }')).rejects.toMatchObject({
      errors: [{ message: expect.stringContaining('Cannot query field "stars"') }],
    });
  });
});

describe('failures', () => {
  it('injects 5xx and connection resets (retried by plugin-retry), latency, and refused connections', async () => {
    const before = server.requestCount('/repos/acme/web');
    server.failNext(2, 502);
    const retried = await octokit.rest.repos.get({ owner: 'acme', repo: 'web' });
    expect(retried.status).toBe(200);
    expect(server.requestCount('/repos/acme/web') - before).toBe(3);
    expect(server.requests.slice(-3).map((r) => r.status)).toEqual([502, 502, 200]);

    server.failNext(1, 0);
    await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'web' })).resolves.toMatchObject({ status: 200 });

    server.failNext(1, 500);
    await expect(
      octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'web', request: { retries: 0 } }),
    ).rejects.toMatchObject({ status: 500, response: { data: { message: 'Server Error' } } });

    server.setLatency(150);
    const started = Date.now();
    await octokit.rest.repos.get({ owner: 'acme', repo: 'web' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    server.setLatency(0);

    await server.down();
    await expect(
      octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'web', request: { retries: 0 } }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
    await server.up();
    await expect(octokit.rest.repos.get({ owner: 'acme', repo: 'web' })).resolves.toMatchObject({ status: 200 });
  });

  it('logs each request with method, path, query, headers and status', async () => {
    server.resetRequests();
    await octokit.rest.issues.listForRepo({ owner: 'acme', repo: 'api', state: 'closed', per_page: 7 });
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/repos/acme/api/issues',
        query: { state: 'closed', per_page: '7' },
        headers: expect.objectContaining({ authorization: `token ${server.token}` }),
        status: 200,
        principal: `user:${server.user.id}`,
      }),
    ]);
  });
});

describe('scale', () => {
  it('lists 10,000 issues across 20 repositories in well under ten seconds', async () => {
    const big = await startGitHubServer();
    try {
      const started = Date.now();
      const { repositories } = big.seed({ owner: 'bulk', repos: 20, issuesPerRepo: 500 });
      const bulk = client(big);
      let total = 0;
      for (let i = 0; i < repositories.length; i += 4) {
        const counts = await Promise.all(
          repositories.slice(i, i + 4).map(async (repo) => {
            const issues = await bulk.paginate(bulk.rest.issues.listForRepo, {
              owner: 'bulk',
              repo: repo.name,
              state: 'all',
              per_page: 100,
            });
            expect(new Set(issues.map((issue) => issue.id)).size).toBe(500);
            return issues.length;
          }),
        );
        total += counts.reduce((sum, count) => sum + count, 0);
      }
      expect(total).toBe(10_000);
      expect(big.stats().counted).toBe(100);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await big.close();
    }
  });
});
