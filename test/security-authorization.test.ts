/**
 * The authorization matrix: every root field of the composed schema (every default plugin
 * enabled) declares who may use it, and each row is called as anonymous, a plain user, a user
 * acting on another user's resource, and an admin (a token; admin-only fields also by the admin
 * secret) — over HTTP and over graphql-ws. A root field
 * missing from the table fails the first test, so a new field must declare its access here.
 *
 * Access:
 * - anonymous: anyone.
 * - user: any signed-in user (acting on their own data); anonymous refused.
 * - self-or-admin: the user whose resource it is (a user id, a room they are in), or an admin.
 * - self: only the user whose resource it is; a gateway admin who is not in the room is refused too.
 * - admin: the admin role only.
 *
 * A refusal must carry UNAUTHENTICATED or FORBIDDEN (a signed-in user: FORBIDDEN) and no data for
 * the field; an allowed call may fail for other reasons, but never with those two codes.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getNamedType, isLeafType, type GraphQLField } from 'graphql';
import { sign } from '@octokit/webhooks-methods';
import sharp from 'sharp';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { registry } from '../plugins/registry.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type GraphQLBody, type TestGateway } from './support/gateway.ts';
import { startIdmeProvider, type IdmeProvider } from './support/idme-provider.ts';
import { startStripeServer, type StripeServer } from './support/stripe-server.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs, type TestSubscription, type TestWsClient } from './support/ws-client.ts';

type Access = 'anonymous' | 'user' | 'self-or-admin' | 'self' | 'admin';
/** `adminSecret`: the admin by x-hasura-admin-secret, with no user id. */
type Caller = 'anonymous' | 'user' | 'other' | 'admin' | 'adminSecret';
/** Whose resource a call acts on: the plain user's own, or another user's. */
type Owner = 'alice' | 'bob';
type Kind = 'query' | 'mutation' | 'subscription';

interface Fixtures {
  rooms: Record<Owner, string>;
  jobId: string;
  /** A processed file, and an upload never completed, of each owner. */
  files: Record<Owner, string>;
  uploads: Record<Owner, string>;
}

interface Row {
  kind: Kind;
  field: string;
  access: Access;
  /** Minimal arguments, as GraphQL literal text, for a call on `owner`'s resource. */
  args?: (fx: Fixtures, owner: Owner) => string;
  /** Subscriptions: makes the field emit for an allowed subscriber (`subscriber` is their user id). */
  trigger?: (fx: Fixtures, owner: Owner, subscriber: string) => Promise<unknown>;
}

const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const USERS = { user: 'alice', other: 'bob', admin: 'root' } as const;
const uuid = () => randomUUID();
const str = (value: string) => JSON.stringify(value);

let db: TestDatabase;
let stripe: StripeServer;
let idme: IdmeProvider;
let gateway: TestGateway;
let scratch: string;
const fx: Fixtures = {
  rooms: { alice: '', bob: '' },
  jobId: '',
  files: { alice: '', bob: '' },
  uploads: { alice: '', bob: '' },
};
const headers: Record<Exclude<Caller, 'other'> | 'bob', Record<string, string>> = {
  anonymous: {},
  user: {},
  admin: {},
  adminSecret: { 'x-hasura-admin-secret': ADMIN_SECRET },
  bob: {},
};

async function ok(query: string, as: Record<string, string>): Promise<Record<string, unknown>> {
  const { body } = await gateway.gql(query, { headers: as });
  expect(body.errors, query).toBeUndefined();
  return body.data!;
}

/** A signed Stripe event delivered to the gateway's webhook route. */
async function stripeWebhook(): Promise<void> {
  const id = `cus_${randomBytes(6).toString('hex')}`;
  const payload = JSON.stringify({
    id: `evt_${randomBytes(8).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id,
        object: 'customer',
        created: Math.floor(Date.now() / 1000),
        email: `${id}@example.com`,
        name: 'Matrix',
        livemode: false,
        metadata: {},
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.created',
  });
  const signature = new Stripe('sk_test_matrix').webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  const response = await fetch(`${gateway.url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signature },
    body: payload,
  });
  expect(response.status).toBe(200);
}

const GITHUB_WEBHOOK_SECRET = 'github-webhook-secret-for-the-matrix';

