/**
 * A GitHub repository's 50 most recently updated issues with their comments, against PostGraphile
 * v5 over the same tables.
 *
 * One fresh database (bench_github_query_<random>, dropped at the end) holds Plugboard's github
 * schema, created by its migrations and filled through its own writer (the sync core's store):
 * BENCH_REPOS (20) repositories of BENCH_ISSUES (1,000) issues each, issue n with n % 4 comments
 * (1.5 per issue on average). Then ANALYZE (autovacuum is off here; see bench/stripe-query.ts).
 *
 * Servers, checks and rounds: bench/query-comparison.ts.
 *
 * - Plugboard (`plugboard serve`, admin secret):
 *   `githubRepository(owner, name) { issues(first: 50) { edges { node { comments { edges { node } } } } } }`
 *   (both relations Relay connections) — one SQL statement
 *   planned from the selection, relations as nested JSON subqueries;
 * - PostGraphile v5, Amber preset (bench/peers/postgraphile-server.ts), the relations declared by
 *   smart-tag COMMENTs (repository → issues by full name, issue → comments by repository and
 *   number; there are no foreign keys to read), asked the same: the repository by owner and
 *   name, its live issues most recently updated first (ties by id), at most 50, each issue's live
 *   comments most recently updated first, at most 20 (Plugboard's default page of a relation).
 *
 * Run: npm run bench:github-query   (BENCH_REPOS, BENCH_ISSUES, BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS)
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ObjectState, SyncedObject } from '../gateway/sync/resource.ts';
import { createSyncStore } from '../gateway/sync/store.ts';
import type { GithubConfig } from '../plugins/github/config.ts';
import { githubSyncTables } from '../plugins/github/resources.ts';
import { buildIssue, buildIssueComment, buildRepository, buildUser } from '../test/support/github-objects.ts';
import { type Node, runQueryBench } from './query-comparison.ts';
import { runPinnedSelf } from './support.ts';

// autocannon in this process on core 0, as the servers are on core 1 (when pinned).
runPinnedSelf(0);

const REPOS = Number(process.env['BENCH_REPOS'] ?? 20);
const ISSUES = Number(process.env['BENCH_ISSUES'] ?? 1000);
const OWNER = 'acme';
const TARGET = 'repo-01';

const PLUGBOARD_QUERY = `query Page { githubRepository(owner: "${OWNER}", name: "${TARGET}") { fullName
  issues(first: 50) { edges { node { id number title state comments { edges { node { id author } } } } } } } }`;

const POSTGRAPHILE_QUERY = `query Page { allRepositories(first: 1, condition: { owner: "${OWNER}", name: "${TARGET}", isDeleted: false }) { nodes { fullName
  issuesByRepository(first: 50, orderBy: [UPDATED_AT_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { rowId number title state
    issueCommentsByRepositoryAndIssueNumber(first: 20, orderBy: [UPDATED_AT_DESC, PRIMARY_KEY_DESC], condition: { isDeleted: false }) { nodes { rowId author } } } } } } }`;

/** Relations for PostGraphile, which finds no foreign keys (or unique keys but ids) to read. */
const SMART_TAGS = `
COMMENT ON TABLE github.repositories IS E'@unique full_name';
COMMENT ON TABLE github.issues IS E'@unique repository,number\\n@foreignKey (repository) references github.repositories (full_name)';
COMMENT ON TABLE github.issue_comments IS E'@foreignKey (repository, issue_number) references github.issues (repository, number)';`;

const GITHUB_ENV = {
  GITHUB_WEBHOOK_SECRET: randomBytes(24).toString('hex'),
  GITHUB_TOKEN: `ghp_${randomBytes(18).toString('hex')}`,
  GITHUB_API_URL: 'http://127.0.0.1:9', // nothing listens: the gateway never reaches GitHub
  GITHUB_SYNC_INTERVAL: '0',
};

