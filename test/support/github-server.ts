/**
 * A local stand-in for api.github.com: a node:http server speaking GitHub's REST (and a slice of
 * its GraphQL) wire format well enough for the real Octokit to be pointed at it:
 *
 *   const github = await startGitHubServer();
 *   const octokit = new (Octokit.plugin(throttling, retry))({ baseUrl: github.url, auth: github.token, throttle });
 *
 * It keeps a store per repository (issues and pull requests sharing one number sequence with
 * discussions, comments, reviews, releases, branches, commits, workflow runs, deployments), orgs
 * with teams and members, and a GitHub App with installations. It serves the list endpoints with
 * GitHub's page-based pagination and `Link` headers, strong ETags and Last-Modified with 304s that
 * cost nothing, per-credential primary rate limits with GitHub's headers and 403 bodies, injected
 * secondary limits (403/429 + retry-after), personal tokens, App JWTs (RS256, verified) and the
 * installation tokens they mint, and failures (5xx, connection resets, latency, refusing connections).
 *
 * Lists are kept sorted (sorted-list.ts), so a page costs O(log n + page) whatever the store size.
 */
import {
  createPrivateKey,
  createPublicKey,
  createHash,
  generateKeyPairSync,
  randomBytes,
  verify as verifySignature,
  type KeyObject,
} from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  buildApp,
  buildBranch,
  buildCommit,
  buildDeployment,
  buildInstallation,
  buildIssue,
  buildIssueComment,
  buildLabel,
  buildPullRequest,
  buildRelease,
  buildRepository,
  buildReview,
  buildTeam,
  buildUser,
  buildWorkflowRun,
  DEFAULT_APP_PERMISSIONS,
  fakeSha,
  isoSeconds,
  legacyNodeId,
  pullRequestSimple,
  type GitHubApp,
  type GitHubBranch,
  type GitHubCommit,
  type GitHubDeployment,
  type GitHubInstallation,
  type GitHubIssue,
  type GitHubIssueComment,
  type GitHubLabel,
  type GitHubPullRequest,
  type GitHubRateLimitOverview,
  type GitHubRelease,
  type GitHubRepositoryRecord,
  type GitHubReview,
  type GitHubTeam,
  type GitHubUser,
  type GitHubWorkflowRun,
  type UrlBases,
} from './github-objects.ts';
import {
  executeGraphql,
  type DiscussionRecord,
  type GitHubDiscussion,
  type GitHubDiscussionCategory,
  type GitHubDiscussionComment,
  type GraphqlBackend,
  type GraphqlRepository,
} from './github-graphql.ts';
import { SortedList } from './sorted-list.ts';

export type * from './github-objects.ts';
export type { GitHubDiscussion, GitHubDiscussionCategory, GitHubDiscussionComment } from './github-graphql.ts';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface GitHubServerOptions {
  /** The personal access token requests may carry; default `ghp_` + 36 random alphanumerics. */
  token?: string;
  /** Login of the token's user (created on start); default `octocat`. */
  tokenUser?: string;
  /** Requests per window and credential, per resource (core, graphql); default 5000. */
  rateLimit?: number;
  /** Length of a rate-limit window in seconds, counted from a credential's first request; default 3600. */
  rateLimitWindowSeconds?: number;
  /** Status of a primary-limit refusal (GitHub sends both); default 403. */
  primaryLimitStatus?: 403 | 429;
  /** The GitHub App requests can authenticate as (JWT) and mint installation tokens for. */
  app?: {
    id?: number;
    slug?: string;
    name?: string;
    /** PEM (PKCS#1 or PKCS#8); default: a fresh 2048-bit RSA key, made on first use of `app.privateKey`. */
    privateKey?: string;
  };
  /** Lifetime of installation tokens; default 3600 (GitHub's hour). */
  installationTokenTtlSeconds?: number;
  /** The clock for timestamps of new objects, in ms (default: wall clock). `setNow()` overrides it. */
  now?: () => number;
  /** Latency added to every response, in ms (see also `setLatency`). */
  latencyMs?: number;
  /** Where `html_url`s point; default https://github.com. */
  webUrl?: string;
  /**
   * Serve a repeated GET (same credential, same URL) from memory, rendered once, until anything
   * changes (any other request, any call on the returned server): for benchmarks, so the
   * stand-in's own rendering does not compete for the CPU with the code measured. Authentication,
   * rate limits, conditional requests and faults still apply to every request.
   */
  cacheReads?: boolean;
}

export interface GitHubRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The status answered; 0 while in flight or when the connection was reset. */
  status: number;
  /** The credential's rate-limit key (`user:<id>`, `installation:<id>`, `app`), null when none passed. */
  principal: string | null;
  at: number;
}

export interface GitHubServerStats {
  /** Requests received (all of them, including rejected and failed ones). */
  received: number;
  /** Requests that counted against a primary rate limit. */
  counted: number;
  /** 304 Not Modified answers (which do not count). */
  notModified: number;
  /** Requests refused for an exhausted primary limit. */
  primaryLimited: number;
  /** Requests refused by an injected secondary limit. */
  secondaryLimited: number;
  /** Requests answered by `failNext` (an error status or a reset connection). */
  injectedFailures: number;
  /** Requests received and not yet answered (a client killed meanwhile still has its requests counted). */
  inFlight: number;
}

export interface RateLimitSnapshot {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds at which the window ends. */
  reset: number;
  resource: 'core' | 'graphql';
}

/** A repository: `'owner/name'` or the repository object. */
export type RepoRef = string | { full_name: string };
/** A user: login or the user object (unknown logins are created as users). */
export type UserRef = string | GitHubUser;

export interface IssueInput
  extends Partial<Omit<GitHubIssue, 'id' | 'node_id' | 'number' | 'user' | 'labels' | 'assignee' | 'assignees'>> {
  user?: UserRef;
  /** Label names (created in the repository on first use) or label objects. */
  labels?: (string | GitHubLabel)[];
  assignees?: UserRef[];
}

export interface PullRequestInput extends IssueInput {
  /** Head branch name; default `feature-<number>`. */
  head?: string;
  /** Base branch name; default the repository's default branch. */
  base?: string;
  /** Merged: closes it and sets `merged_at` (to `closed_at`, or the update time). */
  merged?: boolean;
  merged_at?: string | null;
  merged_by?: UserRef | null;
  requested_reviewers?: UserRef[];
  additions?: number;
  deletions?: number;
  changed_files?: number;
  commits?: number;
  mergeable?: boolean | null;
  mergeable_state?: string;
  merge_commit_sha?: string | null;
}

/** Changes for `updateIssue` (pull-request-only keys apply when the number is a pull request). */
export type IssueChanges = Omit<PullRequestInput, 'head' | 'base' | 'created_at'>;

export interface CommentInput extends Partial<Omit<GitHubIssueComment, 'id' | 'node_id' | 'user' | 'issue_url'>> {
  user?: UserRef;
}

export interface ReviewInput extends Partial<Omit<GitHubReview, 'id' | 'node_id' | 'user'>> {
  user?: UserRef;
}

export interface ReleaseInput extends Partial<Omit<GitHubRelease, 'id' | 'node_id' | 'author'>> {
  author?: UserRef;
}

export interface BranchInput {
  /** The head commit; default the default branch's head (or a new commit when there is none). */
  sha?: string;
  protected?: boolean;
}

export interface CommitInput {
  sha?: string;
  message?: string;
  author?: UserRef;
  /** Commit date (ISO); default now. */
  date?: string;
  /** Parent shas; default the branch head. */
  parents?: string[];
  /** The branch moved to this commit; default the default branch (created when missing). */
  branch?: string;
}

export interface WorkflowRunInput
  extends Partial<
    Omit<GitHubWorkflowRun, 'id' | 'node_id' | 'actor' | 'triggering_actor' | 'repository' | 'head_repository'>
  > {
  actor?: UserRef;
}

export interface DeploymentInput extends Partial<Omit<GitHubDeployment, 'id' | 'node_id' | 'creator'>> {
  creator?: UserRef;
}

export interface TeamInput extends Partial<Omit<GitHubTeam, 'id' | 'node_id' | 'name'>> {}

export interface DiscussionInput
  extends Partial<Omit<GitHubDiscussion, 'id' | 'databaseId' | 'number' | 'author' | 'category' | 'url'>> {
  author?: UserRef | null;
  /** Category name or slug; default `General`. */
  category?: string;
}

export interface DiscussionCommentInput
  extends Partial<Omit<GitHubDiscussionComment, 'id' | 'databaseId' | 'author' | 'url'>> {
  author?: UserRef | null;
}

export interface InstallationInput {
  /** The org or user the App is installed on (created as an organization when unknown). */
  account: string;
  /** Names of the repositories it may reach; default all of the account's repositories. */
  repositories?: string[];
  id?: number;
}

export interface SeedOptions {
  /** Owner of the seeded repositories; default `acme`. */
  owner?: string;
  ownerType?: 'Organization' | 'User';
  /** How many repositories (named `repo-01`, …) or their names; default 1. */
  repos?: number | string[];
  issuesPerRepo?: number;
  pullsPerRepo?: number;
  discussionsPerRepo?: number;
  commentsPerIssue?: number;
  reviewsPerPull?: number;
  releasesPerRepo?: number;
  /** Branches besides the default one. */
  branchesPerRepo?: number;
  commitsPerRepo?: number;
  workflowRunsPerRepo?: number;
  deploymentsPerRepo?: number;
  /** Teams of the owner (an organization). */
  teams?: number;
  membersPerTeam?: number;
  /** Size of the pool of authors; default 8. */
  users?: number;
  /** Share of issues, pull requests and discussions that are closed; default 0.3. */
  closedRatio?: number;
  /** Timestamps spread over this many days up to now; default 365. */
  spanDays?: number;
  /** Seed of the pseudo-random choices (same seed, same data); default 1. */
  seed?: number;
}

export interface SeedResult {
  owner: GitHubUser;
  repositories: GitHubRepositoryRecord[];
  users: GitHubUser[];
  teams: GitHubTeam[];
}

export interface AppCredentials {
  readonly id: number;
  readonly slug: string;
  readonly clientId: string;
  /** PKCS#1 PEM like the key GitHub lets you download (generated on first read unless given). */
  readonly privateKey: string;
}

export interface GitHubServer {
  /** `http://127.0.0.1:PORT`, to pass as Octokit's `baseUrl`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The personal access token accepted (as `token X` or `Bearer X`). */
  readonly token: string;
  /** The token's user. */
  readonly user: GitHubUser;
  readonly app: AppCredentials;
  close(): Promise<void>;
  /** Closes the listening socket and every open connection: requests fail with ECONNREFUSED. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  setLatency(ms: number): void;
  /** The clock (ms) used for timestamps of new and updated objects. */
  now(): number;
  /** Freezes that clock at `ms` (null: back to the default clock). */
  setNow(ms: number | null): void;

