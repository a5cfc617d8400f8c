/**
 * The GitHub resources for the sync core: one table each, GitHub's numeric id (commits: sha;
 * branches and team members: composite text ids), ordered by GitHub's `updated_at`.
 *
 * Listing: the repositories in scope (GITHUB_ORG's, GITHUB_REPOS, or else what the token's user
 * owns or the App installation can reach), then per repository one REST page of 100 at a time.
 * A page's checkpoint names the repository and the next page, so a killed backfill resumes inside
 * the repository it was in. Empty repositories are skipped inside one call (an empty page ends a
 * listing). With `since`, lists that can filter by update time do (`since`, or newest first until
 * an older object), the rest list everything. Discussions come from the GraphQL API.
 */
import type pg from 'pg';
import type { JsonListing, JsonPage, Page, SyncedObject, SyncResource, SyncTables } from '../../gateway/sdk.ts';
import { githubSql } from './sql.ts';
import type { GithubClient } from './client.ts';
import type { GithubConfig } from './config.ts';

export const GITHUB_TABLES = [
  'repositories',
  'branches',
  'commits',
  'issues',
  'pull_requests',
  'issue_comments',
  'pull_request_reviews',
  'releases',
  'workflow_runs',
  'deployments',
  'discussions',
  'teams',
  'team_members',
] as const;

export type GithubTable = (typeof GITHUB_TABLES)[number];

const TEXT_IDS: readonly string[] = ['branches', 'commits', 'team_members'];
const PER_PAGE = 100;
/** How long the list of repositories in scope is reused within a run. */
const SCOPE_TTL_MS = 60_000;

type GithubObject = SyncedObject & { id?: unknown; updated_at?: string; pull_request?: unknown };
interface RepoPage {
  objects: GithubObject[];
  /** The page after this one in the same repository, if any. */
  more: boolean;
}
/** A REST list page as GitHub sent it. */
interface RawPage {
  body: Buffer;
  more: boolean;
  /** The page number of the list's last page, when GitHub names it. */
  last: number | null;
}
const NO_OBJECTS = Buffer.from('[]');
/** How a resource is listed: parsed pages, and for objects stored as GitHub lists them, raw ones too. */
type Listing = Pick<SyncResource, 'list' | 'listJson'>;

/** `owner/name\tpage` */
const cursorOf = (repository: string, page: string) => `${repository}\t${page}`;
function parseCursor(cursor: string | null): { repository: string; page: string } | null {
  if (!cursor) return null;
  const [repository = '', page = '1'] = cursor.split('\t');
  return { repository, page };
}

const hasNextLink = (headers: { link?: string }) => /rel="next"/.test(headers.link ?? '');
/** The page number of the `rel="last"` link (GitHub leaves it out on the last page). */
function lastPageOf(headers: { link?: string }): number | null {
  const match = /<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="last"/.exec(headers.link ?? '');
  return match ? Number(match[1]) : null;
}

export interface GithubResourcesOptions {
  config: GithubConfig;
  client(): GithubClient;
  db: pg.Pool;
  /** The repositories in scope, sorted by full name. */
  scope(): Promise<Repository[]>;
  /** The bytes of an unparsed answer's `data` (the client's `bodyBytes`). */
  bodyBytes(data: unknown): Promise<Buffer>;
}

export interface Repository extends SyncedObject {
  id: number;
  full_name: string;
  owner: { login: string };
  name: string;
}

/**
 * The repositories in scope: GITHUB_ORG's and GITHUB_REPOS, or else what the token's user owns
 * or the App installation reaches; sorted by full name, and reused for a minute (within a run).
 */