async function fill(url: string): Promise<void> {
  const db = new pg.Client(url);
  await db.connect();
  try {
    const noApi = () => {
      throw new Error('no API in this benchmark');
    };
    // The plugin's own writer; the API is never asked.
    const store = createSyncStore(
      githubSyncTables({
        config: {} as GithubConfig,
        client: noApi,
        db: null as never,
        scope: noApi,
        bodyBytes: noApi,
      }),
    );
    const bases = { api: 'https://api.github.com', web: 'https://github.com' };
    const owner = buildUser(bases, OWNER, 1, 'Organization');
    const users = Array.from({ length: 10 }, (_, i) => buildUser(bases, `user${i}`, 100 + i));
    const start = Date.UTC(2026, 0, 1);
    let id = 1000;
    const state = (table: string, object: SyncedObject & { updated_at: string }): ObjectState => ({
      table,
      object,
      deleted: false,
      versionAt: Date.parse(object.updated_at) / 1000,
      eventId: null,
    });
    for (let r = 1; r <= REPOS; r++) {
      const repo = buildRepository(bases, {
        id: r,
        owner,
        name: `repo-${String(r).padStart(2, '0')}`,
        createdMs: start,
      });
      const states: ObjectState[] = [state('repositories', repo)];
      for (let n = 1; n <= ISSUES; n++) {
        // Updated in an order unlike their numbers, so the page is an index walk, not a tail.
        const createdMs = start + ((n * 7919) % ISSUES) * 60_000;
        const issue = buildIssue(bases, { id: ++id, number: n, repo, user: users[n % 10]!, createdMs });
        states.push(state('issues', issue));
        for (let c = 0; c < n % 4; c++)
          states.push(
            state(
              'issue_comments',
              buildIssueComment(bases, { id: ++id, repo, issue, user: users[c]!, createdMs: createdMs + c * 1000 }),
            ),
          );
      }
      await store.write(db, states);
    }
    await db.query(SMART_TAGS);
    await db.query('ANALYZE');
  } finally {
    await db.end();
  }
}

interface PageIssue {
  id: string;
  number: number;
  title: string;
  state: string;
  comments: { id: string; author: string }[];
}
interface Page {
  repository: string;
  issues: PageIssue[];
}

const nodesOf = (connection: unknown) => (connection as { edges: { node: Node }[] }).edges.map((edge) => edge.node);
const plugboardPage = (data: Node): Page => {
  const repository = data['githubRepository'] as Node;
  return {
    repository: repository['fullName'] as string,
    issues: nodesOf(repository['issues']).map((issue) => ({
      id: String(issue['id']),
      number: issue['number'] as number,
      title: issue['title'] as string,
      state: issue['state'] as string,
      comments: nodesOf(issue['comments']).map((c) => ({ id: String(c['id']), author: c['author'] as string })),
    })),
  };
};
const postgraphilePage = (data: Node): Page => {
  const repository = (data['allRepositories'] as { nodes: Node[] }).nodes[0]!;
  return {
    repository: repository['fullName'] as string,
    issues: (repository['issuesByRepository'] as { nodes: Node[] }).nodes.map((issue) => ({
      id: String(issue['rowId']),
      number: issue['number'] as number,
      title: issue['title'] as string,
      state: issue['state'] as string,
      comments: (issue['issueCommentsByRepositoryAndIssueNumber'] as { nodes: Node[] }).nodes.map((c) => ({
        id: String(c['rowId']),
        author: c['author'] as string,
      })),
    })),
  };
};

await runQueryBench<Page>({
  title: `GitHub query — a repository's 50 most recently updated issues with their comments; ${REPOS} repositories x ${ISSUES} issues`,
  schema: 'github',
  env: { PLUGBOARD_PLUGINS: 'core,github', ...GITHUB_ENV },
  fill,
  plugboard: { query: PLUGBOARD_QUERY, page: plugboardPage },
  postgraphile: { query: POSTGRAPHILE_QUERY, page: postgraphilePage },
  shape: (page) =>
    `${page.repository}: ${page.issues.length} issues, ${page.issues.reduce((n, issue) => n + issue.comments.length, 0)} comments`,
});
