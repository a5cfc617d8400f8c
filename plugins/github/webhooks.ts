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

/** Where a payload of each event lands: its object and table. */
const ROUTES: Record<string, { table: string; object(payload: Payload): GithubObject | undefined }> = {
  repository: { table: 'repositories', object: (p) => p.repository },
  issues: { table: 'issues', object: (p) => p['issue'] as GithubObject },
  issue_comment: { table: 'issue_comments', object: (p) => p['comment'] as GithubObject },
  pull_request: { table: 'pull_requests', object: (p) => p['pull_request'] as GithubObject },
  pull_request_review: { table: 'pull_request_reviews', object: (p) => p['review'] as GithubObject },
  release: { table: 'releases', object: (p) => p['release'] as GithubObject },
  workflow_run: { table: 'workflow_runs', object: (p) => p['workflow_run'] as GithubObject },
  deployment: { table: 'deployments', object: (p) => p['deployment'] as GithubObject },
  // Discussions and teams do not name their repository or organization inside the object.
  discussion: {
    table: 'discussions',
    object: (p) => ({ ...(p['discussion'] as GithubObject), repository: p.repository?.full_name }),
  },
  team: {
    table: 'teams',
    object: (p) => ({ ...(p['team'] as GithubObject), organization: (p['organization'] as { login?: string })?.login }),
  },
};

/** The states one delivery produces (none for types this plugin does not sync). */
export function statesOf(type: string, payload: Payload, eventId: string, receivedAt: number): ObjectState[] {
  const [event = '', action] = type.split('.');
  const deleted = DELETIONS.has(type);
  const state = (table: string, object: GithubObject, gone = deleted): ObjectState => ({
    table,
    object,
    deleted: gone,
    // Objects without an updated_at (branches, commits, memberships) are as of the delivery.
    versionAt: Number.isFinite(secondsOf(object.updated_at)) ? secondsOf(object.updated_at) : receivedAt,
    eventId,
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
    return commits.map((commit) => state('commits', { ...commit, repository: repository.full_name }));
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
    const moved = changes?.new_issue ? [state('issues', changes.new_issue, false)] : [];
    return [state('issues', payload['issue'] as GithubObject, true), ...moved];
  }
  const route = ROUTES[event];
  const object = route?.object(payload);
  if (!route || !object || object.id === undefined || object.id === null) return [];
  return [state(route.table, object)];
}

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
      return { id: delivery, type, payload, json: text };
    },
    async apply(events, client) {
      const receivedAt = Date.now() / 1000;
      const states = events.flatMap((event) => statesOf(event.type, event.payload as Payload, event.id, receivedAt));
      if (states.length > 0) await instance().store.write(client, states);
    },
  };
}