  // --- store -----------------------------------------------------------------------------------
  addUser(login: string, overrides?: Partial<GitHubUser>): GitHubUser;
  addOrganization(login: string, overrides?: Partial<GitHubUser>): GitHubUser;
  /** A personal access token for `login` (its own rate-limit bucket). */
  addPersonalToken(login: string, token?: string): string;
  addRepository(owner: string, name: string, overrides?: Partial<GitHubRepositoryRecord>): GitHubRepositoryRecord;
  addIssue(repo: RepoRef, input?: IssueInput): GitHubIssue;
  /** A pull request, and its issue (with the `pull_request` marker) in the issues list. */
  addPullRequest(repo: RepoRef, input?: PullRequestInput): GitHubPullRequest;
  addIssueComment(repo: RepoRef, issueNumber: number, input?: CommentInput): GitHubIssueComment;
  addPullRequestReview(repo: RepoRef, pullNumber: number, input?: ReviewInput): GitHubReview;
  addRelease(repo: RepoRef, input?: ReleaseInput): GitHubRelease;
  addBranch(repo: RepoRef, name: string, input?: BranchInput): GitHubBranch;
  addCommit(repo: RepoRef, input?: CommitInput): GitHubCommit;
  addWorkflowRun(repo: RepoRef, input?: WorkflowRunInput): GitHubWorkflowRun;
  addDeployment(repo: RepoRef, input?: DeploymentInput): GitHubDeployment;
  addTeam(org: string, name: string, input?: TeamInput): GitHubTeam;
  addTeamMember(org: string, teamSlug: string, login: UserRef, role?: 'member' | 'maintainer'): GitHubUser;
  addDiscussion(repo: RepoRef, input?: DiscussionInput): GitHubDiscussion;
  addDiscussionComment(
    repo: RepoRef,
    discussionNumber: number,
    input?: DiscussionCommentInput,
  ): GitHubDiscussionComment;
  addInstallation(input: InstallationInput): GitHubInstallation;
  /** Changes an issue (or pull request) and bumps `updated_at` to now unless `changes.updated_at` is given. */
  updateIssue(repo: RepoRef, number: number, changes: IssueChanges): GitHubIssue;
  /** Changes a discussion and bumps `updatedAt`. */
  updateDiscussion(repo: RepoRef, number: number, changes: Omit<DiscussionInput, 'createdAt'>): GitHubDiscussion;
  updateIssueComment(repo: RepoRef, commentId: number, changes: CommentInput): GitHubIssueComment;
  /** Deletes an issue (not a pull request, like GitHub): GET answers 410 afterwards, lists leave it out. */
  deleteIssue(repo: RepoRef, number: number): void;
  deleteIssueComment(repo: RepoRef, commentId: number): void;
  /** Bulk-creates an owner, repositories and their contents, timestamps spread over the past `spanDays`. */
  seed(options?: SeedOptions): SeedResult;
  getRepository(repo: RepoRef): GitHubRepositoryRecord | undefined;
  getIssue(repo: RepoRef, number: number): GitHubIssue | undefined;
  getPullRequest(repo: RepoRef, number: number): GitHubPullRequest | undefined;
  /** Issues and pull requests of a repository, by number. */
  listIssues(repo: RepoRef): GitHubIssue[];
  repositories(): GitHubRepositoryRecord[];

  // --- limits, faults, records -------------------------------------------------------------------
  /** Changes the primary limit for every credential (existing windows keep their reset time). */
  setRateLimit(changes: { limit?: number; remaining?: number; windowSeconds?: number }): void;
  /** The rate-limit state of a credential (default: the personal token's). */
  rateLimit(resource?: 'core' | 'graphql', principal?: string): RateLimitSnapshot;
  /** The next `count` authenticated requests get GitHub's secondary-limit answer with `retry-after`. */
  secondaryLimitOnce(count: number, retryAfterSeconds: number, status?: 403 | 429): void;
  /** The next `count` requests (whose path `match` accepts) fail with `status` (0: the connection is reset). */
  failNext(count: number, status?: number, match?: (path: string, method: string) => boolean): void;
  stats(): GitHubServerStats;
  readonly requests: readonly GitHubRequestRecord[];
  /** How many requests hit a path starting with `pathPrefix` (all when omitted). */
  requestCount(pathPrefix?: string, method?: string): number;
  resetRequests(): void;
}

// ---------------------------------------------------------------------------------------------
// Errors and replies
// ---------------------------------------------------------------------------------------------

const DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT_DOCS =
  'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit';
const SECONDARY_LIMIT_DOCS =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';

interface ErrorBody {
  message: string;
  documentation_url: string;
  status: string;
  errors?: { resource: string; field: string; code: string }[];
}

