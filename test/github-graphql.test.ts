/**
 * The GraphQL API over the synced GitHub tables, planned by the sync core: a repository with its
 * issues and their comments in one SQL statement (counted at the wire), filters (state, labels,
 * assignee, repo) and ordering with keyset cursors, relation filters, lookups, who may read, the
 * syncGithub mutation that filled the tables, and the githubEvents subscription.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startGitHubServer, type GitHubServer } from './support/github-server.ts';
import { syncThroughGraphql } from './support/sync-run.ts';
import { startStatementRecorder, type StatementRecorder } from './support/pg-statements.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs } from './support/ws-client.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const SECRET = randomBytes(24).toString('hex');
let db: TestDatabase;
let recorder: StatementRecorder;
let github: GitHubServer;
let gateway: TestGateway;

interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

async function data<T = Record<string, unknown>>(
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = admin,
): Promise<T> {
  const { body } = await gateway.gql(query, { variables, headers });
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const column = async (sql: string, params: unknown[] = []) =>
  (await db.pool.query<{ v: string }>(sql, params)).rows.map((row) => row.v);
/** The nodes of a connection. */
const nodes = <T>(connection: { edges: { node: T }[] }) => connection.edges.map((edge) => edge.node);
const githubStatements = () => recorder.statements().filter((sql) => sql.includes('"github".'));