/** A signed GitHub `ping` delivered to the gateway's webhook route (stored, applied, fanned out). */
async function githubWebhook(): Promise<void> {
  const payload = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, sender: { login: 'octocat' } });
  const response = await fetch(`${gateway.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': await sign(GITHUB_WEBHOOK_SECRET, payload),
    },
    body: payload,
  });
  expect(response.status).toBeLessThan(300);
}

const SHOPIFY_API_SECRET = 'shopify-api-secret-for-the-matrix';

/** A signed Shopify `locations/update` delivered to the gateway's webhook route (stored, applied, fanned out). */
async function shopifyWebhook(): Promise<void> {
  const payload = JSON.stringify({
    id: 7_001,
    name: 'Matrix depot',
    active: true,
    updated_at: new Date().toISOString(),
  });
  const response = await fetch(`${gateway.url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'locations/update',
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_API_SECRET).update(payload, 'utf8').digest('base64'),
      'x-shopify-shop-domain': 'matrix-shop.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body: payload,
  });
  expect(response.status).toBe(200);
}

/** A complete ID.me verification of a fresh user against the provider stand-in. */
async function idmeVerification(): Promise<void> {
  const sub = `idme-${randomBytes(4).toString('hex')}`;
  idme.addAccount({
    sub,
    email: `${sub}@example.test`,
    given_name: 'Mat',
    family_name: 'Rix',
    status: [{ group: 'teacher', subgroups: [], verified: true }],
    attributes: [],
  });
  idme.signInAs(sub);
  const as = { authorization: `Bearer ${await signToken({ userId: sub })}` };
  const started = (await ok('mutation { idmeAuthorizationUrl(groups: [TEACHER]) { url } }', as))[
    'idmeAuthorizationUrl'
  ] as { url: string };
  const back = await idme.authorize(started.url);
  await ok(
    `mutation { verifyIdme(code: ${str(back.searchParams.get('code')!)}, state: ${str(back.searchParams.get('state')!)}) { verified } }`,
    as,
  );
}

const asOwner = async (owner: Owner, query: string) => ok(query, owner === 'alice' ? headers.user : headers.bob);

