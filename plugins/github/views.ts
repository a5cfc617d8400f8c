/**
 * How each synced GitHub table appears in GraphQL (the sync core builds the types, root fields and
 * planned statements from it: gateway/sync/views.ts). Relations follow GitHub's own keys: a
 * repository's rows by its full name, an issue's or pull request's comments by repository and
 * number, as the columns generated from the objects hold them. Every synced table has a view (the
 * compiler holds it to GITHUB_TABLES).
 */
import type { Filter, Relation, SyncView, SyncViews } from '../../gateway/sdk.ts';
import type { GithubTable } from './resources.ts';

const repo: Filter = { type: 'String', column: 'repository', description: 'owner/name, as GitHub spells it.' };
const author: Filter = { type: 'String', description: "The author's login." };
const ofRepository = (table: string): Relation => ({ table, on: { repository: 'full_name' } });
const inRepository: Relation = { table: 'repositories', on: { full_name: 'repository' } };
const repoField = { type: 'String', column: 'repository', description: 'owner/name.' } as const;
const body = { type: 'String', path: 'body' } as const;

/** The GitHub tables' views, readable by admins and by the roles in GITHUB_READ_ROLES. */
export function githubViews(readRoles: () => readonly string[]): SyncViews {
  return {
    prefix: 'Github',
    schema: 'github',
    commonFields: {
      nodeId: 'String',
      updatedAt: {
        type: 'DateTime',
        nullable: false,
        description: "GitHub's time of the state this row holds; an older state never replaces it.",
      },
    },
    orders: { UPDATED: 'updated_at' },
    range: { from: 'updatedFrom', to: 'updatedTo' },
    relationStyle: 'connection',
    filterStyle: 'input',
    mayRead: (session) => session.role === 'admin' || readRoles().includes(session.role),
    views: {
      repositories: {
        type: 'GithubRepository',
        description: 'A GitHub repository.',
        idType: 'bigint',
        single: {
          name: 'githubRepository',
          by: {
            owner: { type: 'String', match: 'caseInsensitive' },
            name: { type: 'String', match: 'caseInsensitive' },
          },
        },
        plural: 'githubRepositories',
        fields: { fullName: 'String', owner: 'String', name: 'String', private: 'Boolean', archived: 'Boolean' },
        filters: {
          owner: { type: 'String', match: 'caseInsensitive' },
          archived: { type: 'Boolean' },
          private: { type: 'Boolean' },
        },
        hasMany: {
          issues: ofRepository('issues'),
          pullRequests: ofRepository('pull_requests'),
          releases: ofRepository('releases'),
          workflowRuns: ofRepository('workflow_runs'),
          branches: ofRepository('branches'),
          commits: ofRepository('commits'),
          deployments: ofRepository('deployments'),
          discussions: ofRepository('discussions'),
        },
      },
      issues: {
        type: 'GithubIssue',
        description: 'An issue (pull requests are GithubPullRequest).',
        idType: 'bigint',
        single: 'githubIssue',
        plural: 'githubIssues',
        fields: {
          repo: repoField,
          number: 'Int',
          title: 'String',
          body,
          state: 'String',
          author: 'String',
          assignee: 'String',
          createdAt: 'DateTime',
        },
        filters: {
          repo,
          state: { type: 'String', description: 'open or closed.' },
          labels: {
            type: 'String',
            match: 'contains',
            path: 'labels',
            key: 'name',
            list: true,
            description: 'Issues carrying every one of these labels.',
          },
          assignee: { type: 'String', match: 'contains', path: 'assignees', key: 'login', description: 'A login.' },
          author,
        },
        belongsTo: { repository: inRepository },
        hasMany: { comments: { table: 'issue_comments', on: { repository: 'repository', issue_number: 'number' } } },
      },
      pull_requests: {
        type: 'GithubPullRequest',
        description: 'A pull request.',
        idType: 'bigint',
        single: 'githubPullRequest',
        plural: 'githubPullRequests',
        fields: {
          repo: repoField,
          number: 'Int',
          title: 'String',
          body,
          state: 'String',
          merged: 'Boolean',
          author: 'String',
          createdAt: 'DateTime',
        },
        filters: {
          repo,
          state: { type: 'String', description: 'open or closed.' },
          merged: { type: 'Boolean' },
          author,
        },
        belongsTo: { repository: inRepository },
        hasMany: {
          comments: { table: 'issue_comments', on: { repository: 'repository', issue_number: 'number' } },
          reviews: { table: 'pull_request_reviews', on: { repository: 'repository', pull_number: 'number' } },
        },
      },
      issue_comments: {
        type: 'GithubIssueComment',
        description: 'A comment on an issue or a pull request.',
        idType: 'bigint',
        single: 'githubIssueComment',
        plural: 'githubIssueComments',
        fields: { repo: repoField, issueNumber: 'Int', author: 'String', body },
        filters: { repo, issueNumber: { type: 'Int', column: 'issue_number' }, author },
        belongsTo: { issue: { table: 'issues', on: { repository: 'repository', number: 'issue_number' } } },
      },
      pull_request_reviews: {
        type: 'GithubPullRequestReview',
        description: 'A review of a pull request.',
        idType: 'bigint',
        single: 'githubPullRequestReview',
        plural: 'githubPullRequestReviews',
        fields: { repo: repoField, pullNumber: 'Int', state: 'String', author: 'String', body },
        filters: { repo, state: { type: 'String' }, author },
        belongsTo: {
          pullRequest: { table: 'pull_requests', on: { repository: 'repository', number: 'pull_number' } },
        },
      },
      releases: {
        type: 'GithubRelease',
        description: 'A release.',
        idType: 'bigint',
        single: 'githubRelease',
        plural: 'githubReleases',
        fields: { repo: repoField, tagName: 'String', name: 'String', draft: 'Boolean', prerelease: 'Boolean' },
        filters: { repo, draft: { type: 'Boolean' }, prerelease: { type: 'Boolean' } },
        belongsTo: { repository: inRepository },
      },
      workflow_runs: {
        type: 'GithubWorkflowRun',
        description: 'A GitHub Actions workflow run.',
        idType: 'bigint',
        single: 'githubWorkflowRun',
        plural: 'githubWorkflowRuns',
        fields: { repo: repoField, name: 'String', status: 'String', conclusion: 'String', headBranch: 'String' },
        filters: {
          repo,
          status: { type: 'String' },
          conclusion: { type: 'String' },
          headBranch: { type: 'String', column: 'head_branch' },
        },
        belongsTo: { repository: inRepository },
      },
      branches: {
        type: 'GithubBranch',
        description: 'A branch; its id is `owner/name:branch`.',
        single: 'githubBranch',
        plural: 'githubBranches',
        fields: { repo: repoField, name: 'String', sha: 'String' },
        filters: { repo, name: { type: 'String' } },
        belongsTo: { repository: inRepository },
      },
      commits: {
        type: 'GithubCommit',
        description: 'A commit; its id is the sha.',
        single: 'githubCommit',
        plural: 'githubCommits',
        fields: { repo: repoField, message: 'String', committedAt: 'DateTime' },
        filters: { repo },
        belongsTo: { repository: inRepository },
      },
      deployments: {
        type: 'GithubDeployment',
        description: 'A deployment.',
        idType: 'bigint',
        single: 'githubDeployment',
        plural: 'githubDeployments',
        fields: { repo: repoField, environment: 'String', ref: 'String' },
        filters: { repo, environment: { type: 'String' } },
        belongsTo: { repository: inRepository },
      },
      discussions: {
        type: 'GithubDiscussion',
        description: 'A discussion.',
        idType: 'bigint',
        single: 'githubDiscussion',
        plural: 'githubDiscussions',
        fields: { repo: repoField, number: 'Int', title: 'String', category: 'String' },
        filters: { repo, category: { type: 'String' } },
        belongsTo: { repository: inRepository },
      },
      teams: {
        type: 'GithubTeam',
        description: 'A team of the organization.',
        idType: 'bigint',
        single: 'githubTeam',
        plural: 'githubTeams',
        fields: { organization: 'String', slug: 'String', name: 'String' },
        filters: { organization: { type: 'String' }, slug: { type: 'String' } },
        hasMany: { members: { table: 'team_members', on: { team_id: 'id' } } },
      },
      team_members: {
        type: 'GithubTeamMember',
        description: 'A member of a team.',
        single: 'githubTeamMember',
        plural: 'githubTeamMembers',
        fields: { login: 'String', teamId: 'BigInt' },
        filters: { login: { type: 'String' } },
        belongsTo: { team: { table: 'teams', on: { id: 'team_id' } } },
      },
    } satisfies Record<GithubTable, SyncView>,
  };
}