beforeAll(async () => {
  db = await createTestDatabase();
  const url = new URL(db.url);
  recorder = await startStatementRecorder(url.hostname, Number(url.port || 5432));
  url.port = String(recorder.port);
  github = await startGitHubServer();
  github.addOrganization('acme');
  github.addRepository('acme', 'web');
  github.addRepository('acme', 'api');
  for (let i = 0; i < 60; i++) {
    github.setNow(Date.UTC(2026, 0, 1) + i * 60_000);
    const issue = github.addIssue('acme/web', {
      title: `Web ${i}`,
      state: i % 3 === 0 ? 'closed' : 'open',
      labels: i % 2 === 0 ? ['bug'] : ['bug', 'ui'],
      assignees: i % 4 === 0 ? ['ann'] : [],
    });
    if (i >= 57) for (let c = 0; c < 2; c++) github.addIssueComment('acme/web', issue.number, { body: `c${c}` });
  }
  for (let i = 0; i < 3; i++) github.addIssue('acme/api', { title: `Api ${i}` });
  const pull = github.addPullRequest('acme/web', { title: 'Faster' });
  github.addPullRequestReview('acme/web', pull.number, { state: 'APPROVED', body: 'ok' });
  github.addIssueComment('acme/web', pull.number, { body: 'on the pull request' });
  github.addRelease('acme/web', { tag_name: 'v1.0.0' });
  github.setNow(null);

  gateway = await startTestGateway({
    databaseUrl: url.toString(),
    env: {
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_TOKEN: github.token,
      GITHUB_API_URL: github.url,
      GITHUB_ORG: 'acme',
      GITHUB_SYNC_INTERVAL: '0',
      GITHUB_READ_ROLES: 'support',
    },
  });
  const resources = ['repositories', 'issues', 'issue_comments', 'pull_requests', 'pull_request_reviews', 'releases'];
  expect(await syncThroughGraphql(gateway, admin, 'Github', { resources, full: true })).toEqual({
    status: 'completed',
    error: null,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await recorder?.cut();
  await github?.close();
  await db?.drop();
});

describe('github GraphQL', () => {
  it('serves a repository with 50 issues and their comments in one SQL statement', async () => {
    recorder.reset();
    const { githubRepository } = await data<{
      githubRepository: {
        fullName: string;
        issues: Connection<{ id: string; title: string; comments: Connection<{ body: string; author: string }> }>;
      };
    }>(`{ githubRepository(owner: "ACME", name: "Web") { fullName
      issues(first: 50) { edges { node { id title comments { edges { node { body author } } } } } pageInfo { hasNextPage } }
    } }`);
    expect(githubStatements()).toHaveLength(1);
    expect(githubRepository.fullName).toBe('acme/web');
    const issues = nodes(githubRepository.issues);
    expect(issues.map((issue) => issue.id)).toEqual(
      await column(
        "SELECT id::text AS v FROM github.issues WHERE repository = 'acme/web' ORDER BY updated_at DESC, id DESC LIMIT 50",
      ),
    );
    expect(githubRepository.issues.pageInfo.hasNextPage).toBe(true);
    expect(issues[0]!.title).toBe('Web 59');
    expect(
      nodes(issues[0]!.comments)
        .map((comment) => comment.body)
        .sort(),
    ).toEqual(['c0', 'c1']);
    expect(issues.filter((issue) => issue.comments.edges.length > 0)).toHaveLength(3);
  });

  it('pages a relation forward with first and after, each page one statement, and refuses paging backward', async () => {
    const query = `query($after: String) { githubRepository(owner: "acme", name: "web") {
      issues(first: 25, after: $after, filter: { state: "open" }) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } }
    } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 1; ; page++) {
      recorder.reset();
      const {
        githubRepository,
      }: { githubRepository: { issues: Connection<{ id: string }> & { pageInfo: { hasPreviousPage: boolean } } } } =
        await data(query, { after });
      expect(githubStatements()).toHaveLength(1);
      expect(githubRepository.issues.pageInfo.hasPreviousPage).toBe(page > 1);
      seen.push(...nodes(githubRepository.issues).map((issue) => issue.id));
      if (!githubRepository.issues.pageInfo.hasNextPage) break;
      after = githubRepository.issues.pageInfo.endCursor;
    }
    expect(seen).toEqual(
      await column(
        "SELECT id::text AS v FROM github.issues WHERE repository = 'acme/web' AND state = 'open' ORDER BY updated_at DESC, id DESC",
      ),
    );
    const { body } = await gateway.gql(
      '{ githubRepository(owner: "acme", name: "web") { issues(last: 5) { edges { node { id } } } } }',
      { headers: admin },
    );
    expect(body.errors?.[0]).toMatchObject({
      message: 'Related rows page forward only: use first and after',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('filters issues by state, labels, assignee and repository, in either order, across pages', async () => {
    const query = `query($filter: GithubIssueFilter, $after: String, $orderBy: GithubOrder) {
      githubIssues(filter: $filter, first: 7, after: $after, orderBy: $orderBy) {
        edges { node { id title state } } pageInfo { hasNextPage endCursor }
      }
    }`;
    const all = async (filter: Record<string, unknown>, orderBy = 'UPDATED_DESC') => {
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const { githubIssues }: { githubIssues: Connection<{ id: string }> } = await data(query, {
          filter,
          after,
          orderBy,
        });
        seen.push(...githubIssues.edges.map((edge) => edge.node.id));
        if (!githubIssues.pageInfo.hasNextPage) return seen;
        after = githubIssues.pageInfo.endCursor;
      }
    };
    const where = (condition: string, order = 'DESC') =>
      column(
        `SELECT id::text AS v FROM github.issues WHERE NOT is_deleted AND ${condition} ORDER BY updated_at ${order}, id ${order}`,
      );
    expect(await all({ repo: 'acme/web', state: 'open', labels: ['bug', 'ui'] })).toEqual(
      await where(`repository = 'acme/web' AND state = 'open' AND data->'labels' @> '[{"name":"ui"}]'`),
    );
    expect(await all({ assignee: 'ann' }, 'UPDATED_ASC')).toEqual(
      await where(`data->'assignees' @> '[{"login":"ann"}]'`, 'ASC'),
    );
    expect(await all({ repo: 'acme/api' })).toHaveLength(3);
    expect(await all({ labels: ['no-such-label'] })).toEqual([]);
    const { body } = await gateway.gql(query, {
      variables: { filter: { labels: Array.from({ length: 101 }, (_, i) => `l${i}`) } },
      headers: admin,
    });
    expect(body.errors?.[0]).toMatchObject({
      message: 'labels takes at most 100 values',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('plans relation filters and aliases into the same statement', async () => {
    recorder.reset();
    const { githubRepository } = await data<{
      githubRepository: {
        ui: Connection<{ id: string }>;
        closed: Connection<{ id: string; state: string }>;
        any: Connection<{ id: string }>;
      };
    }>(
      `query($labels: [String!]) {
      githubRepository(owner: "acme", name: "web") {
        ui: issues(first: 5, filter: { labels: $labels }) { edges { node { id } } }
        closed: issues(first: 5, filter: { state: "closed" }) { edges { node { id state } } }
        any: issues(first: 5) { edges { node { id } } }
      }
    }`,
      { labels: ['ui'] },
    );
    expect(githubStatements()).toHaveLength(1);
    const newest = (condition: string) =>
      column(
        `SELECT id::text AS v FROM github.issues WHERE repository = 'acme/web' AND NOT is_deleted ${condition} ORDER BY updated_at DESC, id DESC LIMIT 5`,
      );
    expect(nodes(githubRepository.ui).map((issue) => issue.id)).toEqual(
      await newest(`AND data->'labels' @> '[{"name":"ui"}]'`),
    );
    expect(nodes(githubRepository.closed).map((issue) => issue.state)).toEqual(Array(5).fill('closed'));
    expect(nodes(githubRepository.any).map((issue) => issue.id)).toEqual(await newest(''));
  });

  it('follows relations both ways: pull requests with reviews and comments, rows back to their parents', async () => {
    const { githubPullRequests, githubIssueComments } = await data<{
      githubPullRequests: Connection<{
        title: string;
        reviews: Connection<{ state: string }>;
        comments: Connection<{ body: string }>;
        repository: { fullName: string };
      }>;
      githubIssueComments: Connection<{ body: string; issue: { title: string } | null }>;
    }>(`{
      githubPullRequests(filter: { repo: "acme/web" }) {
        edges { node { title reviews { edges { node { state } } } comments { edges { node { body } } } repository { fullName } } }
      }
      githubIssueComments(first: 100, filter: { repo: "acme/web" }) { edges { node { body issue { title } } } }
    }`);
    expect(
      nodes(githubPullRequests).map((pull) => ({
        ...pull,
        reviews: nodes(pull.reviews),
        comments: nodes(pull.comments),
      })),
    ).toEqual([
      {
        title: 'Faster',
        reviews: [{ state: 'APPROVED' }],
        comments: [{ body: 'on the pull request' }],
        repository: { fullName: 'acme/web' },
      },
    ]);
    const comments = githubIssueComments.edges.map((edge) => edge.node);
    expect(comments).toHaveLength(7);
    // A pull request's comment has no issue row (pull requests are their own table).
    expect(comments.find((comment) => comment.body === 'on the pull request')?.issue).toBeNull();
    expect(comments.filter((comment) => comment.issue?.title.startsWith('Web 5'))).toHaveLength(6);
  });

  it('looks rows up by id, answers null for ids that cannot exist, and refuses a forged cursor', async () => {
    const [id] = await column("SELECT id::text AS v FROM github.releases WHERE repository = 'acme/web'");
    expect(await data(`{ githubRelease(id: "${id}") { tagName repository { name } } }`)).toEqual({
      githubRelease: { tagName: 'v1.0.0', repository: { name: 'web' } },
    });
    expect(
      await data(
        '{ githubRelease(id: "not-a-number") { id } githubIssue(id: "1") { id } githubPullRequest(id: "9999999999999999999") { id } }',
      ),
    ).toEqual({
      githubRelease: null,
      githubIssue: null,
      githubPullRequest: null,
    });
    const forged = Buffer.from(JSON.stringify(['2026-01-01T00:00:00Z', 'x'])).toString('base64url');
    const { body } = await gateway.gql(`{ githubIssues(after: "${forged}") { edges { node { id } } } }`, {
      headers: admin,
    });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('lets admins and GITHUB_READ_ROLES read, and no one else', async () => {
    const query = '{ githubRepositories { edges { node { fullName } } } }';
    const support = { authorization: `Bearer ${await signToken({ userId: 'sam', defaultRole: 'support' })}` };
    const user = { authorization: `Bearer ${await signToken({ userId: 'ann', defaultRole: 'user' })}` };
    const names = (result: { githubRepositories: Connection<{ fullName: string }> }) =>
      result.githubRepositories.edges.map((edge) => edge.node.fullName).sort();
    expect(names(await data(query, {}, support))).toEqual(['acme/api', 'acme/web']);
    for (const headers of [user, {}]) {
      const { body } = await gateway.gql(query, { headers });
      expect(body.data?.['githubRepositories'] ?? null).toBeNull();
      expect(body.errors?.[0]?.extensions?.['code']).toMatch(/^(FORBIDDEN|UNAUTHENTICATED)$/);
    }
  });

  it('streams applied events of the types asked for to githubEvents', async () => {
    const ws = connectWs(gateway.wsUrl, { headers: admin });
    await ws.connected;
    try {
      const events = ws.subscribe<{
        githubEvents: { type: string; action: string | null; repository: string | null; sender: string | null };
      }>('subscription { githubEvents(types: ["issues.*"]) { type action repository sender } }');
      // Kept: lets the server register the subscription (graphql-ws has no ack for it); an event
      // published earlier would be missed and the test would fail, not pass wrongly.
      await sleep(200);
      const deliver = async (event: string, payload: object) => {
        const body = JSON.stringify(payload);
        const response = await fetch(`${gateway.url}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': randomUUID(),
            'x-hub-signature-256': await sign(SECRET, body),
          },
          body,
        });
        expect(response.status).toBe(200);
      };
      await deliver('ping', { zen: 'Design for failure.', sender: { login: 'octocat' } });
      await deliver('issues', {
        action: 'labeled',
        issue: github.getIssue('acme/web', 1),
        repository: { full_name: 'acme/web' },
        sender: { login: 'ann' },
      });
      expect((await events.next()).data?.githubEvents).toEqual({
        type: 'issues.labeled',
        action: 'labeled',
        repository: 'acme/web',
        sender: 'ann',
      });
    } finally {
      await ws.client.dispose();
    }
  });
});