/** One row per root field. Keep it sorted by kind, then field. */
const ROWS: Row[] = [
  // Query
  { kind: 'query', field: 'file', access: 'user', args: (f, owner) => `id: ${str(f.files[owner])}` },
  { kind: 'query', field: 'files', access: 'user' },
  { kind: 'query', field: 'idmeGroups', access: 'self-or-admin', args: (_f, owner) => `userId: ${str(owner)}` },
  { kind: 'query', field: 'idmeVerification', access: 'self-or-admin', args: (_f, owner) => `userId: ${str(owner)}` },
  // Default JOBS_ENQUEUE_ROLES is admin: a plain user sees no job, not even of its own.
  { kind: 'query', field: 'job', access: 'admin', args: (f) => `id: ${str(f.jobId)}` },
  { kind: 'query', field: 'jobThroughput', access: 'admin' },
  { kind: 'query', field: 'jobs', access: 'admin' },
  { kind: 'query', field: 'myRooms', access: 'user' },
  { kind: 'query', field: 'notificationBatch', access: 'admin', args: () => `id: ${str(uuid())}` },
  { kind: 'query', field: 'notificationChannels', access: 'admin' },
  { kind: 'query', field: 'notificationPreferences', access: 'user' },
  { kind: 'query', field: 'notificationDeliveries', access: 'admin' },
  { kind: 'query', field: 'notificationStats', access: 'admin' },
  { kind: 'query', field: 'notificationTemplates', access: 'admin' },
  { kind: 'query', field: 'notifications', access: 'user' },
  {
    kind: 'query',
    field: 'onlineMembers',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
  },
  { kind: 'query', field: 'plugin', access: 'anonymous', args: () => 'name: "jobs"' },
  { kind: 'query', field: 'plugins', access: 'anonymous' },
  { kind: 'query', field: 'presenceOf', access: 'self-or-admin', args: (_f, owner) => `userIds: [${str(owner)}]` },
  { kind: 'query', field: 'queueStats', access: 'admin' },
  { kind: 'query', field: 'realtimeConnections', access: 'admin' },
  { kind: 'query', field: 'realtimeInstances', access: 'admin' },
  {
    kind: 'query',
    field: 'realtimeRoomMembers',
    access: 'admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
  },
  { kind: 'query', field: 'realtimeRooms', access: 'admin' },
  {
    kind: 'query',
    field: 'renderNotificationTemplate',
    access: 'admin',
    args: () => 'input: { name: "preview", body: "Hi {{ name }}" }, data: { name: "Ann" }',
  },
  { kind: 'query', field: 'room', access: 'self-or-admin', args: (f, owner) => `id: ${str(f.rooms[owner])}` },
  { kind: 'query', field: 'schedules', access: 'admin' },
  ...[
    'Charge',
    'Customer',
    'Dispute',
    'Invoice',
    'PaymentIntent',
    'Payout',
    'Price',
    'Product',
    'Refund',
    'Subscription',
    'SubscriptionItem',
  ].flatMap((name): Row[] => [
    { kind: 'query', field: `stripe${name}`, access: 'admin', args: () => 'id: "x_1"' },
    { kind: 'query', field: `stripe${name}s`, access: 'admin' },
  ]),
  { kind: 'query', field: 'stripeSyncRun', access: 'admin', args: () => `id: ${str(uuid())}` },
  ...[
    'Branch',
    'Commit',
    'Deployment',
    'Discussion',
    'Issue',
    'IssueComment',
    'PullRequest',
    'PullRequestReview',
    'Release',
    'Team',
    'TeamMember',
    'WorkflowRun',
  ].flatMap((name): Row[] => [
    { kind: 'query', field: `github${name}`, access: 'admin', args: () => 'id: "1"' },
    { kind: 'query', field: name === 'Branch' ? 'githubBranches' : `github${name}s`, access: 'admin' },
  ]),
  { kind: 'query', field: 'githubRepository', access: 'admin', args: () => 'owner: "octo", name: "hello"' },
  { kind: 'query', field: 'githubRepositories', access: 'admin' },
  { kind: 'query', field: 'githubSyncRun', access: 'admin', args: () => `id: ${str(uuid())}` },
  { kind: 'query', field: 'githubSyncStatus', access: 'admin' },
  // Shopify's tables are readable by admins (and SHOPIFY_READ_ROLES, none here), each reader held to their shops.
  ...(
    [
      ['Product', 'Products'],
      ['ProductVariant', 'ProductVariants'],
      ['Collection', 'Collections'],
      ['CollectionProduct', 'CollectionProducts'],
      ['Customer', 'Customers'],
      ['Order', 'Orders'],
      ['OrderLineItem', 'OrderLineItems'],
      ['Fulfillment', 'Fulfillments'],
      ['InventoryItem', 'InventoryItems'],
      ['InventoryLevel', 'Inventory'],
      ['Location', 'Locations'],
    ] as const
  ).flatMap(([single, plural]): Row[] => [
    { kind: 'query', field: `shopify${single}`, access: 'admin', args: () => 'id: "1"' },
    {
      kind: 'query',
      field: `shopify${plural}`,
      access: 'admin',
      ...(plural === 'Inventory' && { args: () => 'locationId: "1"' }),
    },
  ]),
  { kind: 'query', field: 'shopifySyncRun', access: 'admin', args: () => `id: ${str(uuid())}` },
  { kind: 'query', field: 'shopifySyncStatus', access: 'admin' },
  { kind: 'query', field: 'stripeSyncStatus', access: 'admin' },
  { kind: 'query', field: 'viewer', access: 'anonymous' },
  { kind: 'query', field: 'webhookEvents', access: 'admin', args: () => 'plugin: "stripe"' },
  { kind: 'query', field: 'webhookStats', access: 'admin' },
  // Mutation
  { kind: 'mutation', field: 'checkGithub', access: 'admin', args: () => 'resources: ["not-a-resource"]' },
  { kind: 'mutation', field: 'checkShopify', access: 'admin', args: () => 'resources: ["not-a-resource"]' },
  { kind: 'mutation', field: 'checkStripe', access: 'admin', args: () => 'resources: ["not-a-resource"]' },
  { kind: 'mutation', field: 'cancelJob', access: 'admin', args: (f) => `id: ${str(f.jobId)}` },
  {
    kind: 'mutation',
    field: 'createNotificationTemplate',
    access: 'admin',
    args: () => `input: { name: ${str(`t${uuid().slice(0, 8)}`)}, subject: "Hi", body: "Hi" }`,
  },
  { kind: 'mutation', field: 'createRoom', access: 'user', args: () => 'name: "matrix"' },
  {
    kind: 'mutation',
    field: 'createSchedule',
    access: 'admin',
    args: () => 'cron: "0 0 1 1 *", type: "database-backup", payload: { schema: "realtime" }',
  },
  {
    kind: 'mutation',
    field: 'deleteNotificationTemplate',
    access: 'admin',
    args: () => 'name: "nothing-by-this-name"',
  },
  { kind: 'mutation', field: 'disconnectRealtimeConnection', access: 'admin', args: () => `id: ${str(uuid())}` },
  { kind: 'mutation', field: 'deleteSchedule', access: 'admin', args: () => `id: ${str(uuid())}` },
  {
    kind: 'mutation',
    field: 'completeUpload',
    access: 'user',
    args: (f, owner) => `id: ${str(f.uploads[owner])}`,
  },
  {
    kind: 'mutation',
    field: 'createUpload',
    access: 'user',
    args: () => 'filename: "a.png", contentType: "image/png", size: 10',
  },
  { kind: 'mutation', field: 'deleteFile', access: 'user', args: (f, owner) => `id: ${str(f.uploads[owner])}` },
  {
    kind: 'mutation',
    field: 'enqueueJob',
    access: 'admin',
    args: () => 'type: "database-backup", payload: { schema: "realtime" }, options: { delayMs: 3600000 }',
  },
  { kind: 'mutation', field: 'idmeAuthorizationUrl', access: 'user' },
  {
    kind: 'mutation',
    field: 'inviteToRoom',
    access: 'self',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}, userId: "carol"`,
  },
  // Joining another user's private room needs an invitation, whoever asks.
  { kind: 'mutation', field: 'joinRoom', access: 'self', args: (f, owner) => `roomId: ${str(f.rooms[owner])}` },
  { kind: 'mutation', field: 'leaveRoom', access: 'user', args: () => `roomId: ${str(uuid())}` },
  { kind: 'mutation', field: 'markNotificationsRead', access: 'user', args: () => 'all: true' },
  {
    kind: 'mutation',
    field: 'registerPushSubscription',
    access: 'user',
    args: () => 'endpoint: "https://push.example.com/send/matrix", p256dh: "k", auth: "a"',
  },
  { kind: 'mutation', field: 'replayFailedWebhookEvents', access: 'admin', args: () => 'plugin: "stripe"' },
  {
    kind: 'mutation',
    field: 'replayWebhookEvent',
    access: 'admin',
    args: () => 'plugin: "stripe", id: "evt_not_in_the_log"',
  },
  { kind: 'mutation', field: 'reprocessFile', access: 'admin', args: (f, owner) => `id: ${str(f.files[owner])}` },
  { kind: 'mutation', field: 'retryJob', access: 'admin', args: (f) => `id: ${str(f.jobId)}` },
  {
    kind: 'mutation',
    field: 'sendBulkNotifications',
    access: 'admin',
    args: () => 'userIds: ["carol"], template: "hello", data: { name: "x" }, channels: [IN_APP]',
  },
  {
    kind: 'mutation',
    field: 'sendNotification',
    access: 'admin',
    args: () => 'userId: "carol", template: "hello", data: { name: "x" }, channels: [IN_APP]',
  },
  {
    kind: 'mutation',
    field: 'setNotificationRecipient',
    access: 'admin',
    args: () => 'userId: "carol", email: "carol@example.com"',
  },
  { kind: 'mutation', field: 'setPresence', access: 'user', args: () => 'status: ONLINE' },
  {
    kind: 'mutation',
    field: 'startTyping',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
  },
  {
    kind: 'mutation',
    field: 'stopTyping',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
  },
  { kind: 'mutation', field: 'syncStripe', access: 'admin', args: () => 'resources: ["customers"]' },
  { kind: 'mutation', field: 'syncGithub', access: 'admin', args: () => 'resources: ["releases"]' },
  { kind: 'mutation', field: 'syncShopify', access: 'admin', args: () => 'resources: ["locations"]' },
  {
    kind: 'mutation',
    field: 'unregisterPushSubscription',
    access: 'user',
    args: () => 'endpoint: "https://push.example.com/send/none"',
  },
  { kind: 'mutation', field: 'updateNotificationPreferences', access: 'user', args: () => 'preferences: []' },
  {
    kind: 'mutation',
    field: 'updateNotificationTemplate',
    access: 'admin',
    args: () => 'input: { name: "hello", subject: "Hello {{ name }}", body: "Hi {{ name }}" }',
  },
  // Owners and admins *of the room*: the gateway admin who is not in it may not rename it.
  {
    kind: 'mutation',
    field: 'updateRoom',
    access: 'self',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}, name: ${str(`${owner}'s room`)}`,
  },
  { kind: 'mutation', field: 'verifyIdme', access: 'user', args: () => 'code: "not-a-code", state: "not-a-state"' },
  // Subscription
  {
    kind: 'subscription',
    field: 'fileProcessed',
    access: 'user',
    args: (f, owner) => `id: ${str(f.files[owner])}`,
    trigger: (f, owner) => ok(`mutation { reprocessFile(id: ${str(f.files[owner])}) { id } }`, headers.admin),
  },
  { kind: 'subscription', field: 'idmeVerified', access: 'admin', trigger: idmeVerification },
  { kind: 'subscription', field: 'jobUpdates', access: 'admin', args: (f) => `id: ${str(f.jobId)}` },
  {
    kind: 'subscription',
    field: 'notificationAdded',
    access: 'user',
    trigger: (_f, _o, subscriber) =>
      ok(
        `mutation { sendNotification(userId: ${str(subscriber)}, template: "hello", data: { name: "x" }, channels: [IN_APP]) { duplicate } }`,
        headers.admin,
      ),
  },
  {
    kind: 'subscription',
    field: 'presence',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
    trigger: (_f, owner) => asOwner(owner, 'mutation { setPresence(status: ONLINE) { status } }'),
  },
  {
    kind: 'subscription',
    field: 'roomEvents',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
  },
  { kind: 'subscription', field: 'stripeEvents', access: 'admin', trigger: stripeWebhook },
  { kind: 'subscription', field: 'githubEvents', access: 'admin', trigger: githubWebhook },
  { kind: 'subscription', field: 'shopifyEvents', access: 'admin', trigger: shopifyWebhook },
  {
    kind: 'subscription',
    field: 'syncProgress',
    access: 'admin',
    trigger: () => gateway.gql('mutation { syncStripe(resources: ["customers"]) { id } }', { headers: headers.admin }),
  },
  {
    kind: 'subscription',
    field: 'typing',
    access: 'self-or-admin',
    args: (f, owner) => `roomId: ${str(f.rooms[owner])}`,
    trigger: (f, owner) => asOwner(owner, `mutation { startTyping(roomId: ${str(f.rooms[owner])}) }`),
  },
  { kind: 'subscription', field: 'webhookEvents', access: 'admin', trigger: stripeWebhook },
];