export function repositoryScope(config: GithubConfig, client: () => GithubClient): () => Promise<Repository[]> {
  let scopeCache: { at: number; repositories: Promise<Repository[]> } | undefined;
  /** The repositories in scope, sorted by full name. */
  const scope = (): Promise<Repository[]> => {
    if (scopeCache && Date.now() - scopeCache.at < SCOPE_TTL_MS) return scopeCache.repositories;
    const repositories = (async () => {
      const octokit = client();
      const found = new Map<string, Repository>();
      const add = (list: readonly unknown[]) => {
        for (const repository of list as Repository[]) found.set(repository.full_name.toLowerCase(), repository);
      };
      if (config.org)
        add(await octokit.paginate('GET /orgs/{org}/repos', { org: config.org, type: 'all', per_page: PER_PAGE }));
      for (const fullName of config.repos) {
        const [owner = '', repo = ''] = fullName.split('/');
        add([(await octokit.request('GET /repos/{owner}/{repo}', { owner, repo })).data]);
      }
      if (!config.org && config.repos.length === 0) {
        if ('token' in config.credential)
          add(await octokit.paginate('GET /user/repos', { affiliation: 'owner', per_page: PER_PAGE }));
        else add(await octokit.paginate('GET /installation/repositories', { per_page: PER_PAGE }));
      }
      return [...found.values()].sort((a, b) => a.full_name.localeCompare(b.full_name));
    })();
    scopeCache = { at: Date.now(), repositories };
    repositories.catch(() => (scopeCache = undefined));
    return repositories;
  };

  return scope;
}

