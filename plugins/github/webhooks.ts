/**
 * GitHub webhooks: `X-Hub-Signature-256` checked with @octokit/webhooks-methods (HMAC-SHA256,
 * constant-time compare), `X-GitHub-Delivery` is the event id (a redelivery is a no-op), and
 * `X-GitHub-Event` + `action` route the payload to a table. Events of types the plugin does not
 * sync are stored and fanned out but change no table. Ordering is GitHub's `updated_at`: a payload
 * whose object is older than the stored state never overwrites it (the sync core's store).
 */
import { verify } from '@octokit/webhooks-methods';
import {
  type ObjectState,
  type PluginRuntime,
  type SyncedObject,
  type WebhookEvent,
  type WebhookReceiver,
  WebhookVerificationError,
} from '../../gateway/sdk.ts';
import type { GithubConfig } from './config.ts';
import type { GithubInstance } from './instance.ts';

type Payload = Record<string, unknown> & { action?: string; repository?: { id: number; full_name: string } };
type GithubObject = SyncedObject & { id?: unknown; updated_at?: unknown };

/** Epoch seconds of an ISO time; undefined when there is none. */
const secondsOf = (value: unknown) => (typeof value === 'string' ? Date.parse(value) / 1000 : Number.NaN);

/** The event types whose payload deletes its object (branch deletes are the `delete` event). */
const DELETIONS = new Set(['issues.deleted', 'repository.deleted', 'issue_comment.deleted', 'release.deleted']);

/**
 * Where a payload of each event lands: its table, the key of its object in the payload, and
 * fields the plugin adds to it.
 */
const ROUTES: Record<string, { table: string; key: string; merge?(payload: Payload): SyncedObject }> = {
  repository: { table: 'repositories', key: 'repository' },
  issues: { table: 'issues', key: 'issue' },
  issue_comment: { table: 'issue_comments', key: 'comment' },
  pull_request: { table: 'pull_requests', key: 'pull_request' },
  pull_request_review: { table: 'pull_request_reviews', key: 'review' },
  release: { table: 'releases', key: 'release' },
  workflow_run: { table: 'workflow_runs', key: 'workflow_run' },
  deployment: { table: 'deployments', key: 'deployment' },
  // Discussions and teams do not name their repository or organization inside the object.
  discussion: { table: 'discussions', key: 'discussion', merge: (p) => ({ repository: p.repository?.full_name }) },
  team: {
    table: 'teams',
    key: 'team',
    merge: (p) => ({ organization: (p['organization'] as { login?: string })?.login }),
  },
};

const isObject = (value: unknown): value is GithubObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The states one delivery produces (none for types this plugin does not sync). A state whose
 * object is in the payload says where (`inPayload`): the store takes it from the stored payload.
 */
export function statesOf(type: string, payload: Payload, eventId: string, receivedAt: number): ObjectState[] {
  const [event = '', action] = type.split('.');
  const deleted = DELETIONS.has(type);
  const state = (
    table: string,
    object: GithubObject,
    gone = deleted,
    inPayload?: ObjectState['inPayload'],
  ): ObjectState => ({
    table,
    object,
    deleted: gone,
    // Objects without an updated_at (branches, commits, memberships) are as of the delivery.
    versionAt: Number.isFinite(secondsOf(object.updated_at)) ? secondsOf(object.updated_at) : receivedAt,
    eventId,
    ...(inPayload && { inPayload }),
  });
  const repository = payload.repository;
  if ((event === 'create' || event === 'delete') && payload['ref_type'] === 'branch' && repository) {
    const name = String(payload['ref']);
    return [
      state('branches', { id: `${repository.id}/${name}`, name, repository: repository.full_name }, event === 'delete'),
    ];
  }
  if (event === 'push' && repository) {
    const commits = (payload['commits'] as GithubObject[] | undefined) ?? [];
    const merge = { repository: repository.full_name };
    return commits.map((commit, i) =>
      state('commits', { ...commit, ...merge }, deleted, { path: ['commits', String(i)], merge }),
    );
  }
  if (event === 'membership' && payload['scope'] === 'team') {
    const team = payload['team'] as { id: number };
    const member = payload['member'] as { id: number };
    const object = { id: `${team.id}/${member.id}`, team_id: team.id, user: member };
    return [state('team_members', object, action === 'removed')];
  }
  if (type === 'issues.transferred') {
    // The issue moves: the old row is deleted, the issue in its new repository is stored.
    const changes = payload['changes'] as { new_issue?: GithubObject } | undefined;
    const moved = changes?.new_issue
      ? [state('issues', changes.new_issue, false, { path: ['changes', 'new_issue'] })]
      : [];
    return [state('issues', payload['issue'] as GithubObject, true, { path: ['issue'] }), ...moved];
  }
  const route = ROUTES[event];
  const found = route && payload[route.key];
  if (!route || !isObject(found) || found.id === undefined || found.id === null) return [];
  const merge = route.merge?.(payload);
  const object = merge ? { ...found, ...merge } : found;
  return [state(route.table, object, deleted, { path: [route.key], ...(merge && { merge }) })];
}

const statesOfAll = (events: WebhookEvent[]) => {
  const receivedAt = Date.now() / 1000;
  return events.flatMap((event) => statesOf(event.type, event.payload as Payload, event.id, receivedAt));
};

export function githubReceiver(runtime: PluginRuntime<GithubConfig>, instance: () => GithubInstance): WebhookReceiver {
  const { config } = runtime;
  return {
    path: config.webhookPath,
    maxAttempts: config.webhookMaxAttempts,
    async verify(body, headers) {
      const signature = headers['x-hub-signature-256'];
      const delivery = headers['x-github-delivery'];
      const event = headers['x-github-event'];
      if (typeof signature !== 'string' || signature === '')
        throw new WebhookVerificationError('Missing X-Hub-Signature-256 header');
      const text = body.toString('utf8');
      if (text === '') throw new SyntaxError('Empty body');
      if (!(await verify(config.webhookSecret, text, signature)))
        throw new WebhookVerificationError('Invalid X-Hub-Signature-256 signature');
      if (typeof delivery !== 'string' || !/^[\w-]{1,100}$/.test(delivery))
        throw new SyntaxError('Missing or malformed X-GitHub-Delivery header');
      if (typeof event !== 'string' || !/^[a-z_]{1,60}$/.test(event))
        throw new SyntaxError('Missing or malformed X-GitHub-Event header');
      const payload = JSON.parse(text) as unknown;
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
        throw new SyntaxError('Not a GitHub event');
      const action = (payload as Payload).action;
      const type = typeof action === 'string' && /^[a-z_]{1,60}$/.test(action) ? `${event}.${action}` : event;
      return { id: delivery, type, payload, body };
    },
    async apply(events, client) {
      const states = statesOfAll(events);
      if (states.length > 0) await instance().store.write(client, states);
    },
    // Applying is only the store's upserts, so a batch is applied in the statement that logs it.
    applyWithLog: (events, firstParam) => instance().store.withLog(statesOfAll(events), firstParam),
  };
}