/** The calls a row is checked with: who calls, on whose resource, and whether it must be allowed. */
function callsOf(access: Access): { caller: Caller; owner: Owner; allowed: boolean }[] {
  const owned = access === 'self' || access === 'self-or-admin';
  return [
    { caller: 'anonymous', owner: 'alice', allowed: access === 'anonymous' },
    { caller: 'user', owner: 'alice', allowed: access !== 'admin' },
    ...(owned ? [{ caller: 'other' as const, owner: 'bob' as const, allowed: false }] : []),
    // An admin acts on another user's resource where the field takes one.
    { caller: 'admin', owner: owned ? 'bob' : 'alice', allowed: access !== 'self' },
    ...(access === 'admin' ? [{ caller: 'adminSecret' as const, owner: 'alice' as const, allowed: true }] : []),
  ];
}

const REFUSALS = ['UNAUTHENTICATED', 'FORBIDDEN'];
const codesOf = (body: GraphQLBody) => (body.errors ?? []).map((error) => error.extensions?.['code']);

function documentOf(row: Row, owner: Owner): string {
  const field = fieldOf(row);
  const args = row.args?.(fx, owner);
  const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
  return `${row.kind} { ${row.field}${args ? `(${args})` : ''}${selection} }`;
}

function fieldOf(row: Row): GraphQLField<unknown, unknown> {
  const type = {
    query: gateway.schema.getQueryType(),
    mutation: gateway.schema.getMutationType(),
    subscription: gateway.schema.getSubscriptionType(),
  }[row.kind];
  return type!.getFields()[row.field]!;
}

