/**
 * The GraphQL side of the local GitHub stand-in (github-server.ts): a small slice of GitHub's
 * GraphQL schema (repository → discussions, discussion categories and comments, viewer, rateLimit)
 * built with graphql-js's `buildSchema` and executed against root values, so queries are parsed,
 * validated and resolved like GitHub does, with its connection paging (`first`/`after`,
 * `last`/`before`, opaque cursors, pageInfo, totalCount) and its error shapes (`type: NOT_FOUND`, …).
 */
import { buildSchema, graphql, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { GitHubRepositoryRecord, GitHubUser } from './github-objects.ts';
import { SortedList } from './sorted-list.ts';

export interface GitHubDiscussionCategory {
  id: string;
  databaseId: number;
  name: string;
  slug: string;
  emoji: string;
  description: string;
  isAnswerable: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface GitHubDiscussionComment {
  id: string;
  databaseId: number;
  body: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  author: GitHubUser | null;
  isAnswer: boolean;
  upvoteCount: number;
}

/** A discussion as the stand-in stores it (GraphQL field names; users as REST users). */
export interface GitHubDiscussion {
  id: string;
  databaseId: number;
  number: number;
  title: string;
  body: string;
  url: string;
  createdAt: string;
  updatedAt: string;
  closed: boolean;
  closedAt: string | null;
  stateReason: 'RESOLVED' | 'OUTDATED' | 'DUPLICATE' | 'REOPENED' | null;
  locked: boolean;
  upvoteCount: number;
  answerChosenAt: string | null;
  author: GitHubUser | null;
  authorAssociation: string;
  category: GitHubDiscussionCategory;
}

export interface DiscussionRecord {
  discussion: GitHubDiscussion;
  createdMs: number;
  updatedMs: number;
  comments: SortedList<GitHubDiscussionComment>;
}

/** What a query can reach of one repository. */
export interface GraphqlRepository {
  repo: GitHubRepositoryRecord;
  discussionsByNumber: Map<number, DiscussionRecord>;
  discussionsByCreated: SortedList<DiscussionRecord>;
  discussionsByUpdated: SortedList<DiscussionRecord>;
  categories: GitHubDiscussionCategory[];
}

export interface GraphqlRateLimit {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

/** The caller's view of the store, handed to every resolver as the context. */
export interface GraphqlBackend {
  /** null when absent or not visible to the caller (GitHub answers both the same way). */
  findRepository(owner: string, name: string): GraphqlRepository | null;
  viewer(): GitHubUser;
  rateLimit(): GraphqlRateLimit;
}

export interface GraphqlResponseBody {
  data?: Record<string, unknown> | null;
  errors?: Record<string, unknown>[];
}

const SDL = /* GraphQL */ `
  scalar DateTime
  scalar URI

  interface Node {
    id: ID!
  }

  interface Actor {
    login: String!
    avatarUrl(size: Int): URI!
    url: URI!
  }

  interface RepositoryOwner {
    id: ID!
    login: String!
    avatarUrl(size: Int): URI!
    url: URI!
  }

  type User implements Node & Actor & RepositoryOwner {
    id: ID!
    databaseId: Int
    login: String!
    name: String
    avatarUrl(size: Int): URI!
    url: URI!
  }

  type Organization implements Node & Actor & RepositoryOwner {
    id: ID!
    databaseId: Int
    login: String!
    name: String
    avatarUrl(size: Int): URI!
    url: URI!
  }

  type Bot implements Node & Actor {
    id: ID!
    databaseId: Int
    login: String!
    avatarUrl(size: Int): URI!
    url: URI!
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  enum OrderDirection {
    ASC
    DESC
  }

  enum DiscussionOrderField {
    CREATED_AT
    UPDATED_AT
  }

  input DiscussionOrder {
    field: DiscussionOrderField!
    direction: OrderDirection!
  }

  enum DiscussionState {
    OPEN
    CLOSED
  }

  enum DiscussionStateReason {
    RESOLVED
    OUTDATED
    DUPLICATE
    REOPENED
  }

  enum CommentAuthorAssociation {
    MEMBER
    OWNER
    MANNEQUIN
    COLLABORATOR
    CONTRIBUTOR
    FIRST_TIME_CONTRIBUTOR
    FIRST_TIMER
    NONE
  }

  type DiscussionCategory implements Node {
    id: ID!
    name: String!
    slug: String!
    emoji: String!
    description: String
    isAnswerable: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    repository: Repository!
  }

  type DiscussionCategoryEdge {
    cursor: String!
    node: DiscussionCategory
  }

  type DiscussionCategoryConnection {
    edges: [DiscussionCategoryEdge]
    nodes: [DiscussionCategory]
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type DiscussionComment implements Node {
    id: ID!
    databaseId: Int
    body: String!
    url: URI!
    createdAt: DateTime!
    updatedAt: DateTime!
    author: Actor
    isAnswer: Boolean!
    upvoteCount: Int!
    discussion: Discussion
  }

  type DiscussionCommentEdge {
    cursor: String!
    node: DiscussionComment
  }

  type DiscussionCommentConnection {
    edges: [DiscussionCommentEdge]
    nodes: [DiscussionComment]
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type Discussion implements Node {
    id: ID!
    databaseId: Int
    number: Int!
    title: String!
    body: String!
    url: URI!
    createdAt: DateTime!
    updatedAt: DateTime!
    closed: Boolean!
    closedAt: DateTime
    stateReason: DiscussionStateReason
    locked: Boolean!
    isAnswered: Boolean
    answerChosenAt: DateTime
    upvoteCount: Int!
    author: Actor
    authorAssociation: CommentAuthorAssociation!
    category: DiscussionCategory!
    repository: Repository!
    comments(first: Int, after: String, last: Int, before: String): DiscussionCommentConnection!
  }

  type DiscussionEdge {
    cursor: String!
    node: Discussion
  }

  type DiscussionConnection {
    edges: [DiscussionEdge]
    nodes: [Discussion]
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type Repository implements Node {
    id: ID!
    databaseId: Int
    name: String!
    nameWithOwner: String!
    owner: RepositoryOwner!
    url: URI!
    isPrivate: Boolean!
    createdAt: DateTime!
    updatedAt: DateTime!
    hasDiscussionsEnabled: Boolean!
    discussion(number: Int!): Discussion
    discussions(
      first: Int
      after: String
      last: Int
      before: String
      categoryId: ID
      states: [DiscussionState!]
      orderBy: DiscussionOrder = { field: UPDATED_AT, direction: DESC }
    ): DiscussionConnection!
    discussionCategories(first: Int, after: String, last: Int, before: String): DiscussionCategoryConnection!
  }

  type RateLimit {
    cost: Int!
    limit: Int!
    nodeCount: Int!
    remaining: Int!
    resetAt: DateTime!
    used: Int!
  }

  type Query {
    repository(owner: String!, name: String!, followRenames: Boolean = true): Repository
    viewer: User!
    rateLimit(dryRun: Boolean = false): RateLimit
  }
`;

let schema: GraphQLSchema | null = null;

/** GitHub's error entries carry a top-level `type` (NOT_FOUND, MISSING_PAGINATION_BOUNDARIES, …). */
class GitHubGraphqlError extends Error {
  readonly type: string;
  constructor(type: string, message: string) {
    super(message);
    this.type = type;
  }
}

interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

interface Connection<N> {
  edges: { cursor: string; node: N }[];
  nodes: N[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

function encodeCursor(key: number, id: number): string {
  return Buffer.from(`cursor:v2:${JSON.stringify([key, id])}`).toString('base64');
}

function decodeCursor(cursor: string, argument: string): [number, number] {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  if (text.startsWith('cursor:v2:')) {
    try {
      const parsed: unknown = JSON.parse(text.slice(10));
      if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((n) => typeof n === 'number'))
        return [parsed[0] as number, parsed[1] as number];
    } catch {
      // falls through to the error GitHub gives for a cursor it did not issue
    }
  }
  throw new GitHubGraphqlError('INVALID_CURSOR_ARGUMENTS', `\`${argument}\` does not appear to be a valid cursor.`);
}

/**
 * One page of a connection over `list` read in `descending` or ascending order, with GitHub's
 * argument rules (first or last required, at most 100) and cursors keyed on the list's (key, id).
 */
function connection<T, N>(
  name: string,
  list: SortedList<T>,
  descending: boolean,
  args: ConnectionArgs,
  keep: ((value: T) => boolean) | null,
  toNode: (value: T) => N,
): Connection<N> {
  const first = args.first ?? null;
  const last = args.last ?? null;
  if (first === null && last === null) {
    throw new GitHubGraphqlError(
      'MISSING_PAGINATION_BOUNDARIES',
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`,
    );
  }
  for (const [argument, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value === null) continue;
    if (value < 0)
      throw new GitHubGraphqlError(
        'ARGUMENT_LIMIT',
        `\`${argument}\` on the \`${name}\` connection cannot be less than zero.`,
      );
    if (value > 100) {
      throw new GitHubGraphqlError(
        'EXCESSIVE_PAGINATION',
        `Requesting ${value} records on the \`${name}\` connection exceeds the \`${argument}\` limit of 100 records.`,
      );
    }
  }
  const length = list.length;
  const indexAt = (position: number): number => (descending ? length - 1 - position : position);
  // Positions count along the requested order; a cursor names an entry even after it is gone.
  let start = 0;
  let end = length;
  if (args.after) {
    const [key, id] = decodeCursor(args.after, 'after');
    const index = list.lowerBound(key, id);
    const entry = list.at(index);
    const exact = entry !== undefined && entry.key === key && entry.id === id;
    start = descending ? length - index : exact ? index + 1 : index;
  }
  if (args.before) {
    const [key, id] = decodeCursor(args.before, 'before');
    const index = list.lowerBound(key, id);
    const entry = list.at(index);
    const exact = entry !== undefined && entry.key === key && entry.id === id;
    end = descending ? (exact ? length - 1 - index : length - index) : index;
  }
  const matches = (position: number): boolean => {
    const entry = list.at(indexAt(position));
    return entry !== undefined && (keep === null || keep(entry.value));
  };
  const picked: number[] = [];
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (first !== null) {
    let position = start;
    for (; position < end && picked.length < first; position++) if (matches(position)) picked.push(position);
    for (; position < end && !hasNextPage; position++) hasNextPage = matches(position);
    hasPreviousPage = start > 0;
  } else {
    let position = end - 1;
    for (; position >= start && picked.length < (last as number); position--)
      if (matches(position)) picked.unshift(position);
    for (; position >= start && !hasPreviousPage; position--) hasPreviousPage = matches(position);
    hasNextPage = end < length;
  }
  const edges = picked.map((position) => {
    const entry = list.at(indexAt(position))!;
    return { cursor: encodeCursor(entry.key, entry.id), node: toNode(entry.value) };
  });
  let totalCount = length;
  if (keep !== null) {
    totalCount = 0;
    for (const value of list.values()) if (keep(value)) totalCount++;
  }
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount,
  };
}

function actorNode(user: GitHubUser | null): Record<string, unknown> | null {
  if (!user) return null;
  return {
    __typename: user.type === 'Organization' ? 'Organization' : user.type === 'Bot' ? 'Bot' : 'User',
    id: user.node_id,
    databaseId: user.id,
    login: user.login,
    name: user.name ?? null,
    url: user.html_url,
    avatarUrl: ({ size }: { size?: number | null }) => (size ? `${user.avatar_url}&s=${size}` : user.avatar_url),
  };
}

function repositoryNode(target: GraphqlRepository): Record<string, unknown> {
  const { repo } = target;
  const categoryNode = (category: GitHubDiscussionCategory): Record<string, unknown> => ({
    ...category,
    repository: () => repositoryNode(target),
  });
  const discussionNode = (record: DiscussionRecord): Record<string, unknown> => {
    const d = record.discussion;
    return {
      ...d,
      isAnswered: d.category.isAnswerable ? d.answerChosenAt !== null : null,
      author: actorNode(d.author),
      category: categoryNode(d.category),
      repository: () => repositoryNode(target),
      comments: (args: ConnectionArgs) =>
        connection('comments', record.comments, false, args, null, (comment) => ({
          ...comment,
          author: actorNode(comment.author),
          discussion: () => discussionNode(record),
        })),
    };
  };
  return {
    id: repo.node_id,
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: repo.full_name,
    owner: actorNode(repo.owner),
    url: repo.html_url,
    isPrivate: repo.private,
    createdAt: repo.created_at,
    updatedAt: repo.updated_at,
    hasDiscussionsEnabled: repo.has_discussions,
    discussion: ({ number }: { number: number }) => {
      const record = target.discussionsByNumber.get(number);
      if (!record) {
        throw new GitHubGraphqlError('NOT_FOUND', `Could not resolve to a Discussion with the number of ${number}.`);
      }
      return discussionNode(record);
    },
    discussions: (
      args: ConnectionArgs & {
        categoryId?: string | null;
        states?: ('OPEN' | 'CLOSED')[] | null;
        orderBy: { field: 'CREATED_AT' | 'UPDATED_AT'; direction: 'ASC' | 'DESC' };
      },
    ) => {
      const list = args.orderBy.field === 'CREATED_AT' ? target.discussionsByCreated : target.discussionsByUpdated;
      const states = args.states && args.states.length > 0 ? new Set(args.states) : null;
      const categoryId = args.categoryId ?? null;
      const keep =
        states === null && categoryId === null
          ? null
          : (record: DiscussionRecord) =>
              (states === null || states.has(record.discussion.closed ? 'CLOSED' : 'OPEN')) &&
              (categoryId === null || record.discussion.category.id === categoryId);
      return connection('discussions', list, args.orderBy.direction === 'DESC', args, keep, discussionNode);
    },
    discussionCategories: (args: ConnectionArgs) => {
      // Categories are few and fixed: an ascending list keyed by position.
      const ordered = new SortedList<GitHubDiscussionCategory>();
      target.categories.forEach((category, index) => {
        ordered.append(index, category.databaseId, category);
      });
      return connection('discussionCategories', ordered, false, args, null, categoryNode);
    },
  };
}

const rootValue = {
  repository: ({ owner, name }: { owner: string; name: string }, backend: GraphqlBackend) => {
    const target = backend.findRepository(owner, name);
    if (!target) {
      throw new GitHubGraphqlError('NOT_FOUND', `Could not resolve to a Repository with the name '${owner}/${name}'.`);
    }
    return repositoryNode(target);
  },
  viewer: (_args: unknown, backend: GraphqlBackend) => actorNode(backend.viewer()),
  rateLimit: (_args: unknown, backend: GraphqlBackend) => {
    const limit = backend.rateLimit();
    return {
      cost: 1,
      limit: limit.limit,
      nodeCount: 0,
      remaining: limit.remaining,
      used: limit.used,
      resetAt: `${new Date(limit.reset * 1000).toISOString().slice(0, 19)}Z`,
    };
  },
};

function formatError(error: GraphQLError): Record<string, unknown> {
  const formatted: Record<string, unknown> = { ...error.toJSON() };
  if (error.originalError instanceof GitHubGraphqlError) formatted.type = error.originalError.type;
  return formatted;
}

/** Executes a GraphQL request body against the stand-in's schema, answering as GitHub does (200 + errors). */
export async function executeGraphql(
  backend: GraphqlBackend,
  request: { query?: unknown; variables?: unknown; operationName?: unknown },
): Promise<GraphqlResponseBody> {
  if (typeof request.query !== 'string' || request.query.trim() === '') {
    return { errors: [{ message: 'A query attribute must be specified and must be a string.' }] };
  }
  schema ??= buildSchema(SDL);
  const result = await graphql({
    schema,
    source: request.query,
    rootValue,
    contextValue: backend,
    variableValues:
      request.variables && typeof request.variables === 'object'
        ? (request.variables as Record<string, unknown>)
        : null,
    operationName: typeof request.operationName === 'string' ? request.operationName : null,
  });
  const body: GraphqlResponseBody = {};
  if (result.data !== undefined) body.data = result.data as Record<string, unknown> | null;
  if (result.errors && result.errors.length > 0) body.errors = result.errors.map(formatError);
  return body;
}
