/**
 * Builders for GitHub REST objects in their wire shapes (user, repository, issue, pull request,
 * comment, review, release, branch, commit, workflow run, deployment, team, label), typed against
 * Octokit's own response types so the compiler checks every required field. Used by the local
 * GitHub stand-in (github-server.ts) and directly by tests.
 *
 * API URLs (`url`, `repository_url`, `…_url`) point at the `api` base handed in (the stand-in's own
 * address), so a client following them reaches the stand-in; `html_url`s point at `web`.
 * Node ids use GitHub's legacy format (base64 of `0<len>:<Type><id>`, e.g. `MDU6SXNzdWUx` for
 * Issue 1), which GitHub still issues for old objects and accepts everywhere.
 */
import { createHash } from 'node:crypto';
import type { RestEndpointMethodTypes } from '@octokit/rest';

type Methods = RestEndpointMethodTypes;

export type GitHubUser = Methods['orgs']['listMembers']['response']['data'][number];
export type GitHubRepository = Methods['repos']['get']['response']['data'];
export type GitHubMinimalRepository = Methods['repos']['listForOrg']['response']['data'][number];
export type GitHubIssue = Methods['issues']['get']['response']['data'];
export type GitHubLabel = Methods['issues']['getLabel']['response']['data'];
export type GitHubPullRequest = Methods['pulls']['get']['response']['data'];
export type GitHubPullRequestSimple = Methods['pulls']['list']['response']['data'][number];
export type GitHubIssueComment = Methods['issues']['getComment']['response']['data'];
export type GitHubReview = Methods['pulls']['getReview']['response']['data'];
export type GitHubRelease = Methods['repos']['getRelease']['response']['data'];
export type GitHubBranch = Methods['repos']['listBranches']['response']['data'][number];
export type GitHubCommit = Methods['repos']['listCommits']['response']['data'][number];
export type GitHubWorkflowRun = Methods['actions']['getWorkflowRun']['response']['data'];
export type GitHubDeployment = Methods['repos']['getDeployment']['response']['data'];
export type GitHubTeam = Methods['teams']['list']['response']['data'][number];
export type GitHubInstallationToken = Methods['apps']['createInstallationAccessToken']['response']['data'];
export type GitHubApp = NonNullable<Methods['apps']['getAuthenticated']['response']['data']>;
export type GitHubInstallation = Methods['apps']['getInstallation']['response']['data'];
export type GitHubRateLimitOverview = Methods['rateLimit']['get']['response']['data'];
/** The `repository` schema embedded in pull requests' head/base and installation repository lists. */
export type GitHubEmbeddedRepository = GitHubPullRequest['base']['repo'];
/**
 * A repository as the stand-in stores it: one object that fits every repository schema GitHub
 * serves (full-repository from GET, minimal-repository in lists, repository in pull requests).
 */
export type GitHubRepositoryRecord = GitHubRepository & GitHubEmbeddedRepository & GitHubMinimalRepository;

export type UserType = 'User' | 'Organization' | 'Bot';

export interface UrlBases {
  /** Where API urls point, e.g. `http://127.0.0.1:PORT` (GitHub: https://api.github.com). */
  api: string;
  /** Where html urls point (GitHub: https://github.com). */
  web: string;
}

/** GitHub's legacy global node id: base64 of `0<len(Type)>:<Type><id>`. */
export function legacyNodeId(type: string, id: number): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