/** The caller's headers; "other" is the plain user, acting on bob's resource. */
const headersOf = (caller: Caller) => headers[caller === 'other' ? 'user' : caller];

function expectVerdict(body: GraphQLBody, row: Row, caller: Caller, allowed: boolean, what: string): void {
  const codes = codesOf(body);
  const label = `${row.field} as ${caller} ${what}: ${JSON.stringify(body.errors ?? [])}`;
  if (allowed) {
    expect(
      codes.filter((code) => REFUSALS.includes(String(code))),
      label,
    ).toEqual([]);
    return;
  }
  expect(codes, label).not.toHaveLength(0);
  expect(
    codes.every((code) => (caller === 'anonymous' ? REFUSALS : ['FORBIDDEN']).includes(String(code))),
    label,
  ).toBe(true);
  expect(body.data?.[row.field] ?? null, label).toBeNull();
}

const sockets = new Map<Caller, TestWsClient>();
function socketOf(caller: Caller): TestWsClient {
  const key = caller === 'other' ? 'user' : caller;
  let ws = sockets.get(key);
  if (!ws) {
    ws = connectWs(gateway.wsUrl, { headers: headersOf(caller) });
    sockets.set(key, ws);
  }
  return ws;
}

/** The first message of a subscription, firing `trigger` until one comes (it may start after the trigger). */
async function firstMessage<T>(
  subscription: TestSubscription<T>,
  trigger?: () => Promise<unknown>,
  timeoutMs = 15_000,
): Promise<T> {
  const next = subscription.next();
  const arrived = next.then(
    () => true,
    () => true,
  );
  let checks = 0;
  await vi.waitFor(
    async () => {
      // Not on the first check: a message may come without it.
      if (checks++ > 0) await trigger?.();
      // Each check gives the message 300 ms, then fires the trigger again.
      if (!(await Promise.race([arrived, sleep(300).then(() => false)]))) throw new Error('no message yet');
    },
    { timeout: timeoutMs, interval: 10 },
  );
  return next;
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'plugboard-matrix-'));
  [db, stripe, idme] = await Promise.all([createTestDatabase(), startStripeServer(), startIdmeProvider()]);
  gateway = await startTestGateway({
    databaseUrl: db.url,
    plugins: registry,
    env: {
      // retryJob may run the fixture's backup job: somewhere harmless.
      JOBS_BACKUP_DIR: scratch,
      STRIPE_API_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_SYNC_INTERVAL: '0',
      // GitHub has no root field yet; enabled so a field it adds must be declared here.
      GITHUB_WEBHOOK_SECRET,
      GITHUB_TOKEN: `ghp_${'t'.repeat(36)}`,
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_SYNC_INTERVAL: '0',
      SHOPIFY_API_KEY: 'matrix-shopify-api-key',
      SHOPIFY_API_SECRET,
      // syncShopify's run fails at once here (nothing listens), never reaching out.
      SHOPIFY_ADMIN_URL: 'http://127.0.0.1:9/{shop}',
      SHOPIFY_SHOP: 'matrix-shop.myshopify.com',
      SHOPIFY_ACCESS_TOKEN: `shpat_${'t'.repeat(32)}`,
      SHOPIFY_SYNC_INTERVAL: '0',
      IDME_CLIENT_ID: idme.clientId,
      IDME_CLIENT_SECRET: idme.clientSecret,
      IDME_REDIRECT_URI: idme.redirectUri,
      IDME_ISSUER_URL: idme.issuer,
      FILES_LOCAL_DIR: join(scratch, 'files'),
    },
  });
  headers.user = { authorization: `Bearer ${await signToken({ userId: USERS.user })}` };
  headers.bob = { authorization: `Bearer ${await signToken({ userId: USERS.other })}` };
  headers.admin = { authorization: `Bearer ${await signToken({ userId: USERS.admin, defaultRole: 'admin' })}` };
  stripe.seed('customer', 2);

  for (const owner of ['alice', 'bob'] as const) {
    const created = await asOwner(
      owner,
      `mutation { createRoom(name: ${str(`${owner}'s room`)}, isPrivate: true) { id } }`,
    );
    fx.rooms[owner] = (created['createRoom'] as { id: string }).id;
  }
  await ok(
    'mutation { createNotificationTemplate(input: { name: "hello", subject: "Hello {{ name }}", body: "Hi {{ name }}" }) { version } }',
    headers.admin,
  );
  const job = await ok(
    'mutation { enqueueJob(type: "database-backup", payload: { schema: "realtime" }, options: { delayMs: 3600000 }) { id } }',
    headers.admin,
  );
  fx.jobId = (job['enqueueJob'] as { id: string }).id;

  // Each owner's processed file, and an upload of theirs that never got its bytes.
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } })
    .png()
    .toBuffer();
  for (const owner of ['alice', 'bob'] as const) {
    const upload = (await asOwner(
      owner,
      `mutation { createUpload(filename: "m.png", contentType: "image/png", size: ${png.length}) { file { id } url headers } }`,
    )) as { createUpload: { file: { id: string }; url: string; headers: Record<string, string> } };
    const { file, url, headers: put } = upload.createUpload;
    expect((await fetch(new URL(url, gateway.url), { method: 'PUT', headers: put, body: png })).status).toBe(200);
    await asOwner(owner, `mutation { completeUpload(id: ${str(file.id)}) { id } }`);
    fx.files[owner] = file.id;
    const pending = (await asOwner(
      owner,
      'mutation { createUpload(filename: "p.png", contentType: "image/png", size: 10) { file { id } } }',
    )) as { createUpload: { file: { id: string } } };
    fx.uploads[owner] = pending.createUpload.file.id;
  }
  await vi.waitFor(
    async () => {
      for (const owner of ['alice', 'bob'] as const) {
        const found = await ok(`{ file(id: ${str(fx.files[owner])}) { status } }`, headers.admin);
        expect(found['file']).toEqual({ status: 'READY' });
      }
    },
    { timeout: 20_000, interval: 100 },
  );
}, 60_000);