class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    message: string,
    options: { documentation_url?: string; errors?: ErrorBody['errors']; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.body = { message, documentation_url: options.documentation_url ?? DOCS, status: String(status) };
    if (options.errors) this.body.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

const notFound = (): ApiError => new ApiError(404, 'Not Found');
const badCredentials = (): ApiError => new ApiError(401, 'Bad credentials');
const jwtError = (message: string): ApiError =>
  new ApiError(401, message, { documentation_url: 'https://docs.github.com/rest' });
const notAccessibleByIntegration = (): ApiError => new ApiError(403, 'Resource not accessible by integration');

function validationFailed(resource: string, field: string): ApiError {
  return new ApiError(422, 'Validation Failed', { errors: [{ resource, field, code: 'invalid' }] });
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Sent as Last-Modified (and checked against If-Modified-Since). */
  lastModifiedMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Store shapes
// ---------------------------------------------------------------------------------------------

interface OrderLists<T> {
  created: SortedList<T>;
  updated: SortedList<T>;
}

interface StateLists<T> {
  all: OrderLists<T>;
  open: OrderLists<T>;
  closed: OrderLists<T>;
}

interface IssueRecord {
  repo: RepoState;
  issue: GitHubIssue;
  pull: GitHubPullRequest | null;
  createdMs: number;
  updatedMs: number;
  comments: SortedList<CommentRecord>;
  reviews: GitHubReview[];
}

interface CommentRecord {
  comment: GitHubIssueComment;
  issue: IssueRecord;
  createdMs: number;
  updatedMs: number;
}

interface RepoState extends GraphqlRepository {
  repo: GitHubRepositoryRecord;
  createdMs: number;
  nextNumber: number;
  labels: Map<string, GitHubLabel>;
  issues: Map<number, IssueRecord>;
  deletedIssues: Set<number>;
  issueLists: StateLists<IssueRecord>;
  pullLists: StateLists<IssueRecord>;
  comments: Map<number, CommentRecord>;
  commentLists: OrderLists<CommentRecord>;
  releases: SortedList<GitHubRelease>;
  releasesById: Map<number, GitHubRelease>;
  branches: Map<string, GitHubBranch>;
  commits: SortedList<GitHubCommit>;
  commitsBySha: Map<string, { commit: GitHubCommit; dateMs: number; seq: number }>;
  runs: SortedList<GitHubWorkflowRun>;
  runsById: Map<number, GitHubWorkflowRun>;
  nextRunNumber: number;
  deployments: SortedList<GitHubDeployment>;
  deploymentsById: Map<number, GitHubDeployment>;
}

interface TeamRecord {
  team: GitHubTeam;
  members: { user: GitHubUser; role: 'member' | 'maintainer' }[];
}

interface InstallationRecord {
  installation: GitHubInstallation;
  account: GitHubUser;
  /** null: every repository of the account. */
  repositoryIds: Set<number> | null;
}

interface InstallationToken {
  installation: InstallationRecord;
  expiresMs: number;
  /** Narrowed at minting time (null: whatever the installation reaches). */
  repositoryIds: Set<number> | null;
}

type Principal =
  | { kind: 'user'; key: string; user: GitHubUser }
  | { kind: 'installation'; key: string; token: InstallationToken }
  | { kind: 'app'; key: 'app' };

interface Bucket {
  used: number;
  /** Epoch seconds. */
  reset: number;
  limit: number;
}

interface Fault {
  remaining: number;
  status: number;
  match: ((path: string, method: string) => boolean) | undefined;
}

interface RequestContext {
  method: string;
  path: string;
  query: URLSearchParams;
  principal: Principal;
  body: string;
}

type Handler = (ctx: RequestContext, params: Record<string, string>) => Reply | Promise<Reply>;

interface Route {
  method: string;
  parts: string[];
  /** `app`: JWT only; `any`: a user or installation token (a JWT is refused). */
  auth: 'app' | 'any';
  handler: Handler;
}

const newOrderLists = <T>(): OrderLists<T> => ({ created: new SortedList(), updated: new SortedList() });
const newStateLists = <T>(): StateLists<T> => ({
  all: newOrderLists(),
  open: newOrderLists(),
  closed: newOrderLists(),
});

const DISCUSSION_CATEGORIES: readonly [name: string, emoji: string, answerable: boolean][] = [
  ['Announcements', ':mega:', false],
  ['General', ':speech_balloon:', false],
  ['Ideas', ':bulb:', false],
  ['Polls', ':ballot_box:', false],
  ['Q&A', ':pray:', true],
  ['Show and tell', ':raised_hands:', false],
];

const SEED_LABELS = ['bug', 'enhancement', 'documentation', 'question', 'good first issue', 'help wanted'];

/** Ids per resource type start far apart, so an id used for the wrong type finds nothing. */
const ID_BASES = {
  user: 1_000,
  repo: 100_000_000,
  issue: 2_000_000_000,
  pull: 3_000_000_000,
  comment: 4_000_000_000,
  review: 5_000_000_000,
  release: 6_000_000_000,
  run: 7_000_000_000,
  deployment: 8_000_000_000,
  team: 9_000_000,
  label: 10_000_000_000,
  // GraphQL's databaseId is a 32-bit Int: discussion ids must fit in one (as GitHub's do).
  discussion: 1_500_000_000,
  discussionComment: 1_600_000_000,
  category: 13_000_000,
  installation: 50_000_000,
} as const;

type IdKind = keyof typeof ID_BASES;

function randomAlnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** mulberry32: a small seeded generator, so `seed()` builds the same data for the same seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parseTime(value: string, param: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validationFailed('Issue', param);
  return ms;
}

function toMs(iso: string | null | undefined, fallback: number): number {
  if (!iso) return fallback;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`github-server: not an ISO time: ${iso}`);
  return ms;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T, field: string): T {
  if (value === null) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw validationFailed('Issue', field);
}

/**
 * GitHub's date-range qualifier (`2024-01-01`, `>=2024-01-01`, `<2024-01-01T12:00:00Z`,
 * `2024-01-01..2024-02-01`) as an inclusive [from, to] range in ms.
 */
function parseDateRange(value: string, field: string): [number, number] {
  const startOf = (text: string): number => parseTime(text, field);
  const endOf = (text: string): number =>
    /^\d{4}-\d{2}-\d{2}$/.test(text) ? startOf(text) + 86_400_000 - 1 : startOf(text);
  const range = /^(.+)\.\.(.+)$/.exec(value);
  if (range) return [startOf(range[1] as string), endOf(range[2] as string)];
  if (value.startsWith('>=')) return [startOf(value.slice(2)), Number.POSITIVE_INFINITY];
  if (value.startsWith('<=')) return [Number.NEGATIVE_INFINITY, endOf(value.slice(2))];
  if (value.startsWith('>')) return [endOf(value.slice(1)) + 1, Number.POSITIVE_INFINITY];
  if (value.startsWith('<')) return [Number.NEGATIVE_INFINITY, startOf(value.slice(1)) - 1];
  return [startOf(value), endOf(value)];
}

function etagOf(payload: string): string {
  return `"${createHash('sha256').update(payload).digest('hex')}"`;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare);
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

export async function startGitHubServer(options: GitHubServerOptions = {}): Promise<GitHubServer> {
  const host = '127.0.0.1';
  let port = 0;
  const bases: UrlBases = { api: '', web: options.webUrl ?? 'https://github.com' };
  let frozenNow: number | null = null;
  const clock = options.now ?? Date.now;
  const now = (): number => frozenNow ?? clock();
  let latencyMs = options.latencyMs ?? 0;

  const nextIds = new Map<IdKind, number>();
  const nextId = (kind: IdKind): number => {
    const id = (nextIds.get(kind) ?? ID_BASES[kind]) + 1;
    nextIds.set(kind, id);
    return id;
  };

  const users = new Map<string, GitHubUser>();
  const orgTeams = new Map<string, Map<string, TeamRecord>>();
  const repos = new Map<string, RepoState>();
  const reposById = new Map<number, RepoState>();
  const installations = new Map<number, InstallationRecord>();
  const installationTokens = new Map<string, InstallationToken>();
  const personalTokens = new Map<string, GitHubUser>();

  const requests: GitHubRequestRecord[] = [];
  const cacheReads = options.cacheReads === true;
  /** With `cacheReads`: GET answers rendered once, by credential and URL; emptied by any change. */
  const readCache = new Map<string, { reply: Reply; payload: string | Buffer; etag: string }>();
  const stats: GitHubServerStats = {
    received: 0,
    counted: 0,
    notModified: 0,
    primaryLimited: 0,
    secondaryLimited: 0,
    injectedFailures: 0,
    inFlight: 0,
  };
  let faults: Fault[] = [];
  const secondary = { remaining: 0, retryAfter: 60, status: 403 };
  const limits = {
    limit: options.rateLimit ?? 5000,
    windowSeconds: options.rateLimitWindowSeconds ?? 3600,
    /** Set by `setRateLimit({ remaining })`: where credentials first seen afterwards start. */
    initialRemaining: null as number | null,
  };
  const buckets = new Map<string, Bucket>();
  const primaryLimitStatus = options.primaryLimitStatus ?? 403;
  const tokenTtlSeconds = options.installationTokenTtlSeconds ?? 3600;

  // --- users ---------------------------------------------------------------------------------

  function addAccount(login: string, type: 'User' | 'Organization' | 'Bot', overrides: Partial<GitHubUser> = {}) {
    const key = login.toLowerCase();
    const existing = users.get(key);
    if (existing) {
      if (existing.type !== type) throw new Error(`github-server: ${login} already exists as a ${existing.type}`);
      Object.assign(existing, overrides);
      return existing;
    }
    const user = buildUser(bases, login, nextId('user'), type, overrides);
    users.set(key, user);
    if (type === 'Organization') orgTeams.set(key, new Map());
    return user;
  }

  function resolveUser(ref: UserRef): GitHubUser {
    if (typeof ref !== 'string') return ref;
    return users.get(ref.toLowerCase()) ?? addAccount(ref, 'User');
  }

  // --- the token user and the App ---------------------------------------------------------------

  const tokenUserLogin = options.tokenUser ?? 'octocat';
  const personalToken = options.token ?? `ghp_${randomAlnum(36)}`;

  const appConfig = options.app ?? {};
  const appId = appConfig.id ?? 100_001;
  const appSlug = appConfig.slug ?? 'plugboard-sync';
  const appClientId = `Iv23li${randomAlnum(14)}`;
  let appKeys: { privateKeyPem: string; publicKey: KeyObject } | null = null;
  if (appConfig.privateKey) {
    const privateKey = createPrivateKey(appConfig.privateKey);
    appKeys = { privateKeyPem: appConfig.privateKey, publicKey: createPublicKey(privateKey) };
  }
  const appKeyPair = (): { privateKeyPem: string; publicKey: KeyObject } => {
    if (!appKeys) {
      const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      appKeys = {
        privateKeyPem: pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        publicKey: pair.publicKey,
      };
    }
    return appKeys;
  };
  let appObject: GitHubApp | null = null;
  const app = (): GitHubApp => {
    appObject ??= buildApp(bases, {
      id: appId,
      slug: appSlug,
      clientId: appClientId,
      name: appConfig.name ?? 'Plugboard Sync',
      owner: resolveUser(tokenUserLogin),
      createdMs: now() - 30 * 86_400_000,
    });
    appObject.installations_count = installations.size;
    return appObject;
  };

  // --- repositories ------------------------------------------------------------------------------

  function repoKey(ref: RepoRef): string {
    return (typeof ref === 'string' ? ref : ref.full_name).toLowerCase();
  }

  function mustRepo(ref: RepoRef): RepoState {
    const state = repos.get(repoKey(ref));
    if (!state) throw new Error(`github-server: no repository ${typeof ref === 'string' ? ref : ref.full_name}`);
    return state;
  }

  function addRepository(
    ownerLogin: string,
    name: string,
    overrides: Partial<GitHubRepositoryRecord> = {},
  ): GitHubRepositoryRecord {
    const owner = users.get(ownerLogin.toLowerCase()) ?? addAccount(ownerLogin, 'Organization');
    const key = `${owner.login}/${name}`.toLowerCase();
    if (repos.has(key)) throw new Error(`github-server: repository ${owner.login}/${name} already exists`);
    const createdMs = toMs(overrides.created_at, now());
    const repo = buildRepository(bases, { id: nextId('repo'), owner, name, createdMs }, overrides);
    const categories = DISCUSSION_CATEGORIES.map(([categoryName, emoji, isAnswerable]): GitHubDiscussionCategory => {
      const id = nextId('category');
      return {
        id: legacyNodeId('DiscussionCategory', id),
        databaseId: id,
        name: categoryName,
        slug: categoryName
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, ''),
        emoji,
        description: `${categoryName} discussions`,
        isAnswerable,
        createdAt: repo.created_at ?? isoSeconds(createdMs),
        updatedAt: repo.created_at ?? isoSeconds(createdMs),
      };
    });
    const state: RepoState = {
      repo,
      createdMs,
      nextNumber: 1,
      labels: new Map(),
      issues: new Map(),
      deletedIssues: new Set(),
      issueLists: newStateLists(),
      pullLists: newStateLists(),
      comments: new Map(),
      commentLists: newOrderLists(),
      releases: new SortedList(),
      releasesById: new Map(),
      branches: new Map(),
      commits: new SortedList(),
      commitsBySha: new Map(),
      runs: new SortedList(),
      runsById: new Map(),
      nextRunNumber: 1,
      deployments: new SortedList(),
      deploymentsById: new Map(),
      discussionsByNumber: new Map(),
      discussionsByCreated: new SortedList(),
      discussionsByUpdated: new SortedList(),
      categories,
    };
    repos.set(key, state);
    reposById.set(repo.id, state);
    return repo;
  }

  function label(state: RepoState, ref: string | GitHubLabel): GitHubLabel {
    if (typeof ref !== 'string') return ref;
    let existing = state.labels.get(ref.toLowerCase());
    if (!existing) {
      existing = buildLabel(bases, state.repo, nextId('label'), ref);
      state.labels.set(ref.toLowerCase(), existing);
    }
    return existing;
  }

  function adjustOpenCount(state: RepoState, delta: number): void {
    state.repo.open_issues_count += delta;
    state.repo.open_issues += delta;
  }

  // --- issues and pull requests ---------------------------------------------------------------------

  function listsOf(record: IssueRecord): StateLists<IssueRecord>[] {
    return record.pull ? [record.repo.issueLists, record.repo.pullLists] : [record.repo.issueLists];
  }

  function indexIssue(record: IssueRecord, bulk: boolean): void {
    const id = record.issue.id;
    for (const lists of listsOf(record)) {
      for (const order of [lists.all, lists[record.issue.state === 'closed' ? 'closed' : 'open']]) {
        if (bulk) {
          order.created.append(record.createdMs, id, record);
          order.updated.append(record.updatedMs, id, record);
        } else {
          order.created.insert(record.createdMs, id, record);
          order.updated.insert(record.updatedMs, id, record);
        }
      }
    }
  }

  function unindexIssue(record: IssueRecord): void {
    const id = record.issue.id;
    for (const lists of listsOf(record)) {
      for (const order of [lists.all, lists[record.issue.state === 'closed' ? 'closed' : 'open']]) {
        order.created.remove(record.createdMs, id);
        order.updated.remove(record.updatedMs, id);
      }
    }
  }

  /** Applies the fields an issue and its pull request share, keeping both views in step. */
  function applyIssueFields(record: IssueRecord, input: IssueChanges, nowMs: number, creating: boolean): void {
    const { issue, pull, repo: state } = record;
    const { user, labels, assignees, merged, merged_by, requested_reviewers, ...rest } = input;
    const wasClosed = issue.state === 'closed';
    const issueFields: Partial<GitHubIssue> = {};
    for (const key of [
      'title',
      'body',
      'state',
      'state_reason',
      'locked',
      'active_lock_reason',
      'comments',
      'closed_at',
      'author_association',
      'milestone',
      'draft',
      'created_at',
      'updated_at',
      'reactions',
    ] as const) {
      if (key in rest) Object.assign(issueFields, { [key]: rest[key as keyof typeof rest] });
    }
    Object.assign(issue, issueFields);
    if (user !== undefined) issue.user = resolveUser(user);
    if (labels !== undefined) issue.labels = labels.map((ref) => label(state, ref));
    if (assignees !== undefined) {
      issue.assignees = assignees.map(resolveUser);
      issue.assignee = issue.assignees[0] ?? null;
    }
    const isMerged = merged === true || (pull !== null && typeof rest.merged_at === 'string');
    if (isMerged) issue.state = 'closed';
    const closing = issue.state === 'closed' && (!wasClosed || creating);
    if (closing) {
      issue.closed_at = rest.closed_at ?? issue.updated_at;
      if (!pull && !('state_reason' in rest)) issue.state_reason = 'completed';
    }
    if (issue.state === 'open' && (wasClosed || creating)) {
      issue.closed_at = null;
      if (wasClosed && !('state_reason' in rest)) issue.state_reason = 'reopened';
    }
    if (!pull) return;
    Object.assign(pull, {
      title: issue.title,
      body: issue.body ?? null,
      state: issue.state,
      locked: issue.locked,
      user: issue.user ?? pull.user,
      labels: issue.labels,
      assignee: issue.assignee,
      assignees: issue.assignees ?? [],
      created_at: issue.created_at,
      updated_at: issue.updated_at,
      closed_at: issue.closed_at,
      active_lock_reason: issue.active_lock_reason ?? null,
    });
    for (const key of [
      'additions',
      'deletions',
      'changed_files',
      'commits',
      'mergeable',
      'mergeable_state',
      'merge_commit_sha',
      'draft',
    ] as const) {
      if (key in rest) Object.assign(pull, { [key]: rest[key as keyof typeof rest] });
    }
    if (requested_reviewers !== undefined) pull.requested_reviewers = requested_reviewers.map(resolveUser);
    if (isMerged) {
      pull.merged = true;
      pull.merged_at = rest.merged_at ?? issue.closed_at ?? isoSeconds(nowMs);
      pull.merge_commit_sha ??= fakeSha(`merge:${pull.id}`);
      pull.mergeable = null;
      pull.mergeable_state = 'unknown';
      if (merged_by !== undefined) pull.merged_by = merged_by === null ? null : resolveUser(merged_by);
      else pull.merged_by ??= issue.user;
    }
    if (issue.pull_request) issue.pull_request.merged_at = pull.merged_at;
    if ('draft' in rest) issue.draft = rest.draft;
  }

  function createIssueRecord(state: RepoState, input: PullRequestInput, asPull: boolean, bulk: boolean): IssueRecord {
    const nowMs = now();
    const createdMs = toMs(input.created_at, nowMs);
    const updatedMs = toMs(input.updated_at, createdMs);
    const number = state.nextNumber++;
    const user = resolveUser(input.user ?? tokenUserLogin);
    const issue = buildIssue(bases, {
      id: nextId('issue'),
      number,
      repo: state.repo,
      user,
      createdMs,
      isPullRequest: asPull,
    });
    issue.updated_at = isoSeconds(updatedMs);
    let pull: GitHubPullRequest | null = null;
    if (asPull) {
      const headRef = input.head ?? `feature-${number}`;
      const baseRef = input.base ?? state.repo.default_branch;
      const baseBranch = state.branches.get(baseRef);
      pull = buildPullRequest(bases, {
        id: nextId('pull'),
        issue,
        user,
        repo: state.repo,
        headRef,
        baseRef,
        headSha: state.branches.get(headRef)?.commit.sha ?? fakeSha(`head:${state.repo.id}:${number}`),
        baseSha: baseBranch?.commit.sha ?? fakeSha(`base:${state.repo.id}:${baseRef}`),
      });
    }
    const record: IssueRecord = {
      repo: state,
      issue,
      pull,
      createdMs,
      updatedMs,
      comments: new SortedList(),
      reviews: [],
    };
    applyIssueFields(record, { ...input, updated_at: issue.updated_at }, nowMs, true);
    state.issues.set(number, record);
    indexIssue(record, bulk);
    if (issue.state === 'open') adjustOpenCount(state, 1);
    return record;
  }

  function mustIssue(state: RepoState, number: number): IssueRecord {
    const record = state.issues.get(number);
    if (!record) throw new Error(`github-server: no issue #${number} in ${state.repo.full_name}`);
    return record;
  }

  function updateIssue(ref: RepoRef, number: number, changes: IssueChanges): GitHubIssue {
    const state = mustRepo(ref);
    const record = mustIssue(state, number);
    const wasOpen = record.issue.state === 'open';
    unindexIssue(record);
    const updatedMs = changes.updated_at ? toMs(changes.updated_at, now()) : Math.max(now(), record.updatedMs);
    record.updatedMs = updatedMs;
    applyIssueFields(record, { ...changes, updated_at: isoSeconds(updatedMs) }, updatedMs, false);
    indexIssue(record, false);
    const isOpen = record.issue.state === 'open';
    if (wasOpen !== isOpen) adjustOpenCount(state, isOpen ? 1 : -1);
    return record.issue;
  }

  function deleteIssue(ref: RepoRef, number: number): void {
    const state = mustRepo(ref);
    const record = mustIssue(state, number);
    if (record.pull) throw new Error(`github-server: #${number} is a pull request; GitHub cannot delete those`);
    unindexIssue(record);
    state.issues.delete(number);
    state.deletedIssues.add(number);
    if (record.issue.state === 'open') adjustOpenCount(state, -1);
    for (const comment of record.comments.values()) unindexComment(state, comment);
  }

  // --- comments and reviews ----------------------------------------------------------------------

  function indexComment(state: RepoState, record: CommentRecord, bulk: boolean): void {
    const id = record.comment.id;
    const add = (list: SortedList<CommentRecord>, key: number) =>
      bulk ? list.append(key, id, record) : list.insert(key, id, record);
    add(state.commentLists.created, record.createdMs);
    add(state.commentLists.updated, record.updatedMs);
    add(record.issue.comments, record.createdMs);
    state.comments.set(id, record);
  }

  function unindexComment(state: RepoState, record: CommentRecord): void {
    const id = record.comment.id;
    state.commentLists.created.remove(record.createdMs, id);
    state.commentLists.updated.remove(record.updatedMs, id);
    record.issue.comments.remove(record.createdMs, id);
    state.comments.delete(id);
  }

  function addIssueComment(state: RepoState, number: number, input: CommentInput, bulk: boolean): GitHubIssueComment {
    const issue = mustIssue(state, number);
    const { user, ...rest } = input;
    const createdMs = toMs(input.created_at, now());
    const updatedMs = toMs(input.updated_at, createdMs);
    const comment = buildIssueComment(
      bases,
      {
        id: nextId('comment'),
        repo: state.repo,
        issue: issue.issue,
        user: resolveUser(user ?? tokenUserLogin),
        createdMs,
      },
      { ...rest, updated_at: isoSeconds(updatedMs) },
    );
    indexComment(state, { comment, issue, createdMs, updatedMs }, bulk);
    issue.issue.comments += 1;
    if (issue.pull) issue.pull.comments += 1;
    return comment;
  }

  function addReview(state: RepoState, number: number, input: ReviewInput): GitHubReview {
    const record = mustIssue(state, number);
    if (!record.pull) throw new Error(`github-server: #${number} in ${state.repo.full_name} is not a pull request`);
    const { user, ...rest } = input;
    const review = buildReview(
      {
        id: nextId('review'),
        repo: state.repo,
        pull: record.pull,
        user: resolveUser(user ?? tokenUserLogin),
        submittedMs: toMs(input.submitted_at, now()),
      },
      rest,
    );
    record.reviews.push(review);
    return review;
  }

  // --- releases, branches, commits, runs, deployments ----------------------------------------------

  function addRelease(state: RepoState, input: ReleaseInput, bulk: boolean): GitHubRelease {
    const { author, ...rest } = input;
    const createdMs = toMs(input.created_at, now());
    const id = nextId('release');
    const release = buildRelease(
      bases,
      {
        id,
        repo: state.repo,
        author: resolveUser(author ?? tokenUserLogin),
        tagName: input.tag_name ?? `v1.${state.releasesById.size}.0`,
        createdMs,
      },
      rest,
    );
    if (bulk) state.releases.append(createdMs, id, release);
    else state.releases.insert(createdMs, id, release);
    state.releasesById.set(id, release);
    return release;
  }

  function addCommit(state: RepoState, input: CommitInput, bulk: boolean): GitHubCommit {
    const branchName = input.branch ?? state.repo.default_branch;
    const head = state.branches.get(branchName)?.commit.sha;
    const seq = state.commitsBySha.size + 1;
    const dateMs = toMs(input.date, now());
    const sha = input.sha ?? fakeSha(`commit:${state.repo.id}:${seq}`);
    const commit = buildCommit(bases, {
      repo: state.repo,
      sha,
      author: resolveUser(input.author ?? tokenUserLogin),
      dateMs,
      parents: input.parents ?? (head ? [head] : []),
      message: input.message ?? `Change ${seq}`,
    });
    if (bulk) state.commits.append(dateMs, seq, commit);
    else state.commits.insert(dateMs, seq, commit);
    state.commitsBySha.set(sha, { commit, dateMs, seq });
    const branch = state.branches.get(branchName);
    if (branch) branch.commit = buildBranch(bases, state.repo, branchName, sha).commit;
    else state.branches.set(branchName, buildBranch(bases, state.repo, branchName, sha));
    const pushed = isoSeconds(Math.max(dateMs, toMs(state.repo.pushed_at, 0)));
    state.repo.pushed_at = pushed;
    return commit;
  }

  function addBranch(state: RepoState, name: string, input: BranchInput): GitHubBranch {
    let sha = input.sha ?? state.branches.get(state.repo.default_branch)?.commit.sha;
    sha ??= addCommit(state, {}, false).sha;
    const branch = buildBranch(
      bases,
      state.repo,
      name,
      sha,
      input.protected === undefined ? {} : { protected: input.protected },
    );
    state.branches.set(name, branch);
    return branch;
  }

  function addWorkflowRun(state: RepoState, input: WorkflowRunInput, bulk: boolean): GitHubWorkflowRun {
    const { actor, ...rest } = input;
    const createdMs = toMs(input.created_at, now());
    const id = nextId('run');
    const run = buildWorkflowRun(
      bases,
      {
        id,
        runNumber: state.nextRunNumber++,
        workflowId: state.repo.id * 10 + 1,
        repo: state.repo,
        actor: resolveUser(actor ?? tokenUserLogin),
        headSha: state.branches.get(state.repo.default_branch)?.commit.sha ?? fakeSha(`run:${id}`),
        createdMs,
      },
      rest,
    );
    if (bulk) state.runs.append(createdMs, id, run);
    else state.runs.insert(createdMs, id, run);
    state.runsById.set(id, run);
    return run;
  }

  function addDeployment(state: RepoState, input: DeploymentInput, bulk: boolean): GitHubDeployment {
    const { creator, ...rest } = input;
    const createdMs = toMs(input.created_at, now());
    const id = nextId('deployment');
    const deployment = buildDeployment(
      bases,
      {
        id,
        repo: state.repo,
        creator: resolveUser(creator ?? tokenUserLogin),
        sha: state.branches.get(state.repo.default_branch)?.commit.sha ?? fakeSha(`deployment:${id}`),
        createdMs,
      },
      rest,
    );
    if (bulk) state.deployments.append(createdMs, id, deployment);
    else state.deployments.insert(createdMs, id, deployment);
    state.deploymentsById.set(id, deployment);
    return deployment;
  }

  // --- teams ---------------------------------------------------------------------------------------

  function mustOrgTeams(org: string): { org: GitHubUser; teams: Map<string, TeamRecord> } {
    const account = users.get(org.toLowerCase()) ?? addAccount(org, 'Organization');
    const teams = orgTeams.get(org.toLowerCase());
    if (!teams) throw new Error(`github-server: ${org} is a user, not an organization`);
    return { org: account, teams };
  }

  function addTeam(orgLogin: string, name: string, input: TeamInput = {}): GitHubTeam {
    const { org, teams } = mustOrgTeams(orgLogin);
    const slug =
      input.slug ??
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
    if (teams.has(slug)) throw new Error(`github-server: team ${orgLogin}/${slug} already exists`);
    const team = buildTeam(bases, { id: nextId('team'), org, name, slug }, input);
    teams.set(slug, { team, members: [] });
    return team;
  }

  function addTeamMember(orgLogin: string, slug: string, login: UserRef, role: 'member' | 'maintainer' = 'member') {
    const record = mustOrgTeams(orgLogin).teams.get(slug);
    if (!record) throw new Error(`github-server: no team ${orgLogin}/${slug}`);
    const user = resolveUser(login);
    if (!record.members.some((member) => member.user.id === user.id)) record.members.push({ user, role });
    return user;
  }

  // --- discussions ------------------------------------------------------------------------------------

  function category(state: RepoState, name: string | undefined): GitHubDiscussionCategory {
    const wanted = (name ?? 'General').toLowerCase();
    const found = state.categories.find((c) => c.name.toLowerCase() === wanted || c.slug === wanted);
    if (!found) throw new Error(`github-server: no discussion category ${name} in ${state.repo.full_name}`);
    return found;
  }

  function addDiscussion(state: RepoState, input: DiscussionInput, bulk: boolean): GitHubDiscussion {
    const { author, category: categoryName, ...rest } = input;
    const createdMs = toMs(input.createdAt, now());
    const updatedMs = toMs(input.updatedAt, createdMs);
    const number = state.nextNumber++;
    const id = nextId('discussion');
    const discussion: GitHubDiscussion = {
      id: legacyNodeId('Discussion', id),
      databaseId: id,
      number,
      title: `Discussion ${number} of ${state.repo.name}`,
      body: `Body of discussion ${number}.`,
      url: `${state.repo.html_url}/discussions/${number}`,
      createdAt: isoSeconds(createdMs),
      updatedAt: isoSeconds(updatedMs),
      closed: false,
      closedAt: null,
      stateReason: null,
      locked: false,
      upvoteCount: 0,
      answerChosenAt: null,
      author: author === null ? null : resolveUser(author ?? tokenUserLogin),
      authorAssociation: 'CONTRIBUTOR',
      category: category(state, categoryName),
      ...rest,
    };
    if (discussion.closed && !discussion.closedAt) discussion.closedAt = discussion.updatedAt;
    const record: DiscussionRecord = { discussion, createdMs, updatedMs, comments: new SortedList() };
    state.discussionsByNumber.set(number, record);
    if (bulk) {
      state.discussionsByCreated.append(createdMs, id, record);
      state.discussionsByUpdated.append(updatedMs, id, record);
    } else {
      state.discussionsByCreated.insert(createdMs, id, record);
      state.discussionsByUpdated.insert(updatedMs, id, record);
    }
    return discussion;
  }

  function mustDiscussion(state: RepoState, number: number): DiscussionRecord {
    const record = state.discussionsByNumber.get(number);
    if (!record) throw new Error(`github-server: no discussion #${number} in ${state.repo.full_name}`);
    return record;
  }

  function addDiscussionComment(
    state: RepoState,
    number: number,
    input: DiscussionCommentInput,
  ): GitHubDiscussionComment {
    const record = mustDiscussion(state, number);
    const { author, ...rest } = input;
    const createdMs = toMs(input.createdAt, now());
    const id = nextId('discussionComment');
    const comment: GitHubDiscussionComment = {
      id: legacyNodeId('DiscussionComment', id),
      databaseId: id,
      body: `Comment ${id}.`,
      url: `${record.discussion.url}#discussioncomment-${id}`,
      createdAt: isoSeconds(createdMs),
      updatedAt: isoSeconds(createdMs),
      author: author === null ? null : resolveUser(author ?? tokenUserLogin),
      isAnswer: false,
      upvoteCount: 0,
      ...rest,
    };
    record.comments.insert(createdMs, id, comment);
    return comment;
  }

  // --- installations ----------------------------------------------------------------------------------

  function addInstallation(input: InstallationInput): GitHubInstallation {
    const account = users.get(input.account.toLowerCase()) ?? addAccount(input.account, 'Organization');
    const id = input.id ?? nextId('installation');
    if (installations.has(id)) throw new Error(`github-server: installation ${id} already exists`);
    let repositoryIds: Set<number> | null = null;
    if (input.repositories) {
      repositoryIds = new Set(
        input.repositories.map((name) => mustRepo(name.includes('/') ? name : `${account.login}/${name}`).repo.id),
      );
    }
    const installation = buildInstallation(bases, {
      id,
      account,
      app: app(),
      repositorySelection: repositoryIds ? 'selected' : 'all',
      createdMs: now(),
    });
    installations.set(id, { installation, account, repositoryIds });
    return installation;
  }

  function installationReaches(record: InstallationRecord, state: RepoState): boolean {
    if (state.repo.owner.id !== record.account.id) return false;
    return record.repositoryIds === null || record.repositoryIds.has(state.repo.id);
  }

  // --- seeding --------------------------------------------------------------------------------------

  function seed(seedOptions: SeedOptions = {}): SeedResult {
    const random = prng(seedOptions.seed ?? 1);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const ownerType = seedOptions.ownerType ?? 'Organization';
    const owner = addAccount(seedOptions.owner ?? 'acme', ownerType);
    const pool = Array.from({ length: seedOptions.users ?? 8 }, (_, i) =>
      addAccount(`${owner.login}-dev-${String(i + 1).padStart(2, '0')}`, 'User'),
    );
    const closedRatio = seedOptions.closedRatio ?? 0.3;
    const endMs = now();
    const spanMs = (seedOptions.spanDays ?? 365) * 86_400_000;
    const startMs = endMs - spanMs;
    const names =
      typeof seedOptions.repos === 'object'
        ? seedOptions.repos
        : Array.from({ length: seedOptions.repos ?? 1 }, (_, i) => `repo-${String(i + 1).padStart(2, '0')}`);
    const at = (fraction: number): number => startMs + Math.floor(fraction * spanMs);
    const later = (fromMs: number): number => fromMs + Math.floor(random() * (endMs - fromMs));
    const touched: RepoState[] = [];

    const repositories = names.map((name) => {
      const repo = addRepository(owner.login, name, { created_at: isoSeconds(startMs - 86_400_000) });
      const state = mustRepo(repo);
      touched.push(state);
      const commits = seedOptions.commitsPerRepo ?? 0;
      for (let i = 0; i < commits; i++) {
        addCommit(state, { author: pick(pool), date: isoSeconds(at((i + 0.5) / commits)) }, true);
      }
      const shas = [...state.commitsBySha.keys()];
      for (let i = 0; i < (seedOptions.branchesPerRepo ?? 0); i++) {
        addBranch(state, `feature/${String(i + 1).padStart(3, '0')}`, shas.length > 0 ? { sha: pick(shas) } : {});
      }
      // Issues, pull requests and discussions share one number sequence, in creation order.
      const kinds: ('issue' | 'pull' | 'discussion')[] = [
        ...Array<'issue'>(seedOptions.issuesPerRepo ?? 0).fill('issue'),
        ...Array<'pull'>(seedOptions.pullsPerRepo ?? 0).fill('pull'),
        ...Array<'discussion'>(seedOptions.discussionsPerRepo ?? 0).fill('discussion'),
      ];
      for (let i = kinds.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [kinds[i], kinds[j]] = [kinds[j] as (typeof kinds)[number], kinds[i] as (typeof kinds)[number]];
      }
      kinds.forEach((kind, i) => {
        const createdMs = at((i + 0.5) / kinds.length);
        const updatedMs = later(createdMs);
        const closed = random() < closedRatio;
        if (kind === 'discussion') {
          addDiscussion(
            state,
            {
              author: pick(pool),
              category: pick(['General', 'Ideas', 'Q&A']),
              createdAt: isoSeconds(createdMs),
              updatedAt: isoSeconds(updatedMs),
              closed,
              upvoteCount: Math.floor(random() * 10),
            },
            true,
          );
          return;
        }
        const labels = random() < 0.6 ? [pick(SEED_LABELS)] : [];
        const input: PullRequestInput = {
          user: pick(pool),
          labels,
          assignees: random() < 0.4 ? [pick(pool)] : [],
          state: closed ? 'closed' : 'open',
          created_at: isoSeconds(createdMs),
          updated_at: isoSeconds(updatedMs),
        };
        if (kind === 'pull' && closed && random() < 0.7) input.merged = true;
        const record = createIssueRecord(state, input, kind === 'pull', true);
        for (let c = 0; c < (seedOptions.commentsPerIssue ?? 0); c++) {
          const commentMs =
            createdMs + Math.floor(((c + 1) / ((seedOptions.commentsPerIssue ?? 0) + 1)) * (updatedMs - createdMs));
          addIssueComment(state, record.issue.number, { user: pick(pool), created_at: isoSeconds(commentMs) }, true);
        }
        if (kind === 'pull') {
          for (let r = 0; r < (seedOptions.reviewsPerPull ?? 0); r++) {
            addReview(state, record.issue.number, {
              user: pick(pool),
              state: pick(['APPROVED', 'COMMENTED', 'CHANGES_REQUESTED']),
              submitted_at: isoSeconds(later(createdMs)),
            });
          }
        }
      });
      const releases = seedOptions.releasesPerRepo ?? 0;
      for (let i = 0; i < releases; i++) {
        addRelease(
          state,
          { author: pick(pool), tag_name: `v${i + 1}.0.0`, created_at: isoSeconds(at((i + 0.5) / releases)) },
          true,
        );
      }
      const runs = seedOptions.workflowRunsPerRepo ?? 0;
      for (let i = 0; i < runs; i++) {
        const failed = random() < 0.15;
        addWorkflowRun(
          state,
          {
            actor: pick(pool),
            created_at: isoSeconds(at((i + 0.5) / runs)),
            conclusion: failed ? 'failure' : 'success',
            event: pick(['push', 'pull_request', 'schedule']),
          },
          true,
        );
      }
      const deployments = seedOptions.deploymentsPerRepo ?? 0;
      for (let i = 0; i < deployments; i++) {
        addDeployment(
          state,
          {
            creator: pick(pool),
            created_at: isoSeconds(at((i + 0.5) / deployments)),
            environment: pick(['production', 'staging']),
          },
          true,
        );
      }
      return repo;
    });
    const teams: GitHubTeam[] = [];
    if (ownerType === 'Organization') {
      for (let i = 0; i < (seedOptions.teams ?? 0); i++) {
        const team = addTeam(owner.login, `Team ${String(i + 1).padStart(2, '0')}`);
        teams.push(team);
        const members = new Set<GitHubUser>();
        const wanted = Math.min(seedOptions.membersPerTeam ?? 3, pool.length);
        while (members.size < wanted) members.add(pick(pool));
        for (const member of members)
          addTeamMember(owner.login, team.slug, member, random() < 0.2 ? 'maintainer' : 'member');
      }
    }
    return { owner, repositories, users: pool, teams };
  }

  // --- rate limits -------------------------------------------------------------------------------------

  function bucketFor(principalKey: string, resource: 'core' | 'graphql'): Bucket {
    const key = `${principalKey}|${resource}`;
    const nowMs = Date.now();
    let bucket = buckets.get(key);
    if (!bucket || nowMs >= bucket.reset * 1000) {
      const used =
        !bucket && limits.initialRemaining !== null ? Math.max(0, limits.limit - limits.initialRemaining) : 0;
      bucket = { used, reset: Math.ceil((nowMs + limits.windowSeconds * 1000) / 1000), limit: limits.limit };
      buckets.set(key, bucket);
    }
    return bucket;
  }

  const remainingOf = (bucket: Bucket): number => Math.max(0, bucket.limit - bucket.used);

  function rateHeaders(bucket: Bucket, resource: 'core' | 'graphql'): Record<string, string> {
    return {
      'x-ratelimit-limit': String(bucket.limit),
      'x-ratelimit-remaining': String(remainingOf(bucket)),
      'x-ratelimit-reset': String(bucket.reset),
      'x-ratelimit-used': String(bucket.used),
      'x-ratelimit-resource': resource,
    };
  }

  function snapshot(bucket: Bucket, resource: 'core' | 'graphql'): RateLimitSnapshot {
    return { limit: bucket.limit, remaining: remainingOf(bucket), used: bucket.used, reset: bucket.reset, resource };
  }

  function rateLimitExceededMessage(principal: Principal): string {
    if (principal.kind === 'installation')
      return `API rate limit exceeded for installation ID ${principal.token.installation.installation.id}.`;
    if (principal.kind === 'user') return `API rate limit exceeded for user ID ${principal.user.id}.`;
    return `API rate limit exceeded for app ID ${appId}.`;
  }

  // --- authentication -------------------------------------------------------------------------------------

  function verifyAppJwt(jwt: string): Principal {
    const undecodable = () => jwtError('A JSON web token could not be decoded');
    const [encodedHeader, encodedPayload, encodedSignature] = jwt.split('.');
    if (!encodedHeader || !encodedPayload || encodedSignature === undefined) throw undecodable();
    let header: { alg?: unknown };
    let payload: { iat?: unknown; exp?: unknown; iss?: unknown };
    try {
      header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
      payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'));
    } catch {
      throw undecodable();
    }
    if (header.alg !== 'RS256' || !appKeys) throw undecodable();
    const signed = verifySignature(
      'sha256',
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      appKeys.publicKey,
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!signed) throw undecodable();
    if (String(payload.iss) !== String(appId) && payload.iss !== appClientId) throw undecodable();
    const nowSeconds = Math.floor(Date.now() / 1000);
    // GitHub tolerates a minute of clock drift on `iat` and allows at most ten minutes to `exp`.
    if (typeof payload.iat !== 'number' || !Number.isInteger(payload.iat) || payload.iat > nowSeconds + 60) {
      throw jwtError(
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
      );
    }
    if (typeof payload.exp !== 'number' || payload.exp <= nowSeconds) {
      throw jwtError(
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
      );
    }
    if (payload.exp > nowSeconds + 600 + 60)
      throw jwtError("'Expiration time' claim ('exp') is too far in the future.");
    return { kind: 'app', key: 'app' };
  }

  function authenticate(req: IncomingMessage): Principal | null {
    const header = req.headers.authorization;
    if (header === undefined) return null;
    const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (!match) throw badCredentials();
    const credential = match[1] as string;
    const user = personalTokens.get(credential);
    if (user) return { kind: 'user', key: `user:${user.id}`, user };
    const token = installationTokens.get(credential);
    if (token) {
      if (Date.now() >= token.expiresMs) throw badCredentials();
      return { kind: 'installation', key: `installation:${token.installation.installation.id}`, token };
    }
    if (credential.split('.').length === 3) return verifyAppJwt(credential);
    throw badCredentials();
  }

  function canSee(principal: Principal, state: RepoState): boolean {
    if (principal.kind === 'user') return true;
    if (principal.kind !== 'installation') return false;
    const { token } = principal;
    if (!installationReaches(token.installation, state)) return false;
    return token.repositoryIds === null || token.repositoryIds.has(state.repo.id);
  }

  function visibleRepo(ctx: RequestContext, params: Record<string, string>): RepoState {
    const state = repos.get(`${params.owner}/${params.repo}`.toLowerCase());
    if (!state || !canSee(ctx.principal, state)) throw notFound();
    return state;
  }

  // --- pagination ----------------------------------------------------------------------------------

  function pageParams(query: URLSearchParams): { page: number; perPage: number } {
    const rawPage = Number.parseInt(query.get('page') ?? '1', 10);
    const rawPerPage = Number.parseInt(query.get('per_page') ?? '30', 10);
    return {
      page: Number.isFinite(rawPage) && rawPage > 0 ? rawPage : 1,
      perPage: Number.isFinite(rawPerPage) && rawPerPage > 0 ? Math.min(rawPerPage, 100) : 30,
    };
  }

  /** GitHub's Link header: prev, next, last, first (each only when it differs from this page). */
  function linkHeader(ctx: RequestContext, page: number, perPage: number, total: number): Record<string, string> {
    const lastPage = Math.max(1, Math.ceil(total / perPage));
    if (page === 1 && lastPage === 1) return {};
    const link = (target: number, rel: string): string => {
      const query = new URLSearchParams(ctx.query);
      query.delete('page');
      query.set('page', String(target));
      return `<${bases.api}${ctx.path}?${query.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'));
    if (page < lastPage) links.push(link(page + 1, 'next'), link(lastPage, 'last'));
    if (page > 1) links.push(link(1, 'first'));
    return { link: links.join(', ') };
  }

  /** A page of `total` items read by `read(offset, count)`; `wrap` shapes the body (e.g. `{ total_count, … }`). */
  function pagedReply<T>(
    ctx: RequestContext,
    total: number,
    read: (offset: number, count: number) => T[],
    wrap?: (items: T[]) => unknown,
  ): Reply {
    const { page, perPage } = pageParams(ctx.query);
    const offset = (page - 1) * perPage;
    const items = offset < total ? read(offset, perPage) : [];
    return { status: 200, body: wrap ? wrap(items) : items, headers: linkHeader(ctx, page, perPage, total) };
  }

  function arrayReply<T>(ctx: RequestContext, items: readonly T[], wrap?: (items: T[]) => unknown): Reply {
    return pagedReply(ctx, items.length, (offset, count) => items.slice(offset, offset + count), wrap);
  }

  function listFromSorted<T, R>(
    ctx: RequestContext,
    list: SortedList<T>,
    descending: boolean,
    render: (value: T) => R,
    from = 0,
    to = list.length,
  ): Reply {
    return pagedReply(ctx, Math.max(0, to - from), (offset, count) =>
      list.slice(from, to, offset, count, descending).map(render),
    );
  }

  // --- list endpoints ----------------------------------------------------------------------------

  function listIssueLike(ctx: RequestContext, state: RepoState, kind: 'issues' | 'pulls'): Reply {
    const q = ctx.query;
    const stateName = oneOf(q.get('state'), ['open', 'closed', 'all'] as const, 'open', 'state');
    const sorts =
      kind === 'issues'
        ? (['created', 'updated', 'comments'] as const)
        : (['created', 'updated', 'popularity', 'long-running'] as const);
    const sort = oneOf(q.get('sort'), sorts, 'created', 'sort');
    const defaultDirection = kind === 'pulls' && sort !== 'created' ? 'asc' : 'desc';
    const descending = oneOf(q.get('direction'), ['asc', 'desc'] as const, defaultDirection, 'direction') === 'desc';
    const sinceParam = kind === 'issues' ? q.get('since') : null;
    const sinceMs = sinceParam === null ? null : parseTime(sinceParam, 'since');
    const lists = (kind === 'issues' ? state.issueLists : state.pullLists)[stateName];
    const render =
      kind === 'issues'
        ? (record: IssueRecord): unknown => record.issue
        : (record: IssueRecord): unknown => pullRequestSimple(record.pull as GitHubPullRequest);

    const filters: ((record: IssueRecord) => boolean)[] = [];
    const labelNames = q.get('labels');
    if (kind === 'issues' && labelNames) {
      const wanted = labelNames.split(',').map((name) => name.trim().toLowerCase());
      filters.push((r) =>
        wanted.every((name) => r.issue.labels.some((l) => typeof l !== 'string' && l.name?.toLowerCase() === name)),
      );
    }
    const creator = kind === 'issues' ? q.get('creator') : null;
    if (creator) filters.push((r) => r.issue.user?.login.toLowerCase() === creator.toLowerCase());
    const assignee = kind === 'issues' ? q.get('assignee') : null;
    if (assignee === 'none') filters.push((r) => (r.issue.assignees ?? []).length === 0);
    else if (assignee === '*') filters.push((r) => (r.issue.assignees ?? []).length > 0);
    else if (assignee)
      filters.push((r) => (r.issue.assignees ?? []).some((u) => u.login.toLowerCase() === assignee.toLowerCase()));
    const head = kind === 'pulls' ? q.get('head') : null;
    if (head) filters.push((r) => r.pull?.head.label === head || r.pull?.head.ref === head);
    const base = kind === 'pulls' ? q.get('base') : null;
    if (base) filters.push((r) => r.pull?.base.ref === base);

    const byKey = sort === 'updated' ? lists.updated : lists.created;
    const simple = filters.length === 0 && (sort === 'created' || sort === 'updated');
    if (simple && (sinceMs === null || sort === 'updated')) {
      const from = sinceMs === null ? 0 : lists.updated.lowerBound(sinceMs);
      return listFromSorted(ctx, byKey, descending, render, from);
    }
    // Filtered or unusual orders: materialize the candidates (those updated since `since`, if given).
    let candidates = sinceMs === null ? byKey.values() : lists.updated.values(lists.updated.lowerBound(sinceMs));
    for (const keep of filters) candidates = candidates.filter(keep);
    const sortKey = (r: IssueRecord): number => {
      if (sort === 'updated') return r.updatedMs;
      if (sort === 'comments' || sort === 'popularity') return r.issue.comments;
      if (sort === 'long-running') return -r.createdMs;
      return r.createdMs;
    };
    candidates.sort((a, b) => sortKey(a) - sortKey(b) || a.issue.id - b.issue.id);
    if (descending) candidates.reverse();
    return arrayReply(ctx, candidates.map(render));
  }

  function listRepoComments(ctx: RequestContext, state: RepoState): Reply {
    const q = ctx.query;
    const sortParam = q.get('sort');
    const sort = oneOf(sortParam, ['created', 'updated'] as const, 'created', 'sort');
    // GitHub ignores `direction` without `sort` and then lists oldest first.
    const descending =
      sortParam === null ? false : oneOf(q.get('direction'), ['asc', 'desc'] as const, 'desc', 'direction') === 'desc';
    const sinceParam = q.get('since');
    const render = (record: CommentRecord): GitHubIssueComment => record.comment;
    if (sinceParam === null) return listFromSorted(ctx, state.commentLists[sort], descending, render);
    const sinceMs = parseTime(sinceParam, 'since');
    const from = state.commentLists.updated.lowerBound(sinceMs);
    if (sort === 'updated') return listFromSorted(ctx, state.commentLists.updated, descending, render, from);
    const candidates = state.commentLists.updated.values(from);
    candidates.sort((a, b) => a.createdMs - b.createdMs || a.comment.id - b.comment.id);
    if (descending) candidates.reverse();
    return arrayReply(ctx, candidates.map(render));
  }

  function issueOrGone(state: RepoState, numberText: string): IssueRecord {
    const number = Number(numberText);
    if (!Number.isInteger(number)) throw notFound();
    const record = state.issues.get(number);
    if (record) return record;
    if (state.deletedIssues.has(number)) throw new ApiError(410, 'This issue was deleted');
    throw notFound();
  }

  function listRepos(ctx: RequestContext, candidates: RepoState[], defaultSort: 'created' | 'full_name'): Reply {
    const q = ctx.query;
    const sort = oneOf(q.get('sort'), ['created', 'updated', 'pushed', 'full_name'] as const, defaultSort, 'sort');
    const defaultDirection = sort === 'full_name' ? 'asc' : 'desc';
    const descending = oneOf(q.get('direction'), ['asc', 'desc'] as const, defaultDirection, 'direction') === 'desc';
    const type = q.get('type') ?? 'all';
    let visible = candidates.filter((s) => canSee(ctx.principal, s));
    if (type === 'public') visible = visible.filter((s) => !s.repo.private);
    if (type === 'private') visible = visible.filter((s) => s.repo.private);
    if (type === 'forks') visible = visible.filter((s) => s.repo.fork);
    if (type === 'sources') visible = visible.filter((s) => !s.repo.fork);
    const key = (s: RepoState): string | number =>
      sort === 'full_name'
        ? s.repo.full_name.toLowerCase()
        : sort === 'created'
          ? s.createdMs
          : toMs(sort === 'updated' ? s.repo.updated_at : s.repo.pushed_at, 0);
    visible.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka < kb ? -1 : ka > kb ? 1 : a.repo.id - b.repo.id;
    });
    if (descending) visible.reverse();
    return arrayReply(
      ctx,
      visible.map((s) => listedRepository(s.repo)),
    );
  }

  /** Lists carry the repository without the counts only GET /repos/{owner}/{repo} computes. */
  function listedRepository(repo: GitHubRepositoryRecord): Partial<GitHubRepositoryRecord> {
    const { network_count: _network, subscribers_count: _subscribers, ...listed } = repo;
    return listed;
  }

  function reposOwnedBy(login: string): RepoState[] {
    const owner = users.get(login.toLowerCase());
    if (!owner) throw notFound();
    return [...repos.values()].filter((s) => s.repo.owner.id === owner.id);
  }

  function installationFor(accountLogin: string): InstallationRecord {
    const account = users.get(accountLogin.toLowerCase());
    const found = account && [...installations.values()].find((r) => r.account.id === account.id);
    if (!found) throw notFound();
    return found;
  }

  function rateLimitOverview(principal: Principal): GitHubRateLimitOverview {
    const core = snapshot(bucketFor(principal.key, 'core'), 'core');
    const graphqlLimit = snapshot(bucketFor(principal.key, 'graphql'), 'graphql');
    const plain = (s: RateLimitSnapshot) => ({ limit: s.limit, remaining: s.remaining, reset: s.reset, used: s.used });
    const searchReset = Math.ceil(Date.now() / 1000) + 60;
    return {
      resources: {
        core: plain(core),
        graphql: plain(graphqlLimit),
        search: { limit: 30, remaining: 30, reset: searchReset, used: 0 },
        code_search: { limit: 10, remaining: 10, reset: searchReset, used: 0 },
      },
      rate: plain(core),
    };
  }

  // --- routes ------------------------------------------------------------------------------------

  const routes: Route[] = [];
  const route = (method: string, pattern: string, handler: Handler, auth: 'app' | 'any' = 'any'): void => {
    routes.push({ method, parts: pattern.split('/').filter(Boolean), auth, handler });
  };
  const ok = (body: unknown, lastModified?: string | null): Reply => {
    const reply: Reply = { status: 200, body };
    if (lastModified) reply.lastModifiedMs = Date.parse(lastModified);
    return reply;
  };
  const requireUser = (ctx: RequestContext): GitHubUser => {
    if (ctx.principal.kind !== 'user') throw notAccessibleByIntegration();
    return ctx.principal.user;
  };

  route('GET', '/rate_limit', (ctx) => ok(rateLimitOverview(ctx.principal)));
  route('GET', '/user', (ctx) => ok(requireUser(ctx)));
  route('GET', '/user/repos', (ctx) => {
    requireUser(ctx);
    return listRepos(ctx, [...repos.values()], 'full_name');
  });
  route('GET', '/users/:user', (_ctx, p) => {
    const user = users.get((p.user as string).toLowerCase());
    if (!user) throw notFound();
    return ok(user);
  });
  route('GET', '/orgs/:org', (_ctx, p) => {
    const org = users.get((p.org as string).toLowerCase());
    if (org?.type !== 'Organization') throw notFound();
    return ok(org);
  });
  route('GET', '/orgs/:org/repos', (ctx, p) => {
    const org = users.get((p.org as string).toLowerCase());
    if (org?.type !== 'Organization') throw notFound();
    return listRepos(ctx, reposOwnedBy(org.login), 'created');
  });
  route('GET', '/users/:user/repos', (ctx, p) => listRepos(ctx, reposOwnedBy(p.user as string), 'full_name'));
  route('GET', '/installation/repositories', (ctx) => {
    if (ctx.principal.kind !== 'installation') {
      throw new ApiError(
        403,
        'You must authenticate with an installation access token in order to list repositories for an installation.',
      );
    }
    const visible = [...repos.values()]
      .filter((s) => canSee(ctx.principal, s))
      .sort((a, b) => a.repo.id - b.repo.id)
      .map((s) => s.repo);
    const selection = ctx.principal.token.installation.installation.repository_selection;
    return arrayReply(ctx, visible, (items) => ({
      total_count: visible.length,
      repository_selection: selection,
      repositories: items,
    }));
  });

  route('GET', '/app', () => ok(app()), 'app');
  route(
    'GET',
    '/app/installations',
    (ctx) =>
      arrayReply(
        ctx,
        [...installations.values()].map((r) => r.installation),
      ),
    'app',
  );
  route(
    'GET',
    '/app/installations/:id',
    (_ctx, p) => {
      const record = installations.get(Number(p.id));
      if (!record) throw notFound();
      return ok(record.installation);
    },
    'app',
  );
  route(
    'POST',
    '/app/installations/:id/access_tokens',
    (ctx, p) => {
      const record = installations.get(Number(p.id));
      if (!record) throw notFound();
      let body: { repositories?: unknown; repository_ids?: unknown; permissions?: unknown } = {};
      if (ctx.body.trim() !== '') {
        try {
          body = JSON.parse(ctx.body);
        } catch {
          throw new ApiError(400, 'Problems parsing JSON');
        }
      }
      let repositoryIds: Set<number> | null = null;
      const narrowed: RepoState[] = [];
      const inaccessible = () =>
        new ApiError(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        );
      if (Array.isArray(body.repositories)) {
        for (const name of body.repositories) {
          const state = repos.get(`${record.account.login}/${String(name)}`.toLowerCase());
          if (!state || !installationReaches(record, state)) throw inaccessible();
          narrowed.push(state);
        }
      }
      if (Array.isArray(body.repository_ids)) {
        for (const id of body.repository_ids) {
          const state = reposById.get(Number(id));
          if (!state || !installationReaches(record, state)) throw inaccessible();
          narrowed.push(state);
        }
      }
      if (narrowed.length > 0) repositoryIds = new Set(narrowed.map((s) => s.repo.id));
      const token = `ghs_${randomAlnum(36)}`;
      const expiresMs = Date.now() + tokenTtlSeconds * 1000;
      installationTokens.set(token, { installation: record, expiresMs, repositoryIds });
      const permissions =
        body.permissions && typeof body.permissions === 'object'
          ? (body.permissions as Record<string, string>)
          : { ...DEFAULT_APP_PERMISSIONS };
      const response: Record<string, unknown> = {
        token,
        expires_at: isoSeconds(expiresMs),
        permissions,
        repository_selection: repositoryIds ? 'selected' : record.installation.repository_selection,
      };
      if (repositoryIds) response.repositories = narrowed.map((s) => s.repo);
      return { status: 201, body: response };
    },
    'app',
  );
  route('GET', '/orgs/:org/installation', (_ctx, p) => ok(installationFor(p.org as string).installation), 'app');
  route('GET', '/users/:user/installation', (_ctx, p) => ok(installationFor(p.user as string).installation), 'app');
  route(
    'GET',
    '/repos/:owner/:repo/installation',
    (_ctx, p) => {
      const state = repos.get(`${p.owner}/${p.repo}`.toLowerCase());
      const found = state && [...installations.values()].find((r) => installationReaches(r, state));
      if (!found) throw notFound();
      return ok(found.installation);
    },
    'app',
  );

  route('GET', '/repos/:owner/:repo', (ctx, p) => {
    const { repo } = visibleRepo(ctx, p);
    return ok(repo, repo.updated_at);
  });
  route('GET', '/repos/:owner/:repo/issues', (ctx, p) => listIssueLike(ctx, visibleRepo(ctx, p), 'issues'));
  route('GET', '/repos/:owner/:repo/issues/comments', (ctx, p) => listRepoComments(ctx, visibleRepo(ctx, p)));
  route('GET', '/repos/:owner/:repo/issues/comments/:id', (ctx, p) => {
    const record = visibleRepo(ctx, p).comments.get(Number(p.id));
    if (!record) throw notFound();
    return ok(record.comment, record.comment.updated_at);
  });
  route('GET', '/repos/:owner/:repo/issues/:number', (ctx, p) => {
    const record = issueOrGone(visibleRepo(ctx, p), p.number as string);
    return ok(record.issue, record.issue.updated_at);
  });
  route('GET', '/repos/:owner/:repo/issues/:number/comments', (ctx, p) => {
    const record = issueOrGone(visibleRepo(ctx, p), p.number as string);
    const sinceParam = ctx.query.get('since');
    const render = (c: CommentRecord): GitHubIssueComment => c.comment;
    if (sinceParam === null) return listFromSorted(ctx, record.comments, false, render);
    const sinceMs = parseTime(sinceParam, 'since');
    return arrayReply(
      ctx,
      record.comments
        .values()
        .filter((c) => c.updatedMs >= sinceMs)
        .map(render),
    );
  });
  route('GET', '/repos/:owner/:repo/pulls', (ctx, p) => listIssueLike(ctx, visibleRepo(ctx, p), 'pulls'));
  route('GET', '/repos/:owner/:repo/pulls/:number', (ctx, p) => {
    const record = visibleRepo(ctx, p).issues.get(Number(p.number));
    if (!record?.pull) throw notFound();
    return ok(record.pull, record.pull.updated_at);
  });
  route('GET', '/repos/:owner/:repo/pulls/:number/reviews', (ctx, p) => {
    const record = visibleRepo(ctx, p).issues.get(Number(p.number));
    if (!record?.pull) throw notFound();
    return arrayReply(ctx, record.reviews);
  });
  route('GET', '/repos/:owner/:repo/pulls/:number/reviews/:id', (ctx, p) => {
    const record = visibleRepo(ctx, p).issues.get(Number(p.number));
    const review = record?.pull ? record.reviews.find((r) => r.id === Number(p.id)) : undefined;
    if (!review) throw notFound();
    return ok(review);
  });
  route('GET', '/repos/:owner/:repo/releases', (ctx, p) =>
    listFromSorted(ctx, visibleRepo(ctx, p).releases, true, (r) => r),
  );
  route('GET', '/repos/:owner/:repo/releases/:id', (ctx, p) => {
    const release = visibleRepo(ctx, p).releasesById.get(Number(p.id));
    if (!release) throw notFound();
    return ok(release);
  });
  route('GET', '/repos/:owner/:repo/branches', (ctx, p) => {
    let branches = [...visibleRepo(ctx, p).branches.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const protectedParam = ctx.query.get('protected');
    if (protectedParam !== null) branches = branches.filter((b) => b.protected === (protectedParam === 'true'));
    return arrayReply(ctx, branches);
  });
  route('GET', '/repos/:owner/:repo/branches/:branch', (ctx, p) => {
    const branch = visibleRepo(ctx, p).branches.get(p.branch as string);
    if (!branch) throw new ApiError(404, 'Branch not found');
    return ok(branch);
  });
  route('GET', '/repos/:owner/:repo/commits', (ctx, p) => {
    const state = visibleRepo(ctx, p);
    const q = ctx.query;
    let from = 0;
    let to = state.commits.length;
    const since = q.get('since');
    if (since !== null) from = state.commits.lowerBound(parseTime(since, 'since'));
    const until = q.get('until');
    if (until !== null)
      to = Math.min(to, state.commits.lowerBound(parseTime(until, 'until'), Number.POSITIVE_INFINITY));
    const ref = q.get('sha');
    if (ref !== null) {
      // History is linear here: a ref reaches every commit up to its own.
      const sha = state.branches.get(ref)?.commit.sha ?? ref;
      const target = state.commitsBySha.get(sha);
      if (!target) throw new ApiError(404, `No commit found for SHA: ${ref}`);
      to = Math.min(to, state.commits.lowerBound(target.dateMs, target.seq) + 1);
    }
    const author = q.get('author');
    if (author !== null) {
      const matching = state.commits
        .values(from, Math.max(from, to))
        .filter((c) => c.author?.login.toLowerCase() === author.toLowerCase())
        .reverse();
      return arrayReply(ctx, matching);
    }
    return listFromSorted(ctx, state.commits, true, (c) => c, from, Math.max(from, to));
  });
  route('GET', '/repos/:owner/:repo/commits/:ref', (ctx, p) => {
    const state = visibleRepo(ctx, p);
    const sha = state.branches.get(p.ref as string)?.commit.sha ?? (p.ref as string);
    const found = state.commitsBySha.get(sha);
    if (!found) throw new ApiError(422, `No commit found for SHA: ${p.ref}`);
    return ok(found.commit);
  });
  route('GET', '/repos/:owner/:repo/actions/runs', (ctx, p) => {
    const state = visibleRepo(ctx, p);
    const q = ctx.query;
    const filters: ((run: GitHubWorkflowRun) => boolean)[] = [];
    const actor = q.get('actor');
    if (actor) filters.push((r) => r.actor?.login.toLowerCase() === actor.toLowerCase());
    const branch = q.get('branch');
    if (branch) filters.push((r) => r.head_branch === branch);
    const event = q.get('event');
    if (event) filters.push((r) => r.event === event);
    const status = q.get('status');
    if (status) filters.push((r) => r.status === status || r.conclusion === status);
    const headSha = q.get('head_sha');
    if (headSha) filters.push((r) => r.head_sha === headSha);
    const created = q.get('created');
    const [fromMs, toMsInclusive] = created ? parseDateRange(created, 'created') : [null, null];
    const wrap = (items: GitHubWorkflowRun[], total: number) => ({ total_count: total, workflow_runs: items });
    let from = 0;
    let to = state.runs.length;
    if (fromMs !== null && toMsInclusive !== null) {
      from = Number.isFinite(fromMs) ? state.runs.lowerBound(fromMs) : 0;
      to = Number.isFinite(toMsInclusive) ? state.runs.lowerBound(toMsInclusive, Number.POSITIVE_INFINITY) : to;
      to = Math.max(from, to);
    }
    if (filters.length === 0) {
      const total = to - from;
      return pagedReply(
        ctx,
        total,
        (offset, count) => state.runs.slice(from, to, offset, count, true),
        (items) => wrap(items, total),
      );
    }
    const matching = state.runs
      .values(from, to)
      .filter((r) => filters.every((keep) => keep(r)))
      .reverse();
    return arrayReply(ctx, matching, (items) => wrap(items, matching.length));
  });
  route('GET', '/repos/:owner/:repo/actions/runs/:id', (ctx, p) => {
    const run = visibleRepo(ctx, p).runsById.get(Number(p.id));
    if (!run) throw notFound();
    return ok(run, run.updated_at);
  });
  route('GET', '/repos/:owner/:repo/deployments', (ctx, p) => {
    const state = visibleRepo(ctx, p);
    const q = ctx.query;
    const filters = (['sha', 'ref', 'task', 'environment'] as const)
      .map((field) => [field, q.get(field)] as const)
      .filter((entry): entry is readonly [(typeof entry)[0], string] => entry[1] !== null);
    if (filters.length === 0) return listFromSorted(ctx, state.deployments, true, (d) => d);
    const matching = state.deployments
      .values()
      .filter((d) => filters.every(([field, value]) => d[field] === value))
      .reverse();
    return arrayReply(ctx, matching);
  });
  route('GET', '/repos/:owner/:repo/deployments/:id', (ctx, p) => {
    const deployment = visibleRepo(ctx, p).deploymentsById.get(Number(p.id));
    if (!deployment) throw notFound();
    return ok(deployment);
  });
  const visibleTeams = (ctx: RequestContext, orgLogin: string): Map<string, TeamRecord> => {
    const teams = orgTeams.get(orgLogin.toLowerCase());
    if (!teams) throw notFound();
    const { principal } = ctx;
    if (
      principal.kind === 'installation' &&
      principal.token.installation.account.login.toLowerCase() !== orgLogin.toLowerCase()
    ) {
      throw notFound();
    }
    return teams;
  };
  route('GET', '/orgs/:org/teams', (ctx, p) => {
    const teams = [...visibleTeams(ctx, p.org as string).values()]
      .map((r) => r.team)
      .sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id);
    return arrayReply(ctx, teams);
  });
  route('GET', '/orgs/:org/teams/:slug', (ctx, p) => {
    const record = visibleTeams(ctx, p.org as string).get(p.slug as string);
    if (!record) throw notFound();
    return ok(record.team);
  });
  route('GET', '/orgs/:org/teams/:slug/members', (ctx, p) => {
    const record = visibleTeams(ctx, p.org as string).get(p.slug as string);
    if (!record) throw notFound();
    const role = oneOf(ctx.query.get('role'), ['all', 'member', 'maintainer'] as const, 'all', 'role');
    const members = record.members.filter((m) => role === 'all' || m.role === role).map((m) => m.user);
    return arrayReply(ctx, members);
  });

  route('GET', '/orgs/:org/teams/:slug/memberships/:username', (ctx, p) => {
    const record = visibleTeams(ctx, p.org as string).get(p.slug as string);
    const member = record?.members.find((m) => m.user.login === p.username);
    if (!record || !member) throw notFound();
    return ok({
      url: `${bases.api}/organizations/${record.team.id}/team/${record.team.id}/memberships/${member.user.login}`,
      role: member.role,
      state: 'active',
    });
  });

  route('POST', '/graphql', async (ctx) => {
    let request: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      request = JSON.parse(ctx.body);
    } catch {
      throw new ApiError(400, 'Problems parsing JSON', {
        documentation_url: 'https://docs.github.com/graphql',
      });
    }
    const principal = ctx.principal;
    const backend: GraphqlBackend = {
      findRepository: (owner, name) => {
        const state = repos.get(`${owner}/${name}`.toLowerCase());
        return state && canSee(principal, state) ? state : null;
      },
      viewer: () =>
        principal.kind === 'user'
          ? principal.user
          : (users.get(`${appSlug}[bot]`) ?? addAccount(`${appSlug}[bot]`, 'Bot')),
      // The request being answered already counts, as on GitHub.
      rateLimit: () => {
        const s = snapshot(bucketFor(principal.key, 'graphql'), 'graphql');
        return { ...s, used: s.used + 1, remaining: Math.max(0, s.remaining - 1) };
      },
    };
    return { status: 200, body: await executeGraphql(backend, request) };
  });

  function match(method: string, path: string): { route: Route; params: Record<string, string> } | null {
    let segments: string[];
    try {
      segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return null;
    }
    for (const candidate of routes) {
      if (candidate.parts.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      for (let i = 0; i < segments.length && matched; i++) {
        const part = candidate.parts[i] as string;
        const segment = segments[i] as string;
        if (part.startsWith(':')) params[part.slice(1)] = segment;
        else matched = part === segment;
      }
      if (matched && candidate.method === method) return { route: candidate, params };
    }
    return null;
  }

  // --- HTTP ----------------------------------------------------------------------------------------

  function takeFault(path: string, method: string): Fault | null {
    for (const fault of faults) {
      if (fault.remaining > 0 && (!fault.match || fault.match(path, method))) {
        fault.remaining--;
        faults = faults.filter((f) => f.remaining > 0);
        return fault;
      }
    }
    return null;
  }

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    stats.inFlight++;
    const handled = handle(req, res).finally(() => stats.inFlight--);
    handled.catch((error: unknown) => {
      if (res.destroyed) return;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({ message: `github-server crashed: ${String(error)}`, documentation_url: DOCS, status: '500' }),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body = '';
    if (method !== 'GET' && method !== 'HEAD') for await (const chunk of req) body += chunk;
    const record: GitHubRequestRecord = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      status: 0,
      principal: null,
      at: Date.now(),
    };
    requests.push(record);
    stats.received++;
    if (latencyMs > 0) await sleep(latencyMs);
    const requestId = `${randomBytes(2).toString('hex').toUpperCase()}:${randomBytes(3).toString('hex').toUpperCase()}:${randomBytes(4).toString('hex').toUpperCase()}`;

    const send = (status: number, payload: string | Buffer | null, headers: Record<string, string>): void => {
      if (res.destroyed) return;
      record.status = status;
      const common: Record<string, string> = {
        'x-github-request-id': requestId,
        'x-github-api-version-selected': '2022-11-28',
        'x-github-media-type': 'github.v3; format=json',
        vary: 'Accept, Authorization, Cookie, X-GitHub-OTP',
        'x-content-type-options': 'nosniff',
      };
      if (payload !== null) {
        common['content-type'] = 'application/json; charset=utf-8';
        common['content-length'] = String(Buffer.byteLength(payload));
      }
      res.writeHead(status, { ...common, ...headers });
      res.end(payload ?? undefined);
    };
    const sendError = (error: ApiError, extra: Record<string, string>): void => {
      send(error.status, JSON.stringify(error.body), { ...extra, ...error.headers });
    };

    // Until a credential is known, the headers show the anonymous limit GitHub applies.
    let rate: Record<string, string> = {
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '60',
      'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 3600),
      'x-ratelimit-used': '0',
      'x-ratelimit-resource': 'core',
    };
    try {
      const fault = takeFault(url.pathname, method);
      if (fault) {
        stats.injectedFailures++;
        if (fault.status === 0) {
          req.socket.destroy();
          return;
        }
        throw new ApiError(
          fault.status,
          fault.status >= 500 ? 'Server Error' : (STATUS_CODES[fault.status] ?? 'Error'),
        );
      }
      const principal = authenticate(req);
      const found = match(method, url.pathname);
      if (!principal) throw found ? new ApiError(401, 'Requires authentication') : notFound();
      record.principal = principal.key;
      const resource = url.pathname === '/graphql' ? 'graphql' : 'core';
      const bucket = bucketFor(principal.key, resource);
      rate = rateHeaders(bucket, resource);

      if (secondary.remaining > 0) {
        secondary.remaining--;
        stats.secondaryLimited++;
        throw new ApiError(
          secondary.status,
          `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId}.`,
          { documentation_url: SECONDARY_LIMIT_DOCS, headers: { 'retry-after': String(secondary.retryAfter) } },
        );
      }
      // GitHub does not count calls to /rate_limit.
      const counts = url.pathname !== '/rate_limit';
      if (counts && remainingOf(bucket) === 0) {
        stats.primaryLimited++;
        const message = rateLimitExceededMessage(principal);
        if (resource === 'graphql') {
          // GraphQL answers an exhausted limit with 200 and a RATE_LIMITED error.
          send(200, JSON.stringify({ errors: [{ type: 'RATE_LIMITED', message }] }), rate);
          return;
        }
        throw new ApiError(primaryLimitStatus, message, { documentation_url: RATE_LIMIT_DOCS });
      }

      const cacheKey = cacheReads && method === 'GET' ? `${principal.key}\n${url.pathname}${url.search}` : undefined;
      if (!cacheKey) readCache.clear();
      let rendered = cacheKey === undefined ? undefined : readCache.get(cacheKey);
      if (!rendered) {
        let reply: Reply;
        try {
          if (!found) throw notFound();
          if (found.route.auth === 'app' && principal.kind !== 'app')
            throw jwtError('A JSON web token could not be decoded');
          if (found.route.auth === 'any' && principal.kind === 'app') throw notAccessibleByIntegration();
          reply = await found.route.handler(
            { method, path: url.pathname, query: url.searchParams, principal, body },
            found.params,
          );
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          reply = { status: error.status, body: error.body, headers: error.headers };
        }
        const text = JSON.stringify(reply.body);
        rendered = { reply, payload: cacheKey ? Buffer.from(text) : text, etag: etagOf(text) };
        if (cacheKey) readCache.set(cacheKey, rendered);
      }
      const { reply, payload } = rendered;
      const headers: Record<string, string> = { ...reply.headers };
      if (method === 'GET' && reply.status === 200) {
        const etag = rendered.etag;
        headers.etag = etag;
        headers['cache-control'] = 'private, max-age=60, s-maxage=60';
        if (reply.lastModifiedMs !== undefined) headers['last-modified'] = new Date(reply.lastModifiedMs).toUTCString();
        const ifModifiedSince = req.headers['if-modified-since'];
        const unchanged =
          req.headers['if-none-match'] !== undefined
            ? etagMatches(req.headers['if-none-match'], etag)
            : ifModifiedSince !== undefined &&
              reply.lastModifiedMs !== undefined &&
              Math.floor(reply.lastModifiedMs / 1000) * 1000 <= Date.parse(ifModifiedSince);
        if (unchanged) {
          // A 304 costs nothing against the limit.
          stats.notModified++;
          delete headers.link;
          send(304, null, { ...rate, ...headers });
          return;
        }
      }
      if (counts) {
        bucket.used++;
        stats.counted++;
        rate = rateHeaders(bucket, resource);
      }
      if (principal.kind === 'user') {
        headers['x-oauth-scopes'] = 'repo, read:org';
        headers['x-accepted-oauth-scopes'] = '';
      }
      send(reply.status, payload, { ...rate, ...headers });
    } catch (error) {
      if (error instanceof ApiError) {
        sendError(error, rate);
        return;
      }
      throw error;
    }
  }

  async function listen(onPort: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  let listening = false;
  async function stopListening(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await listen(0);
  listening = true;
  port = (server.address() as AddressInfo).port;
  bases.api = `http://${host}:${port}`;

  const tokenUser = addAccount(tokenUserLogin, 'User');
  personalTokens.set(personalToken, tokenUser);

  const appCredentials: AppCredentials = {
    id: appId,
    slug: appSlug,
    clientId: appClientId,
    get privateKey() {
      return appKeyPair().privateKeyPem;
    },
  };

  const api: GitHubServer = {
    url: bases.api,
    host,
    port,
    token: personalToken,
    user: tokenUser,
    app: appCredentials,
    close: stopListening,
    down: stopListening,
    up: async () => {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    now,
    setNow: (ms) => {
      frozenNow = ms;
    },

    addUser: (login, overrides) => addAccount(login, 'User', overrides),
    addOrganization: (login, overrides) => addAccount(login, 'Organization', overrides),
    addPersonalToken: (login, token = `ghp_${randomAlnum(36)}`) => {
      personalTokens.set(token, resolveUser(login));
      return token;
    },
    addRepository,
    addIssue: (repo, input = {}) => createIssueRecord(mustRepo(repo), input, false, false).issue,
    addPullRequest: (repo, input = {}) =>
      createIssueRecord(mustRepo(repo), input, true, false).pull as GitHubPullRequest,
    addIssueComment: (repo, number, input = {}) => addIssueComment(mustRepo(repo), number, input, false),
    addPullRequestReview: (repo, number, input = {}) => addReview(mustRepo(repo), number, input),
    addRelease: (repo, input = {}) => addRelease(mustRepo(repo), input, false),
    addBranch: (repo, name, input = {}) => addBranch(mustRepo(repo), name, input),
    addCommit: (repo, input = {}) => addCommit(mustRepo(repo), input, false),
    addWorkflowRun: (repo, input = {}) => addWorkflowRun(mustRepo(repo), input, false),
    addDeployment: (repo, input = {}) => addDeployment(mustRepo(repo), input, false),
    addTeam,
    addTeamMember,
    addDiscussion: (repo, input = {}) => addDiscussion(mustRepo(repo), input, false),
    addDiscussionComment: (repo, number, input = {}) => addDiscussionComment(mustRepo(repo), number, input),
    addInstallation,
    updateIssue,
    updateDiscussion: (repo, number, changes) => {
      const state = mustRepo(repo);
      const record = mustDiscussion(state, number);
      const { author, category: categoryName, ...rest } = changes;
      state.discussionsByUpdated.remove(record.updatedMs, record.discussion.databaseId);
      record.updatedMs = changes.updatedAt ? toMs(changes.updatedAt, now()) : Math.max(now(), record.updatedMs);
      const wasClosed = record.discussion.closed;
      Object.assign(record.discussion, rest, { updatedAt: isoSeconds(record.updatedMs) });
      if (author !== undefined) record.discussion.author = author === null ? null : resolveUser(author);
      if (categoryName !== undefined) record.discussion.category = category(state, categoryName);
      if (record.discussion.closed && !wasClosed) record.discussion.closedAt ??= record.discussion.updatedAt;
      if (!record.discussion.closed) record.discussion.closedAt = null;
      state.discussionsByUpdated.insert(record.updatedMs, record.discussion.databaseId, record);
      return record.discussion;
    },
    updateIssueComment: (repo, commentId, changes) => {
      const state = mustRepo(repo);
      const record = state.comments.get(commentId);
      if (!record) throw new Error(`github-server: no comment ${commentId} in ${state.repo.full_name}`);
      unindexComment(state, record);
      const { user, ...rest } = changes;
      record.updatedMs = changes.updated_at ? toMs(changes.updated_at, now()) : Math.max(now(), record.updatedMs);
      Object.assign(record.comment, rest, { updated_at: isoSeconds(record.updatedMs) });
      if (user !== undefined) record.comment.user = resolveUser(user);
      indexComment(state, record, false);
      return record.comment;
    },
    deleteIssue,
    deleteIssueComment: (repo, commentId) => {
      const state = mustRepo(repo);
      const record = state.comments.get(commentId);
      if (!record) throw new Error(`github-server: no comment ${commentId} in ${state.repo.full_name}`);
      unindexComment(state, record);
      record.issue.issue.comments -= 1;
      if (record.issue.pull) record.issue.pull.comments -= 1;
    },
    seed,
    getRepository: (repo) => repos.get(repoKey(repo))?.repo,
    getIssue: (repo, number) => repos.get(repoKey(repo))?.issues.get(number)?.issue,
    getPullRequest: (repo, number) => repos.get(repoKey(repo))?.issues.get(number)?.pull ?? undefined,
    listIssues: (repo) => [...mustRepo(repo).issues.values()].map((r) => r.issue).sort((a, b) => a.number - b.number),
    repositories: () => [...repos.values()].map((s) => s.repo),

    setRateLimit: (changes) => {
      if (changes.windowSeconds !== undefined) limits.windowSeconds = changes.windowSeconds;
      if (changes.limit !== undefined) limits.limit = changes.limit;
      for (const bucket of buckets.values()) {
        bucket.limit = limits.limit;
        if (changes.remaining !== undefined) bucket.used = Math.max(0, bucket.limit - changes.remaining);
      }
      if (changes.remaining !== undefined) limits.initialRemaining = changes.remaining;
    },
    rateLimit: (resource = 'core', principal = `user:${tokenUser.id}`) =>
      snapshot(bucketFor(principal, resource), resource),
    secondaryLimitOnce: (count, retryAfterSeconds, status = 403) => {
      secondary.remaining = count;
      secondary.retryAfter = retryAfterSeconds;
      secondary.status = status;
    },
    failNext: (count, status = 500, matcher) => {
      faults.push({ remaining: count, status, match: matcher });
    },
    stats: () => ({ ...stats }),
    requests,
    requestCount: (pathPrefix, method) =>
      requests.filter(
        (r) =>
          (pathPrefix === undefined || r.path.startsWith(pathPrefix)) && (method === undefined || r.method === method),
      ).length,
    resetRequests: () => {
      requests.length = 0;
    },
  };
  // Any other call may change what GETs answer (seeding, edits, the clock): the cached answers go.
  const readOnly = new Set([
    'getRepository',
    'getIssue',
    'getPullRequest',
    'listIssues',
    'repositories',
    'rateLimit',
    'stats',
    'requestCount',
  ]);
  if (cacheReads)
    for (const [key, value] of Object.entries(api))
      if (typeof value === 'function' && !readOnly.has(key))
        Object.assign(api, {
          [key]: (...args: unknown[]) => {
            readCache.clear();
            return (value as (...a: unknown[]) => unknown)(...args);
          },
        });
  return api;
}