/** GitHub's timestamp format: ISO 8601, whole seconds, `Z` (2019-05-15T15:20:18Z). */
export function isoSeconds(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** A deterministic 40-hex git object id for `seed`. */
export function fakeSha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

export function buildUser(
  bases: UrlBases,
  login: string,
  id: number,
  type: UserType = 'User',
  overrides: Partial<GitHubUser> = {},
): GitHubUser {
  const api = `${bases.api}/users/${login}`;
  return {
    login,
    id,
    node_id: legacyNodeId(type === 'Organization' ? 'Organization' : type, id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `${bases.web}/${type === 'Bot' ? `apps/${login.replace(/\[bot\]$/, '')}` : login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false,
    ...overrides,
  };
}

export interface RepositoryInit {
  id: number;
  owner: GitHubUser;
  name: string;
  createdMs: number;
}

export function buildRepository(
  bases: UrlBases,
  init: RepositoryInit,
  overrides: Partial<GitHubRepositoryRecord> = {},
): GitHubRepositoryRecord {
  const { id, owner, name } = init;
  const fullName = `${owner.login}/${name}`;
  const api = `${bases.api}/repos/${fullName}`;
  const created = isoSeconds(init.createdMs);
  const isPrivate = overrides.private ?? false;
  return {
    id,
    node_id: legacyNodeId('Repository', id),
    name,
    full_name: fullName,
    private: isPrivate,
    owner,
    html_url: `${bases.web}/${fullName}`,
    description: `The ${name} repository`,
    fork: false,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    created_at: created,
    updated_at: created,
    pushed_at: created,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    clone_url: `${bases.web}/${fullName}.git`,
    svn_url: `${bases.web}/${fullName}`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'TypeScript',
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: true,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: 0,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: isPrivate ? 'private' : 'public',
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: 'main',
    permissions: { admin: true, maintain: true, push: true, triage: true, pull: true },
    network_count: 0,
    subscribers_count: 0,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: true,
    allow_auto_merge: false,
    allow_update_branch: false,
    delete_branch_on_merge: false,
    use_squash_pr_title_as_default: false,
    squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
    squash_merge_commit_message: 'COMMIT_MESSAGES',
    merge_commit_title: 'MERGE_MESSAGE',
    merge_commit_message: 'PR_TITLE',
    ...overrides,
  };
}

export function buildLabel(bases: UrlBases, repo: GitHubRepositoryRecord, id: number, name: string): GitHubLabel {
  return {
    id,
    node_id: legacyNodeId('Label', id),
    url: `${bases.api}/repos/${repo.full_name}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: createHash('md5').update(name).digest('hex').slice(0, 6),
    default: name === 'bug' || name === 'enhancement' || name === 'documentation',
  };
}

export interface IssueInit {
  id: number;
  number: number;
  repo: GitHubRepositoryRecord;
  user: GitHubUser;
  createdMs: number;
  /** Sets the `pull_request` marker GitHub puts on issues that are pull requests. */
  isPullRequest?: boolean;
}

export function buildIssue(bases: UrlBases, init: IssueInit, overrides: Partial<GitHubIssue> = {}): GitHubIssue {
  const { id, number, repo } = init;
  const api = `${bases.api}/repos/${repo.full_name}/issues/${number}`;
  const created = isoSeconds(init.createdMs);
  const issue: GitHubIssue = {
    url: api,
    repository_url: repo.url,
    labels_url: `${api}/labels{/name}`,
    comments_url: `${api}/comments`,
    events_url: `${api}/events`,
    html_url: `${bases.web}/${repo.full_name}/${init.isPullRequest ? 'pull' : 'issues'}/${number}`,
    id,
    node_id: legacyNodeId('Issue', id),
    number,
    title: `Issue ${number} of ${repo.name}`,
    user: init.user,
    labels: [],
    state: 'open',
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: 0,
    created_at: created,
    updated_at: created,
    closed_at: null,
    author_association: 'CONTRIBUTOR',
    active_lock_reason: null,
    body: `Body of issue ${number}.`,
    closed_by: null,
    reactions: {
      url: `${api}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
    timeline_url: `${api}/timeline`,
    performed_via_github_app: null,
    state_reason: null,
    draft: false,
    ...overrides,
  };
  if (init.isPullRequest) {
    const pulls = `${bases.web}/${repo.full_name}/pull/${number}`;
    issue.pull_request = {
      url: `${bases.api}/repos/${repo.full_name}/pulls/${number}`,
      html_url: pulls,
      diff_url: `${pulls}.diff`,
      patch_url: `${pulls}.patch`,
      merged_at: null,
    };
  }
  return issue;
}

export interface PullRequestInit {
  id: number;
  issue: GitHubIssue;
  user: GitHubUser;
  repo: GitHubRepositoryRecord;
  headRef: string;
  baseRef: string;
  headSha: string;
  baseSha: string;
}

/** The full pull request object, sharing number, title, state, users, labels and times with `issue`. */
export function buildPullRequest(
  bases: UrlBases,
  init: PullRequestInit,
  overrides: Partial<GitHubPullRequest> = {},
): GitHubPullRequest {
  const { id, issue, repo } = init;
  const api = `${bases.api}/repos/${repo.full_name}/pulls/${issue.number}`;
  const web = `${bases.web}/${repo.full_name}/pull/${issue.number}`;
  const link = (href: string): { href: string } => ({ href });
  const owner = repo.owner;
  return {
    url: api,
    id,
    node_id: legacyNodeId('PullRequest', id),
    html_url: web,
    diff_url: `${web}.diff`,
    patch_url: `${web}.patch`,
    issue_url: issue.url,
    commits_url: `${api}/commits`,
    review_comments_url: `${api}/comments`,
    review_comment_url: `${bases.api}/repos/${repo.full_name}/pulls/comments{/number}`,
    comments_url: issue.comments_url,
    statuses_url: `${bases.api}/repos/${repo.full_name}/statuses/${init.headSha}`,
    number: issue.number,
    state: issue.state === 'closed' ? 'closed' : 'open',
    locked: issue.locked,
    title: issue.title,
    user: init.user,
    body: issue.body ?? null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    merged_at: null,
    merge_commit_sha: null,
    assignee: issue.assignee,
    assignees: issue.assignees ?? [],
    requested_reviewers: [],
    requested_teams: [],
    head: { label: `${owner.login}:${init.headRef}`, ref: init.headRef, sha: init.headSha, user: owner, repo },
    base: { label: `${owner.login}:${init.baseRef}`, ref: init.baseRef, sha: init.baseSha, user: owner, repo },
    _links: {
      self: link(api),
      html: link(web),
      issue: link(issue.url),
      comments: link(issue.comments_url),
      review_comments: link(`${api}/comments`),
      review_comment: link(`${bases.api}/repos/${repo.full_name}/pulls/comments{/number}`),
      commits: link(`${api}/commits`),
      statuses: link(`${bases.api}/repos/${repo.full_name}/statuses/${init.headSha}`),
    },
    author_association: issue.author_association ?? 'CONTRIBUTOR',
    auto_merge: null,
    draft: false,
    merged: false,
    mergeable: true,
    rebaseable: true,
    mergeable_state: 'clean',
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 10,
    deletions: 2,
    changed_files: 1,
    ...overrides,
  };
}

/** The keys `GET /pulls/{n}` has and `GET /pulls` (pull-request-simple) leaves out. */
export const PULL_REQUEST_DETAIL_KEYS = [
  'merged',
  'mergeable',
  'rebaseable',
  'mergeable_state',
  'merged_by',
  'comments',
  'review_comments',
  'maintainer_can_modify',
  'commits',
  'additions',
  'deletions',
  'changed_files',
] as const;

export function pullRequestSimple(pull: GitHubPullRequest): GitHubPullRequestSimple {
  const simple: Partial<GitHubPullRequest> = { ...pull };
  for (const key of PULL_REQUEST_DETAIL_KEYS) delete simple[key];
  return simple as GitHubPullRequestSimple;
}

export interface IssueCommentInit {
  id: number;
  repo: GitHubRepositoryRecord;
  issue: GitHubIssue;
  user: GitHubUser;
  createdMs: number;
}

export function buildIssueComment(
  bases: UrlBases,
  init: IssueCommentInit,
  overrides: Partial<GitHubIssueComment> = {},
): GitHubIssueComment {
  const { id, repo, issue } = init;
  const created = isoSeconds(init.createdMs);
  const api = `${bases.api}/repos/${repo.full_name}/issues/comments/${id}`;
  return {
    url: api,
    html_url: `${issue.html_url}#issuecomment-${id}`,
    issue_url: issue.url,
    id,
    node_id: legacyNodeId('IssueComment', id),
    user: init.user,
    created_at: created,
    updated_at: created,
    author_association: 'CONTRIBUTOR',
    body: `Comment ${id} on #${issue.number}.`,
    reactions: {
      url: `${api}/reactions`,
      total_count: 0,
      '+1': 0,
      '-1': 0,
      laugh: 0,
      hooray: 0,
      confused: 0,
      heart: 0,
      rocket: 0,
      eyes: 0,
    },
    performed_via_github_app: null,
    ...overrides,
  };
}

export interface ReviewInit {
  id: number;
  repo: GitHubRepositoryRecord;
  pull: GitHubPullRequest;
  user: GitHubUser;
  submittedMs: number;
}

export function buildReview(init: ReviewInit, overrides: Partial<GitHubReview> = {}): GitHubReview {
  const { id, pull } = init;
  const html = `${pull.html_url}#pullrequestreview-${id}`;
  return {
    id,
    node_id: legacyNodeId('PullRequestReview', id),
    user: init.user,
    body: 'Looks good.',
    state: 'APPROVED',
    html_url: html,
    pull_request_url: pull.url,
    author_association: 'MEMBER',
    _links: { html: { href: html }, pull_request: { href: pull.url } },
    submitted_at: isoSeconds(init.submittedMs),
    commit_id: pull.head.sha,
    ...overrides,
  };
}

export interface ReleaseInit {
  id: number;
  repo: GitHubRepositoryRecord;
  author: GitHubUser;
  tagName: string;
  createdMs: number;
}

export function buildRelease(
  bases: UrlBases,
  init: ReleaseInit,
  overrides: Partial<GitHubRelease> = {},
): GitHubRelease {
  const { id, repo, tagName } = init;
  const api = `${bases.api}/repos/${repo.full_name}/releases/${id}`;
  const created = isoSeconds(init.createdMs);
  return {
    url: api,
    assets_url: `${api}/assets`,
    upload_url: `https://uploads.github.com/repos/${repo.full_name}/releases/${id}/assets{?name,label}`,
    html_url: `${bases.web}/${repo.full_name}/releases/tag/${tagName}`,
    id,
    author: init.author,
    node_id: legacyNodeId('Release', id),
    tag_name: tagName,
    target_commitish: repo.default_branch,
    name: tagName,
    draft: false,
    immutable: false,
    prerelease: false,
    created_at: created,
    updated_at: created,
    published_at: created,
    assets: [],
    tarball_url: `${bases.api}/repos/${repo.full_name}/tarball/${tagName}`,
    zipball_url: `${bases.api}/repos/${repo.full_name}/zipball/${tagName}`,
    body: `Release notes for ${tagName}.`,
    mentions_count: 0,
    ...overrides,
  };
}

export function buildBranch(
  bases: UrlBases,
  repo: GitHubRepositoryRecord,
  name: string,
  sha: string,
  overrides: Partial<GitHubBranch> = {},
): GitHubBranch {
  return {
    name,
    commit: { sha, url: `${bases.api}/repos/${repo.full_name}/commits/${sha}` },
    protected: name === repo.default_branch,
    ...overrides,
  };
}

export interface CommitInit {
  repo: GitHubRepositoryRecord;
  sha: string;
  author: GitHubUser;
  dateMs: number;
  parents: string[];
  message: string;
}

export function buildCommit(bases: UrlBases, init: CommitInit, overrides: Partial<GitHubCommit> = {}): GitHubCommit {
  const { repo, sha, author } = init;
  const api = `${bases.api}/repos/${repo.full_name}`;
  const date = isoSeconds(init.dateMs);
  const gitUser = { name: author.name ?? author.login, email: `${author.login}@users.noreply.github.com`, date };
  return {
    sha,
    node_id: Buffer.from(`04:Commit${repo.id}:${sha}`).toString('base64'),
    commit: {
      author: gitUser,
      committer: gitUser,
      message: init.message,
      tree: { sha: fakeSha(`tree:${sha}`), url: `${api}/git/trees/${fakeSha(`tree:${sha}`)}` },
      url: `${api}/git/commits/${sha}`,
      comment_count: 0,
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    url: `${api}/commits/${sha}`,
    html_url: `${bases.web}/${repo.full_name}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    author,
    committer: author,
    parents: init.parents.map((parent) => ({
      sha: parent,
      url: `${api}/commits/${parent}`,
      html_url: `${bases.web}/${repo.full_name}/commit/${parent}`,
    })),
    ...overrides,
  };
}

export interface WorkflowRunInit {
  id: number;
  runNumber: number;
  workflowId: number;
  repo: GitHubRepositoryRecord;
  actor: GitHubUser;
  headSha: string;
  createdMs: number;
}

export function buildWorkflowRun(
  bases: UrlBases,
  init: WorkflowRunInit,
  overrides: Partial<GitHubWorkflowRun> = {},
): GitHubWorkflowRun {
  const { id, repo, actor } = init;
  const api = `${bases.api}/repos/${repo.full_name}/actions/runs/${id}`;
  const created = isoSeconds(init.createdMs);
  const updated = isoSeconds(init.createdMs + 90_000);
  const gitUser = { name: actor.login, email: `${actor.login}@users.noreply.github.com` };
  return {
    id,
    name: 'CI',
    node_id: legacyNodeId('WorkflowRun', id),
    head_branch: repo.default_branch,
    head_sha: init.headSha,
    path: '.github/workflows/ci.yml',
    display_title: `CI run ${init.runNumber}`,
    run_number: init.runNumber,
    event: 'push',
    status: 'completed',
    conclusion: 'success',
    workflow_id: init.workflowId,
    check_suite_id: id + 1_000_000,
    check_suite_node_id: legacyNodeId('CheckSuite', id + 1_000_000),
    url: api,
    html_url: `${bases.web}/${repo.full_name}/actions/runs/${id}`,
    pull_requests: [],
    created_at: created,
    updated_at: updated,
    actor,
    run_attempt: 1,
    referenced_workflows: [],
    run_started_at: created,
    triggering_actor: actor,
    jobs_url: `${api}/jobs`,
    logs_url: `${api}/logs`,
    check_suite_url: `${bases.api}/repos/${repo.full_name}/check-suites/${id + 1_000_000}`,
    artifacts_url: `${api}/artifacts`,
    cancel_url: `${api}/cancel`,
    rerun_url: `${api}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${bases.api}/repos/${repo.full_name}/actions/workflows/${init.workflowId}`,
    head_commit: {
      id: init.headSha,
      tree_id: fakeSha(`tree:${init.headSha}`),
      message: `Commit ${init.headSha.slice(0, 7)}`,
      timestamp: created,
      author: gitUser,
      committer: gitUser,
    },
    repository: repo,
    head_repository: repo,
    ...overrides,
  };
}

export interface DeploymentInit {
  id: number;
  repo: GitHubRepositoryRecord;
  creator: GitHubUser;
  sha: string;
  createdMs: number;
}

export function buildDeployment(
  bases: UrlBases,
  init: DeploymentInit,
  overrides: Partial<GitHubDeployment> = {},
): GitHubDeployment {
  const { id, repo } = init;
  const api = `${bases.api}/repos/${repo.full_name}/deployments/${id}`;
  const created = isoSeconds(init.createdMs);
  return {
    url: api,
    id,
    node_id: legacyNodeId('Deployment', id),
    task: 'deploy',
    original_environment: 'production',
    environment: 'production',
    description: null,
    created_at: created,
    updated_at: created,
    statuses_url: `${api}/statuses`,
    repository_url: repo.url,
    creator: init.creator,
    sha: init.sha,
    ref: repo.default_branch,
    payload: {},
    transient_environment: false,
    production_environment: true,
    performed_via_github_app: null,
    ...overrides,
  };
}

export interface TeamInit {
  id: number;
  org: GitHubUser;
  name: string;
  slug: string;
}

export function buildTeam(bases: UrlBases, init: TeamInit, overrides: Partial<GitHubTeam> = {}): GitHubTeam {
  const { id, org, slug } = init;
  const api = `${bases.api}/organizations/${org.id}/team/${id}`;
  return {
    name: init.name,
    id,
    node_id: legacyNodeId('Team', id),
    slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    url: api,
    html_url: `${bases.web}/orgs/${org.login}/teams/${slug}`,
    members_url: `${api}/members{/member}`,
    repositories_url: `${api}/repos`,
    permission: 'pull',
    type: 'organization',
    organization_id: org.id,
    parent: null,
    ...overrides,
  };
}

export interface AppInit {
  id: number;
  slug: string;
  clientId: string;
  name: string;
  owner: GitHubUser;
  createdMs: number;
}

export const DEFAULT_APP_PERMISSIONS: Readonly<Record<string, string>> = {
  metadata: 'read',
  contents: 'read',
  issues: 'read',
  pull_requests: 'read',
  actions: 'read',
  deployments: 'read',
  discussions: 'read',
  members: 'read',
};

export const DEFAULT_APP_EVENTS: readonly string[] = [
  'issues',
  'issue_comment',
  'pull_request',
  'pull_request_review',
  'release',
  'push',
  'workflow_run',
  'deployment',
  'discussion',
];

export function buildApp(bases: UrlBases, init: AppInit): GitHubApp {
  const created = isoSeconds(init.createdMs);
  return {
    id: init.id,
    slug: init.slug,
    node_id: legacyNodeId('Integration', init.id),
    client_id: init.clientId,
    owner: init.owner,
    name: init.name,
    description: `${init.name} (local GitHub stand-in)`,
    external_url: `https://example.test/${init.slug}`,
    html_url: `${bases.web}/apps/${init.slug}`,
    created_at: created,
    updated_at: created,
    permissions: { ...DEFAULT_APP_PERMISSIONS },
    events: [...DEFAULT_APP_EVENTS],
    installations_count: 0,
  };
}

export interface InstallationInit {
  id: number;
  account: GitHubUser;
  app: GitHubApp;
  repositorySelection: 'all' | 'selected';
  createdMs: number;
}

export function buildInstallation(bases: UrlBases, init: InstallationInit): GitHubInstallation {
  const { id, account, app } = init;
  const created = isoSeconds(init.createdMs);
  return {
    id,
    account,
    repository_selection: init.repositorySelection,
    access_tokens_url: `${bases.api}/app/installations/${id}/access_tokens`,
    repositories_url: `${bases.api}/installation/repositories`,
    html_url:
      account.type === 'Organization'
        ? `${bases.web}/organizations/${account.login}/settings/installations/${id}`
        : `${bases.web}/settings/installations/${id}`,
    app_id: app.id,
    client_id: app.client_id ?? '',
    app_slug: app.slug ?? '',
    target_id: account.id,
    target_type: account.type,
    permissions: { ...DEFAULT_APP_PERMISSIONS },
    events: [...DEFAULT_APP_EVENTS],
    created_at: created,
    updated_at: created,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}