afterAll(async () => {
  for (const ws of sockets.values()) await ws.client.dispose();
  await gateway?.close();
  await Promise.all([db?.drop(), stripe?.close(), idme?.close(), rm(scratch, { recursive: true, force: true })]);
});

test('declares every root field of the composed schema, and no other', () => {
  expect(gateway.plugins.filter((plugin) => !plugin.enabled)).toEqual([]);
  const inSchema = (kind: Kind, type: { getFields(): Record<string, unknown> } | null | undefined) =>
    Object.keys(type?.getFields() ?? {}).map((field) => `${kind} ${field}`);
  const schemaFields = [
    ...inSchema('query', gateway.schema.getQueryType()),
    ...inSchema('mutation', gateway.schema.getMutationType()),
    ...inSchema('subscription', gateway.schema.getSubscriptionType()),
  ].sort();
  expect(ROWS.map((row) => `${row.kind} ${row.field}`).sort()).toEqual(schemaFields);
});

describe.each(['http', 'ws'] as const)('queries and mutations over %s', (transport) => {
  test.each(ROWS.filter((row) => row.kind !== 'subscription'))('$kind $field: $access', async (row) => {
    for (const { caller, owner, allowed } of callsOf(row.access)) {
      const query = documentOf(row, owner);
      if (transport === 'http') {
        const { status, body } = await gateway.gql(query, { headers: headersOf(caller) });
        if (allowed) expect([401, 403], `${row.field} as ${caller}`).not.toContain(status);
        expectVerdict(body, row, caller, allowed, `over HTTP (${query})`);
      } else {
        const subscription = socketOf(caller).subscribe<Record<string, unknown>>(query);
        expectVerdict(await firstMessage(subscription), row, caller, allowed, `over graphql-ws (${query})`);
        subscription.dispose();
      }
    }
  });
});

describe('subscriptions over graphql-ws', () => {
  test.each(ROWS.filter((row) => row.kind === 'subscription'))('$field: $access', async (row) => {
    for (const { caller, owner, allowed } of callsOf(row.access)) {
      const subscription = socketOf(caller).subscribe<Record<string, unknown>>(documentOf(row, owner));
      // A refusal comes at once; an allowed subscription shows it runs by its first event (and a
      // wrongly allowed one by the event its trigger makes, rather than by a timeout).
      const subscriber =
        USERS[caller === 'other' || caller === 'anonymous' ? 'user' : caller === 'adminSecret' ? 'admin' : caller];
      const message = await firstMessage(subscription, row.trigger && (() => row.trigger!(fx, owner, subscriber)));
      expectVerdict(message, row, caller, allowed, 'over graphql-ws');
      if (allowed)
        expect(message.data?.[row.field], `${row.field} as ${caller}: ${JSON.stringify(message)}`).toBeTruthy();
      subscription.dispose();
    }
  });
});