export function githubSyncTables(options: GithubResourcesOptions): SyncTables {
  const idType = (table: string) => (TEXT_IDS.includes(table) ? 'text' : 'bigint') as 'text' | 'bigint';
  const tables = { schema: 'github', versionColumn: 'updated_at' };
  const { config, client, db, scope, bodyBytes } = options;

  /**
   * A resource listed repository by repository: `fetch` gets one page of one repository. Pages
   * continue in the same repository while it has more, then move on to the next one; pages
   * without objects are passed over. Returns the page found (null at the end) and the cursor after it.
   */
  const walkRepositories =
    <P extends { more: boolean; next?: string }>(
      fetch: (repository: Repository, page: string, since: Date | null) => Promise<P>,
      hasObjects: (page: P) => boolean,
    ) =>
    async ({ cursor, since }: { cursor: string | null; since: Date | null }) => {
      const repositories = await scope();
      const from = parseCursor(cursor);
      let index = from ? repositories.findIndex((r) => r.full_name.localeCompare(from.repository) >= 0) : 0;
      if (index < 0) return { found: null, next: null };
      let page = from && repositories[index]!.full_name === from.repository ? from.page : '1';
      for (; index < repositories.length; index += 1, page = '1') {
        const repository = repositories[index]!;
        for (;;) {
          const result = await fetch(repository, page, since);
          const nextPage = result.next ?? String(Number(page) + 1);
          if (hasObjects(result)) {
            if (result.more) return { found: result, next: cursorOf(repository.full_name, nextPage) };
            const following = repositories[index + 1];
            return { found: result, next: following ? cursorOf(following.full_name, '1') : null };
          }
          if (!result.more) break;
          page = nextPage;
        }
      }
      return { found: null, next: null };
    };
  /** Parsed pages (an empty page ends a listing, so those that come back empty are passed over). */
  const perRepository = (
    fetch: (repository: Repository, page: string, since: Date | null) => Promise<RepoPage & { next?: string }>,
  ) => {
    const walk = walkRepositories(fetch, (page) => page.objects.length > 0);
    return async (request: { cursor: string | null; since: Date | null }): Promise<Page<GithubObject>> => {
      const { found, next } = await walk(request);
      return { objects: found?.objects ?? [], next };
    };
  };

  /** First-page ETags of incremental lists: stored by the last completed sync, and seen in this one. */
  const etags = new Map<string, { stored: Promise<Map<string, string>>; seen: Map<string, string> }>();
  const etagsOf = (table: string) => {
    let entry = etags.get(table);
    if (!entry) {
      const stored = db
        .query<{ repository: string; etag: string }>(githubSql('etags-of'), [table])
        .then(({ rows }) => new Map(rows.map((row) => [row.repository, row.etag])));
      entry = { stored, seen: new Map() };
      etags.set(table, entry);
    }
    return entry;
  };
  /** Pages of full lists requested ahead, by `owner/name\tpage`, per table. */
  const requestedAhead = new Map<string, Map<string, Promise<RawPage>>>();
  const aheadOf = (table: string) => {
    const pages = requestedAhead.get(table) ?? new Map<string, Promise<RawPage>>();
    requestedAhead.set(table, pages);
    return pages;
  };
  /** A sync begins: ETags are read afresh, only this sync's are kept, and no page is left from before. */
  const forgetEtags = (table: string) => () => {
    etags.delete(table);
    requestedAhead.delete(table);
  };
  /** Keeps the ETags seen once the resource's sync has completed (every page landed). */
  const keepEtags = (table: string) => async () => {
    const entry = etags.get(table);
    etags.delete(table);
    if (!entry || entry.seen.size === 0) return;
    const seen = [...entry.seen].map(([repository, etag]) => ({ repository, etag }));
    await db.query(githubSql('etags-put'), [table, JSON.stringify(seen)]);
  };

  /**
   * One REST page of a repository's list at `path` (GitHub's page numbers). A backfill reads it
   * oldest first. An incremental sync (`since`) of a list ordered by update time reads it newest
   * first until an object older than `since`, and asks for the first page with the ETag it had
   * last time: a list with no change answers 304, which costs no rate limit. Lists that only
   * come newest created first (workflow runs, deployments) stop a day before `since`, as their
   * objects change soon after they are made.
   */
  const restList = (
    table: GithubTable,
    path: string,
    options: {
      query?: Record<string, string>;
      order?: 'updated' | 'created';
      sinceParam?: boolean;
      /** Objects holding this key belong to another resource (the issues list's pull requests). */
      skipKey?: string;
      shape?: (objects: GithubObject[], repository: Repository) => GithubObject[];
      unwrap?: string;
    } = {},
  ): Listing => {
    const fetchPage = async (repository: Repository, page: string, since: Date | null): Promise<RawPage> => {
      const incremental = since !== null && options.order !== undefined;
      const conditional = incremental && page === '1';
      const known = conditional ? (await etagsOf(table).stored).get(repository.full_name) : undefined;
      let response: Awaited<ReturnType<GithubClient['request']>>;
      try {
        response = await client().request(`GET ${path}`, {
          owner: repository.owner.login,
          repo: repository.name,
          per_page: PER_PAGE,
          page: Number(page),
          ...options.query,
          ...(options.order === 'updated' ? { sort: 'updated', direction: incremental ? 'desc' : 'asc' } : {}),
          ...(options.sinceParam && since ? { since: since.toISOString() } : {}),
          ...(known ? { headers: { 'if-none-match': known } } : {}),
          // The body is kept as bytes and parsed (when it is) with JSON.parse: Octokit's own
          // parser (bigint-safe, which GitHub's ids do not need) took a fifth of a backfill's CPU.
          request: { parseSuccessResponseBody: false },
        });
      } catch (error) {
        if (known && (error as { status?: number }).status === 304)
          return { body: NO_OBJECTS, more: false, last: null };
        throw error;
      }
      if (conditional && typeof response.headers.etag === 'string')
        etagsOf(table).seen.set(repository.full_name, response.headers.etag);
      const body = await bodyBytes(response.data);
      return { body, more: hasNextLink(response.headers), last: lastPageOf(response.headers) };
    };
    /**
     * A page of a full list: the pages up to the last one GitHub names are requested a few ahead,
     * each taken from here when the sync asks for it (no page is requested that it will not ask for).
     */
    const fullPage = (repository: Repository, page: string, since: Date | null): Promise<RawPage> => {
      const key = `${repository.full_name}\t${page}`;
      const pages = aheadOf(table);
      const result = pages.get(key) ?? fetchPage(repository, page, since);
      pages.delete(key);
      void result.then(
        ({ last }) => {
          if (last === null) return;
          for (let next = Number(page) + 1; next <= Math.min(Number(page) + config.pagesAhead, last); next += 1) {
            const ahead = `${repository.full_name}\t${next}`;
            if (pages.has(ahead)) continue;
            const fetched = fetchPage(repository, String(next), since);
            // A failure surfaces when the page is taken; one never taken is dropped with the rest.
            fetched.catch(() => {});
            pages.set(ahead, fetched);
          }
        },
        () => {},
      );
      return result;
    };
    /**
     * One page of a repository's list (GitHub's page numbers). A backfill reads it oldest first.
     * An incremental sync (`since`) of a list ordered by update time reads it newest first until
     * an object older than `since`, and asks for the first page with the ETag it had last time: a
     * list with no change answers 304, which costs no rate limit. Lists that only come newest
     * created first (workflow runs, deployments) stop a day before `since`, as their objects
     * change soon after they are made.
     */
    const parsedPage = async (repository: Repository, page: string, since: Date | null): Promise<RepoPage> => {
      const incremental = since !== null && options.order !== undefined;
      const raw = await (incremental ? fetchPage : fullPage)(repository, page, since);
      const data = JSON.parse(raw.body.toString()) as unknown;
      const list = (options.unwrap ? (data as Record<string, GithubObject[]>)[options.unwrap] : data) as GithubObject[];
      const { skipKey } = options;
      const kept = skipKey ? list.filter((object) => !(skipKey in object)) : list;
      const objects = options.shape ? options.shape(kept, repository) : kept;
      if (!incremental) return { objects, more: raw.more };
      const from = options.order === 'updated' ? since.getTime() : since.getTime() - 24 * 3600_000;
      const timeOf = (object: GithubObject) =>
        Date.parse(String(options.order === 'updated' ? object.updated_at : object['created_at']));
      const older = list.some((object) => timeOf(object) < from);
      return { objects: objects.filter((object) => timeOf(object) >= from), more: raw.more && !older };
    };
    const list = perRepository(parsedPage);
    // Objects stored as GitHub lists them can skip Node's parse in a full backfill.
    if (options.shape || options.unwrap) return { list };
    const walk = walkRepositories(
      async (repository, page) => {
        const raw = await fullPage(repository, page, null);
        return { json: raw.body, more: raw.more };
      },
      () => true,
    );
    const listJson: JsonListing = {
      list: async ({ cursor }): Promise<JsonPage> => {
        const { found, next } = await walk({ cursor, since: null });
        return { json: found?.json ?? NO_OBJECTS, next };
      },
      versionKey: 'updated_at',
      ...(options.skipKey ? { skipKey: options.skipKey } : {}),
    };
    return { list, listJson };
  };

  const resources: Record<GithubTable, Listing> = {
    repositories: {
      async list({ cursor }) {
        const repositories = await scope();
        const start = Number(cursor ?? 0);
        const next = start + PER_PAGE;
        return { objects: repositories.slice(start, next), next: next < repositories.length ? String(next) : null };
      },
    },
    issues: restList('issues', '/repos/{owner}/{repo}/issues', {
      query: { state: 'all' },
      order: 'updated',
      // The issues list holds pull requests too; they are synced from the pulls list.
      skipKey: 'pull_request',
    }),
    pull_requests: restList('pull_requests', '/repos/{owner}/{repo}/pulls', {
      query: { state: 'all' },
      order: 'updated',
    }),
    issue_comments: restList('issue_comments', '/repos/{owner}/{repo}/issues/comments', { order: 'updated' }),
    pull_request_reviews: {
      list: perRepository(async (repository, after, since) => {
        // Reviews are listed per pull request: the pull requests synced (changed since `since`).
        // The page cursor is `#<number>` of the pull request done last.
        const done = after.startsWith('#') ? Number(after.slice(1)) : 0;
        const { rows } = await db.query<{ number: number }>(githubSql('pull-numbers-after'), [
          repository.full_name,
          done,
          since,
        ]);
        const [pull, following] = rows;
        if (!pull) return { objects: [], more: false };
        const reviews = await client().paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
          owner: repository.owner.login,
          repo: repository.name,
          pull_number: pull.number,
          per_page: PER_PAGE,
        });
        // The cursor is the pull request done; a review has no updated_at: it is as of its submission.
        const objects = (reviews as GithubObject[]).map((review) => ({
          ...review,
          updated_at: String(review['submitted_at'] ?? new Date().toISOString()),
        }));
        return { objects, more: following !== undefined, next: `#${pull.number}` };
      }),
    },
    releases: restList('releases', '/repos/{owner}/{repo}/releases'),
    branches: restList('branches', '/repos/{owner}/{repo}/branches', {
      shape: (objects, repository) =>
        objects.map((branch) => ({
          ...branch,
          id: `${repository.id}/${String(branch['name'])}`,
          repository: repository.full_name,
        })),
    }),
    commits: restList('commits', '/repos/{owner}/{repo}/commits', {
      sinceParam: true,
      shape: (objects, repository) =>
        objects.map((commit) => ({ ...commit, id: String(commit['sha']), repository: repository.full_name })),
    }),
    workflow_runs: restList('workflow_runs', '/repos/{owner}/{repo}/actions/runs', {
      order: 'created',
      unwrap: 'workflow_runs',
    }),
    deployments: restList('deployments', '/repos/{owner}/{repo}/deployments', { order: 'created' }),
    discussions: {
      list: perRepository(async (repository, after) => {
        const result = await client().graphql<{
          repository: {
            discussions: {
              nodes: DiscussionNode[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          } | null;
        }>(
          `query ($owner: String!, $name: String!, $after: String) {
          repository(owner: $owner, name: $name) {
            discussions(first: 100, after: $after, orderBy: { field: UPDATED_AT, direction: ASC }) {
              nodes { ${DISCUSSION_FIELDS} }
              pageInfo { hasNextPage endCursor }
            }
          }
        }`,
          // The page cursor is `@<endCursor>` after the first page.
          {
            owner: repository.owner.login,
            name: repository.name,
            after: after.startsWith('@') ? after.slice(1) : null,
          },
        );
        const connection = result.repository?.discussions;
        if (!connection) return { objects: [], more: false };
        const objects = connection.nodes.map((node) => discussionObject(node, repository.full_name));
        const endCursor = connection.pageInfo.endCursor;
        return { objects, more: connection.pageInfo.hasNextPage && endCursor !== null, next: `@${endCursor}` };
      }),
    },
    teams: {
      async list({ cursor }) {
        if (!config.org) return { objects: [], next: null };
        const page = Number(cursor ?? 1);
        const response = await client().request('GET /orgs/{org}/teams', { org: config.org, per_page: PER_PAGE, page });
        const objects = (response.data as GithubObject[]).map((team) => ({ ...team, organization: config.org }));
        return { objects, next: hasNextLink(response.headers) ? String(page + 1) : null };
      },
    },
    team_members: {
      async list({ cursor }) {
        if (!config.org) return { objects: [], next: null };
        const teams = (await client().paginate('GET /orgs/{org}/teams', { org: config.org, per_page: PER_PAGE })).sort(
          (a, b) => a.slug.localeCompare(b.slug),
        );
        const from = parseCursor(cursor);
        let index = from ? teams.findIndex((team) => team.slug.localeCompare(from.repository) >= 0) : 0;
        if (index < 0) index = teams.length;
        let page = from && teams[index]?.slug === from.repository ? Number(from.page) : 1;
        for (; index < teams.length; index += 1, page = 1) {
          const team = teams[index]!;
          const response = await client().request('GET /orgs/{org}/teams/{team_slug}/members', {
            org: config.org,
            team_slug: team.slug,
            per_page: PER_PAGE,
            page,
          });
          const objects = (response.data as GithubObject[]).map((user) => ({
            id: `${team.id}/${String(user.id)}`,
            team_id: team.id,
            // Where `check --fix` asks whether the membership still stands.
            team_slug: team.slug,
            user,
          }));
          if (hasNextLink(response.headers)) return { objects, next: cursorOf(team.slug, String(page + 1)) };
          const following = teams[index + 1];
          if (objects.length > 0) return { objects, next: following ? cursorOf(following.slug, '1') : null };
        }
        return { objects: [], next: null };
      },
    },
  };

  /**
   * Looks one object up for `check --fix` (a row GitHub did not list: gone, or only left out).
   * Most objects carry their own API URL; it must lie under GITHUB_API_URL, so the credential is
   * never sent anywhere else whatever a stored object says.
   */
  const get = async (url: unknown, route?: Record<string, unknown>): Promise<GithubObject | null> => {
    const api = config.apiUrl.href.replace(/\/?$/, '/');
    if (!route && (typeof url !== 'string' || !url.startsWith(api)))
      throw new Error(`cannot look up ${String(url)}: not a GitHub API URL under ${api}`);
    try {
      return (await client().request(`GET ${String(url)}`, route ?? {})).data as GithubObject;
    } catch (error) {
      if ([404, 410].includes((error as { status?: number }).status ?? 0)) return null;
      throw error;
    }
  };
  const [ownerOf, nameOf] = [
    (full: unknown) => String(full).split('/')[0],
    (full: unknown) => String(full).split('/')[1],
  ];
  const retrievers: Record<GithubTable, (id: string, stored: GithubObject) => Promise<GithubObject | null>> = {
    repositories: (_id, stored) => get(stored['url']),
    issues: (_id, stored) => get(stored['url']),
    pull_requests: (_id, stored) => get(stored['url']),
    issue_comments: (_id, stored) => get(stored['url']),
    releases: (_id, stored) => get(stored['url']),
    workflow_runs: (_id, stored) => get(stored['url']),
    deployments: (_id, stored) => get(stored['url']),
    teams: async (_id, stored) => {
      const team = await get(stored['url']);
      return team && { ...team, organization: stored['organization'] };
    },
    pull_request_reviews: async (id, stored) => {
      const review = await get(`${String(stored['pull_request_url'])}/reviews/${id}`);
      return review && { ...review, updated_at: String(review['submitted_at'] ?? new Date().toISOString()) };
    },
    commits: async (id, stored) => {
      const commit = await get(stored['url']);
      return commit && { ...commit, id, repository: stored['repository'] };
    },
    branches: async (id, stored) => {
      const branch = await get('/repos/{owner}/{repo}/branches/{branch}', {
        owner: ownerOf(stored['repository']),
        repo: nameOf(stored['repository']),
        branch: stored['name'],
      });
      return branch && { ...branch, id, repository: stored['repository'] };
    },
    team_members: async (_id, stored) => {
      if (!config.org || typeof stored['team_slug'] !== 'string')
        throw new Error('team members synced before this version cannot be looked up one by one: sync them again');
      const user = stored['user'] as { login?: string } | undefined;
      const membership = await get('/orgs/{org}/teams/{team_slug}/memberships/{username}', {
        org: config.org,
        team_slug: stored['team_slug'],
        username: user?.login,
      });
      return membership && stored;
    },
    discussions: async (_id, stored) => {
      const result = await client().graphql<{ repository: { discussion: DiscussionNode | null } | null }>(
        `query ($owner: String!, $name: String!, $number: Int!) {
          repository(owner: $owner, name: $name) { discussion(number: $number) { ${DISCUSSION_FIELDS} } }
        }`,
        { owner: ownerOf(stored['repository']), name: nameOf(stored['repository']), number: stored['number'] },
      );
      const node = result.repository?.discussion;
      return node ? discussionObject(node, String(stored['repository'])) : null;
    },
  };

  return {
    ...tables,
    resources: GITHUB_TABLES.map((table) => ({
      table,
      idType: idType(table),
      ...resources[table],
      async retrieve(id, stored) {
        if (!stored) throw new Error(`github.${table} ${id} is not stored: nothing to look it up by`);
        return retrievers[table](id, stored as GithubObject);
      },
      started: forgetEtags(table),
      completed: keepEtags(table),
    })),
  };
}

interface DiscussionNode {
  id: string;
  databaseId: number;
  number: number;
  title: string;
  body: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  closed: boolean;
  locked: boolean;
  author: { login: string } | null;
  category: { name: string };
}

const DISCUSSION_FIELDS =
  'id databaseId number title body url createdAt updatedAt closed locked author { login } category { name }';

/** A discussion from the GraphQL API, shaped as webhook payloads carry it (both paths store the same object). */
function discussionObject(node: DiscussionNode, repository: string): GithubObject {
  return {
    id: node.databaseId,
    node_id: node.id,
    number: node.number,
    title: node.title,
    body: node.body,
    html_url: node.url,
    created_at: node.createdAt,
    updated_at: node.updatedAt,
    state: node.closed ? 'closed' : 'open',
    locked: node.locked,
    user: node.author ? { login: node.author.login } : null,
    category: { name: node.category.name },
    repository,
  };
}
