/**
 * The notifications plugin against real protocol peers through the real SDKs: nodemailer to an
 * smtp-server sink (two, for failover), web-push to a push service that checks VAPID and
 * decrypts, the twilio SDK to a Twilio API stand-in, in-app over the pubsub to a graphql-ws
 * client. Delivery runs on the gateway's queue (pg-boss on this Postgres).
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import webpush from 'web-push';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rateLimited } from '../plugins/notifications/providers.ts';
import { parsePushHosts, ruleFor } from '../plugins/notifications/push-endpoints.ts';
import { twilioProvider } from '../plugins/notifications/sms.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { startMailSink, type MailSink } from './support/mail-sink.ts';
import { runCli } from './support/processes.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { startTwilioServer, type TwilioServer } from './support/twilio-server.ts';
import { startWebPushService, type WebPushService } from './support/web-push-service.ts';
import { connectWs, type TestWsClient } from './support/ws-client.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const DIGEST_SECONDS = 2;
const MAX_PUSH_SUBSCRIPTIONS = 3;
/** NOTIFICATIONS_TEMPLATE_RENDER_LIMIT_MS's default, which this gateway runs with. */
const RENDER_LIMIT_MS = 200;

let db: TestDatabase;
let gateway: TestGateway;
let mail: MailSink;
let backupMail: MailSink;
let push: WebPushService;
let twilio: TwilioServer;
/** A TCP service on 127.0.0.1 that no push may reach; counts the connections it gets. */
let internal: Server;
let internalConnections = 0;
const sockets: TestWsClient[] = [];

type Body = {
  data?: Record<string, never> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};
async function gql(
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Body> {
  return (await gateway.gql(query, { variables, headers })).body as Body;
}
const asUser = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });
async function ok<T>(
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const body = await gql(headers, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const SEND = `mutation($user: ID!, $template: String!, $data: JSON, $channels: [NotificationChannel!], $category: String, $key: String) {
  sendNotification(userId: $user, template: $template, data: $data, channels: $channels, category: $category, idempotencyKey: $key) { notificationIds duplicate }
}`;
const send = (variables: Record<string, unknown>) =>
  ok<{ sendNotification: { notificationIds: string[]; duplicate: boolean } }>(admin, SEND, variables).then(
    (d) => d.sendNotification,
  );

interface Row {
  id: string;
  user_id: string;
  channel: string;
  status: string;
  reason: string | null;
  provider: string | null;
  attempts: number;
  digest_id: string | null;
  send_after: Date | null;
}
const rows = async (ids: string[]) =>
  (await db.pool.query<Row>('SELECT * FROM notifications.notifications WHERE id = ANY($1) ORDER BY channel', [ids]))
    .rows;
/** Waits until every notification has left `queued` (and returns them). */
async function settled(ids: string[], timeoutMs = 15_000): Promise<Row[]> {
  return vi.waitFor(
    async () => {
      const found = await rows(ids);
      expect(found.map((r) => [r.channel, r.status, r.reason])).toHaveLength(ids.length);
      expect(found.filter((r) => r.status === 'queued').map((r) => [r.channel, r.status, r.reason])).toEqual([]);
      return found;
    },
    { timeout: timeoutMs, interval: 50 },
  );
}
const recipient = (userId: string, email: string | null, phone: string | null = null) =>
  ok(
    admin,
    'mutation($u: ID!, $e: String, $p: String) { setNotificationRecipient(userId: $u, email: $e, phone: $p) { userId } }',
    { u: userId, e: email, p: phone },
  );

beforeAll(async () => {
  [db, mail, backupMail, push, twilio] = await Promise.all([
    createTestDatabase(),
    startMailSink({ user: 'mailer', pass: 's3cret' }),
    startMailSink(),
    startWebPushService(),
    startTwilioServer(),
  ]);
  push.trust();
  internal = createServer((socket) => {
    internalConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  const pushPort = new URL(push.origin).port;
  const vapid = webpush.generateVAPIDKeys();
  gateway = await startTestGateway({
    databaseUrl: db.url,
    env: {
      NOTIFICATIONS_SMTP_URL: mail.url,
      NOTIFICATIONS_SMTP_BACKUP_URL: backupMail.url,
      NOTIFICATIONS_EMAIL_FROM: 'Plugboard <no-reply@plugboard.test>',
      NOTIFICATIONS_PUSH_PROVIDER: 'webpush',
      NOTIFICATIONS_VAPID_PUBLIC_KEY: vapid.publicKey,
      NOTIFICATIONS_VAPID_PRIVATE_KEY: vapid.privateKey,
      NOTIFICATIONS_VAPID_SUBJECT: 'mailto:ops@plugboard.test',
      // The real services, the local stand-in named by address and port, and a name that
      // resolves to loopback (as a hostile DNS answer for an allowed name would).
      NOTIFICATIONS_PUSH_ALLOWED_HOSTS: `fcm.googleapis.com,*.notify.windows.com,127.0.0.1:${pushPort},localhost:${pushPort}`,
      NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS: String(MAX_PUSH_SUBSCRIPTIONS),
      NOTIFICATIONS_SMS_PROVIDER: 'twilio',
      NOTIFICATIONS_SMS_ACCOUNT_SID: twilio.accountSid,
      NOTIFICATIONS_SMS_AUTH_TOKEN: twilio.authToken,
      NOTIFICATIONS_SMS_FROM: '+15550001111',
      NOTIFICATIONS_TWILIO_API_URL: twilio.url,
      NOTIFICATIONS_MAX_ATTEMPTS: '3',
      NOTIFICATIONS_RETRY_DELAY_MS: '100',
      NOTIFICATIONS_BATCH_INTERVAL: String(DIGEST_SECONDS),
    },
  });
  await ok(
    admin,
    `mutation {
    a: createNotificationTemplate(input: { name: "welcome", subject: "Welcome {{ name }}", body: "Hi {{ name }}, your plan is {{ plan | upcase }}." }) { version }
    b: createNotificationTemplate(input: { name: "welcome", channel: EMAIL, subject: "Welcome aboard, {{ name }}", body: "Hi {{ name }} (email).", html: "<p>Hi {{ name }}</p>" }) { version }
    c: createNotificationTemplate(input: { name: "news", subject: "{{ title }}", body: "{{ title }}: read more" }) { version }
  }`,
  );
});

afterAll(async () => {
  for (const socket of sockets) await socket.client.dispose();
  await gateway?.close();
  await Promise.all([
    db?.drop(),
    mail?.close(),
    backupMail?.close(),
    push?.close(),
    twilio?.close(),
    new Promise((resolve) => (internal ? internal.close(resolve) : resolve(undefined))),
  ]);
});

describe('sending on every channel', () => {
  it('delivers email, push, SMS and in-app, each through its real peer, and records the outcome', async () => {
    await recipient('alice', 'alice@example.test', '+15557654321');
    const { subscription } = push.subscribe();
    await ok(
      await asUser('alice'),
      'mutation($e: String!, $p: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $p, auth: $a) { id } }',
      {
        e: subscription.endpoint,
        p: subscription.keys.p256dh,
        a: subscription.keys.auth,
      },
    );
    const ws = connectWs(gateway.wsUrl, { Authorization: `Bearer ${await signToken({ userId: 'alice' })}` });
    sockets.push(ws);
    await ws.connected;
    const added = ws.subscribe<{ notificationAdded: { body: string; subject: string } }>(
      'subscription { notificationAdded { body subject } }',
    );
    // Kept: lets the server register the subscription (graphql-ws does not acknowledge it); were it
    // too short, the in-app event would be missed and the test would fail, not pass wrongly.
    await sleep(200);

    const before = { mail: mail.messages.length, push: push.received.length, sms: twilio.messages.length };
    const sent = await send({
      user: 'alice',
      template: 'welcome',
      data: { name: 'Alice', plan: 'pro' },
      channels: ['EMAIL', 'PUSH', 'SMS', 'IN_APP'],
    });
    expect(sent.notificationIds).toHaveLength(4);
    expect((await added.next()).data?.notificationAdded).toEqual({
      subject: 'Welcome Alice',
      body: 'Hi Alice, your plan is PRO.',
    });

    const [email] = (await mail.waitFor(before.mail + 1)).slice(before.mail);
    expect(email).toMatchObject({
      to: ['alice@example.test'],
      subject: 'Welcome aboard, Alice',
      text: 'Hi Alice (email).',
    });
    expect(email!.html).toContain('<p>Hi Alice</p>');
    const [pushed] = (await push.waitFor(before.push + 1)).slice(before.push);
    expect(JSON.parse(pushed!.payload)).toMatchObject({ title: 'Welcome Alice', body: 'Hi Alice, your plan is PRO.' });
    expect(pushed!.vapidSubject).toBe('mailto:ops@plugboard.test');
    const [sms] = (await twilio.waitFor(before.sms + 1)).slice(before.sms);
    expect(sms).toMatchObject({
      to: '+15557654321',
      from: '+15550001111',
      body: 'Welcome Alice\nHi Alice, your plan is PRO.',
    });

    const outcome = await settled(sent.notificationIds);
    expect(outcome.map((r) => [r.channel, r.status, r.provider])).toEqual([
      ['EMAIL', 'sent', 'smtp'],
      ['IN_APP', 'delivered', 'in-app'],
      ['PUSH', 'sent', 'webpush'],
      ['SMS', 'sent', 'twilio'],
    ]);
    const {
      rows: [twilioRow],
    } = await db.pool.query('SELECT provider_message_id FROM notifications.notifications WHERE id = $1', [
      outcome[3]!.id,
    ]);
    expect(twilioRow.provider_message_id).toBe(sms!.sid);

    const inbox = await ok<{ notifications: { edges: { node: { subject: string; read: boolean } }[] } }>(
      await asUser('alice'),
      '{ notifications(unreadOnly: true) { edges { node { subject read } } } }',
    );
    expect(inbox.notifications.edges.map((e) => e.node)).toEqual([{ subject: 'Welcome Alice', read: false }]);
  });

  it('fails at enqueue, naming the variable, when the data lacks one, and stores nothing', async () => {
    const before = await db.pool.query('SELECT count(*)::int AS n FROM notifications.notifications');
    const body = await gql(admin, SEND, {
      user: 'alice',
      template: 'welcome',
      data: { name: 'Alice' },
      channels: ['IN_APP'],
    });
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('"plan"'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const unknown = await gql(admin, SEND, { user: 'alice', template: 'nope', channels: ['IN_APP'] });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const after = await db.pool.query('SELECT count(*)::int AS n FROM notifications.notifications');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('rejects a template whose Liquid does not parse, and lets only admins send', async () => {
    const broken = await gql(
      admin,
      'mutation { createNotificationTemplate(input: { name: "broken", body: "Hi {{ name" }) { id } }',
    );
    expect(broken.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const asBob = await gql(await asUser('bob'), SEND, {
      user: 'alice',
      template: 'news',
      data: { title: 'x' },
      channels: ['IN_APP'],
    });
    expect(asBob.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});

describe('preferences, quiet hours, digests', () => {
  it('skips a channel the user opted out of for that category, and still sends the others', async () => {
    await recipient('bob', 'bob@example.test');
    await ok(
      await asUser('bob'),
      'mutation { updateNotificationPreferences(preferences: [{ channel: EMAIL, category: "marketing", enabled: false }]) { preferences { category } } }',
    );
    const skipped = await send({
      user: 'bob',
      template: 'news',
      data: { title: 'Sale' },
      channels: ['EMAIL'],
      category: 'marketing',
    });
    const kept = await send({
      user: 'bob',
      template: 'news',
      data: { title: 'Security notice' },
      channels: ['EMAIL'],
      category: 'security',
    });
    const [a] = await settled(skipped.notificationIds);
    const [b] = await settled(kept.notificationIds);
    expect(a).toMatchObject({ status: 'skipped', reason: 'bob opted out of marketing on EMAIL' });
    expect(b!.status).toBe('sent');
    expect(mail.messages.filter((m) => m.to.includes('bob@example.test')).map((m) => m.subject)).toEqual([
      'Security notice',
    ]);
  });

  it("holds email during quiet hours until the window ends in the user's time zone; in-app is not held", async () => {
    await recipient('carol', 'carol@example.test');
    // A window around now, in Tokyo time.
    const tokyo = (offsetHours: number) =>
      new Date(Date.now() + offsetHours * 3600_000).toLocaleTimeString('en-GB', {
        timeZone: 'Asia/Tokyo',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      });
    await ok(
      await asUser('carol'),
      'mutation($s: String!, $e: String!) { updateNotificationPreferences(quietHours: { start: $s, end: $e, timeZone: "Asia/Tokyo" }) { quietHours { start end timeZone } } }',
      { s: tokyo(-1), e: tokyo(2) },
    );
    const sent = await send({
      user: 'carol',
      template: 'news',
      data: { title: 'Late news' },
      channels: ['EMAIL', 'IN_APP'],
    });
    const [email, inApp] = await settled(sent.notificationIds);
    expect(inApp!.status).toBe('delivered');
    expect(email!.status).toBe('deferred');
    expect(email!.reason).toMatch(/^quiet hours until /);
    const wait = email!.send_after!.getTime() - Date.now();
    expect(wait).toBeGreaterThan(1.9 * 3600_000);
    expect(wait).toBeLessThan(2 * 3600_000 + 60_000);
    expect(mail.messages.some((m) => m.to.includes('carol@example.test'))).toBe(false);
  });

  it('gathers a category the user wants as a digest into one message per interval', async () => {
    await recipient('dave', 'dave@example.test');
    await ok(
      await asUser('dave'),
      'mutation { updateNotificationPreferences(preferences: [{ channel: EMAIL, category: "news", enabled: true, digest: true }]) { preferences { digest } } }',
    );
    // Digest windows are aligned to the interval (scheduleNextDigest): start just after a boundary,
    // so the three sends fall into one window even on a loaded machine.
    const intervalMs = DIGEST_SECONDS * 1000;
    await sleep(intervalMs - (Date.now() % intervalMs) + 50);
    const ids: string[] = [];
    for (const title of ['One', 'Two', 'Three'])
      ids.push(
        ...(await send({ user: 'dave', template: 'news', data: { title }, channels: ['EMAIL'], category: 'news' }))
          .notificationIds,
      );
    expect((await settled(ids)).map((r) => r.status)).toEqual(['deferred', 'deferred', 'deferred']);
    await expect
      .poll(() => mail.messages.some((m) => m.to.includes('dave@example.test')), {
        timeout: (DIGEST_SECONDS + 8) * 1000,
        interval: 100,
      })
      .toBe(true);
    await expect
      .poll(async () => (await rows(ids)).map((r) => r.status), { timeout: 5000 })
      .toEqual(['sent', 'sent', 'sent']);
    // Barrier: a later, immediate mail to dave goes out after any second digest of the same window.
    const marker = await send({ user: 'dave', template: 'news', data: { title: 'Marker' }, channels: ['EMAIL'] });
    await settled(marker.notificationIds);
    await expect
      .poll(() => mail.messages.some((m) => m.to.includes('dave@example.test') && m.subject === 'Marker'))
      .toBe(true);
    const digests = mail.messages.filter((m) => m.to.includes('dave@example.test') && m.subject !== 'Marker');
    expect(digests).toHaveLength(1);
    expect(digests[0]!.subject).toBe('3 new news notifications');
    expect(digests[0]!.text).toBe('- One\n- Two\n- Three\n');
    const items = await rows(ids);
    expect(new Set(items.map((r) => r.status))).toEqual(new Set(['sent']));
    expect(new Set(items.map((r) => r.digest_id)).size).toBe(1);
  });
});

describe('idempotency, retries, failover, dead letters', () => {
  it('reads a variable inside a JSON literal', async () => {
    await recipient('nia', 'nia@example.test');
    const before = mail.messages.length;
    const { sendNotification: sent } = await ok<{ sendNotification: { notificationIds: string[] } }>(
      admin,
      'mutation($t: String!) { sendNotification(userId: "nia", template: "news", data: { title: $t }, channels: [EMAIL]) { notificationIds } }',
      { t: 'From a variable' },
    );
    await settled(sent.notificationIds);
    expect((await mail.waitFor(before + 1)).slice(before)[0]).toMatchObject({
      to: ['nia@example.test'],
      subject: 'From a variable',
    });
  });

  it('gives at most one notification per idempotency key', async () => {
    await recipient('erin', 'erin@example.test');
    const first = await send({
      user: 'erin',
      template: 'news',
      data: { title: 'Once' },
      channels: ['EMAIL'],
      key: 'order-42-shipped',
    });
    const again = await send({
      user: 'erin',
      template: 'news',
      data: { title: 'Once' },
      channels: ['EMAIL'],
      key: 'order-42-shipped',
    });
    expect(again).toEqual({ notificationIds: first.notificationIds, duplicate: true });
    await settled(first.notificationIds);
    // Barrier: a later mail to erin, through the same queue, arrives after any second copy would have.
    const marker = await send({ user: 'erin', template: 'news', data: { title: 'Marker' }, channels: ['EMAIL'] });
    await settled(marker.notificationIds);
    await expect
      .poll(() => mail.messages.some((m) => m.to.includes('erin@example.test') && m.subject === 'Marker'))
      .toBe(true);
    expect(mail.messages.filter((m) => m.to.includes('erin@example.test')).map((m) => m.subject)).toEqual([
      'Once',
      'Marker',
    ]);
  });

  it('fails over to the next provider when the first refuses for now', async () => {
    await recipient('frank', 'frank@example.test');
    mail.failNext(1, 451);
    const [row] = await settled(
      (await send({ user: 'frank', template: 'news', data: { title: 'Failover' }, channels: ['EMAIL'] }))
        .notificationIds,
    );
    expect(row).toMatchObject({ status: 'sent', provider: 'smtp-backup', attempts: 1 });
    expect(backupMail.messages.map((m) => m.to)).toContainEqual(['frank@example.test']);
  });

  it('retries with backoff when every provider fails, then succeeds', async () => {
    await recipient('gina', 'gina@example.test');
    mail.failNext(1, 451);
    backupMail.failNext(1, 452);
    const [row] = await settled(
      (await send({ user: 'gina', template: 'news', data: { title: 'Retry' }, channels: ['EMAIL'] })).notificationIds,
    );
    expect(row).toMatchObject({ status: 'sent', provider: 'smtp', attempts: 2 });
  });

  it("retries a failed message of a bulk send alone, counting the batch's attempt", async () => {
    await Promise.all([recipient('kim', 'kim@example.test'), recipient('lou', 'lou@example.test')]);
    // Both first attempts (in one deliver-batch job) fail on both providers; of the retries, one
    // fails again and the other goes through; the third attempt sends the last.
    mail.failNext(3, 451);
    backupMail.failNext(3, 452);
    const { sendBulkNotifications: receipt } = await ok<{ sendBulkNotifications: { batchId: string } }>(
      admin,
      'mutation { sendBulkNotifications(userIds: ["kim", "lou"], template: "news", data: { title: "Retry bulk" }, channels: [EMAIL]) { batchId } }',
    );
    const { rows: ids } = await db.pool.query<{ id: string }>(
      'SELECT id FROM notifications.notifications WHERE batch_id = $1',
      [receipt.batchId],
    );
    const sent = await settled(ids.map((r) => r.id));
    expect(sent.map((r) => [r.status, r.provider])).toEqual([
      ['sent', 'smtp'],
      ['sent', 'smtp'],
    ]);
    expect(sent.map((r) => r.attempts).sort()).toEqual([2, 3]);
    for (const row of sent) {
      // The row is marked sent inside the job; the queue records the job completed just after.
      await expect.poll(async () => (await gateway.queue.getJob('notifications', row.id))?.state).toBe('completed');
      expect(await gateway.queue.getJob('notifications', row.id)).toMatchObject({
        name: 'deliver',
        data: { id: row.id, attemptsBefore: 1 },
      });
    }
  });

  it('fails for good after the last attempt, keeping the reason, and at once when the recipient is refused', async () => {
    await recipient('hank', null, '+15551112222');
    twilio.failNext(3, { status: 503, code: 20503, message: 'Service unavailable' });
    const [dead] = await settled(
      (await send({ user: 'hank', template: 'news', data: { title: 'Dead' }, channels: ['SMS'] })).notificationIds,
    );
    expect(dead).toMatchObject({ status: 'failed', attempts: 3 });
    expect(dead!.reason).toMatch(/^gave up after 3 attempts: Twilio: Service unavailable/);

    await recipient('ivy', 'nobody@example.test');
    mail.failNext(1, 550);
    const [refused] = await settled(
      (await send({ user: 'ivy', template: 'news', data: { title: 'Bounce' }, channels: ['EMAIL'] })).notificationIds,
    );
    expect(refused).toMatchObject({ status: 'failed', attempts: 1 });
    expect(refused!.reason).toMatch(/smtp refused the recipient/);
    expect(backupMail.messages.some((m) => m.to.includes('nobody@example.test'))).toBe(false);
  });

  it('forgets a push subscription the push service says is gone', async () => {
    const { id, subscription } = push.subscribe();
    await ok(
      await asUser('jack'),
      'mutation($e: String!, $p: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $p, auth: $a) { id } }',
      {
        e: subscription.endpoint,
        p: subscription.keys.p256dh,
        a: subscription.keys.auth,
      },
    );
    push.gone(id);
    const [row] = await settled(
      (await send({ user: 'jack', template: 'news', data: { title: 'Gone' }, channels: ['PUSH'] })).notificationIds,
    );
    expect(row!.status).toBe('failed');
    expect(row!.reason).toMatch(/is gone/);
    const left = await db.pool.query(
      'SELECT count(*)::int AS n FROM notifications.push_subscriptions WHERE user_id = $1',
      ['jack'],
    );
    expect(left.rows[0].n).toBe(0);
  });

  it("delivers the jobs plugin's send-email through the same providers", async () => {
    const before = mail.messages.length;
    await ok(
      admin,
      'mutation { enqueueJob(type: "send-email", payload: { to: "ops@example.test", template: "news", data: { title: "From a job" } }) { id } }',
    );
    const [message] = (await mail.waitFor(before + 1)).slice(before);
    expect(message).toMatchObject({ to: ['ops@example.test'], subject: 'From a job' });
  });
});

describe('bulk sends and privacy', () => {
  it('sends to 10,000 users in one batch, every delivery accounted for', async () => {
    const users = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`);
    await db.pool.query(
      "INSERT INTO notifications.recipients (user_id, email) SELECT u, u || '@bulk.test' FROM unnest($1::text[]) AS u",
      [users],
    );
    const before = mail.messages.length;
    const { sendBulkNotifications: receipt } = await ok<{
      sendBulkNotifications: { batchId: string; notifications: number };
    }>(
      admin,
      'mutation($u: [ID!]!) { sendBulkNotifications(userIds: $u, template: "news", data: { title: "Bulk" }, channels: [EMAIL], category: "announcements") { batchId notifications } }',
      { u: users },
    );
    expect(receipt.notifications).toBe(10_000);
    type Batch = { total: number; sent: number; failed: number; skipped: number; done: boolean };
    const batch = async () =>
      (
        await ok<{ notificationBatch: Batch }>(
          admin,
          'query($id: ID!) { notificationBatch(id: $id) { total sent failed skipped done } }',
          { id: receipt.batchId },
        )
      ).notificationBatch;
    await expect.poll(async () => (await batch()).done, { timeout: 120_000, interval: 250 }).toBe(true);
    expect(await batch()).toEqual({ total: 10_000, sent: 10_000, failed: 0, skipped: 0, done: true });
    const received = mail.messages
      .slice(before)
      .filter((m) => m.subject === 'Bulk')
      .map((m) => m.to[0]);
    expect(new Set(received).size).toBe(10_000);
    expect(received.length).toBe(10_000);
  }, 150_000);

  it("never shows one user another's notifications", async () => {
    const sent = await send({
      user: 'alice',
      template: 'news',
      data: { title: 'Private to Alice' },
      channels: ['IN_APP'],
    });
    await settled(sent.notificationIds);
    const bob = await asUser('bob');
    const bobs = await ok<{ notifications: { edges: { node: { subject: string } }[] } }>(
      bob,
      '{ notifications { edges { node { subject } } } }',
    );
    expect(bobs.notifications.edges.map((e) => e.node.subject)).not.toContain('Private to Alice');
    expect(
      await ok(bob, 'mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', { ids: sent.notificationIds }),
    ).toEqual({ markNotificationsRead: 0 });
    const alice = await asUser('alice');
    expect(
      await ok(alice, 'mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }', { ids: sent.notificationIds }),
    ).toEqual({ markNotificationsRead: 1 });
    const anonymous = await gql({}, '{ notifications { edges { node { id } } } }');
    expect(anonymous.errors?.[0]?.extensions?.['code']).toMatch(/UNAUTHENTICATED|FORBIDDEN/);
  });
});

const REGISTER =
  'mutation($e: String!, $p: String!, $a: String!) { registerPushSubscription(endpoint: $e, p256dh: $p, auth: $a) { id endpoint } }';
const subscriptionsOf = async (userId: string) =>
  (
    await db.pool.query<{ endpoint: string }>(
      'SELECT endpoint FROM notifications.push_subscriptions WHERE user_id = $1 ORDER BY created_at',
      [userId],
    )
  ).rows.map((r) => r.endpoint);

describe('templates are bounded (issue 16, item 8)', () => {
  const items = Array.from({ length: 4000 }, () => 0);
  it.each([
    ['a loop bound from data (1..1e9)', '{% for i in (1..data.n) %}x{% endfor %}', { n: 1e9 }],
    ['a loop bound from data (1..1e7)', '{% for i in (1..data.n) %}x{% endfor %}', { n: 1e7 }],
    [
      'nested loops over a data array',
      '{% for a in data.items %}{% for b in data.items %}{% endfor %}{% endfor %}',
      { items },
    ],
    [
      'a string doubled by filters',
      '{% assign s = data.s %}{% for i in (1..data.n) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      { s: 'x', n: 28 },
    ],
    [
      'a large string output over and over',
      '{% for i in (1..data.n) %}{{ data.s }}{% endfor %}',
      { s: 'y'.repeat(100_000), n: 200 },
    ],
  ])(
    'refuses %s quickly with NOTIFICATIONS_TEMPLATE_LIMIT, without holding the event loop, storing nothing',
    async (_name, body, data) => {
      const name = `hostile-${Math.random().toString(36).slice(2, 10)}`;
      await ok(
        admin,
        'mutation($n: String!, $b: String!) { createNotificationTemplate(input: { name: $n, body: $b }) { id } }',
        { n: name, b: body },
      );
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      const response = await gql(admin, SEND, {
        user: 'alice',
        template: name,
        data: { data },
        channels: ['IN_APP', 'EMAIL', 'SMS'],
      });
      const elapsed = performance.now() - started;
      delay.disable();
      expect(response.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/NOTIFICATIONS_TEMPLATE_(RENDER|MEMORY)_LIMIT/),
        extensions: { code: 'NOTIFICATIONS_TEMPLATE_LIMIT' },
      });
      // Three channels render one after another, each within the limit; the loop is never held longer than one.
      expect(elapsed).toBeLessThan(3 * RENDER_LIMIT_MS + 1000);
      expect(delay.max / 1e6).toBeLessThan(RENDER_LIMIT_MS + 150);
      const stored = await db.pool.query(
        'SELECT count(*)::int AS n FROM notifications.notifications WHERE template = $1',
        [name],
      );
      expect(stored.rows[0].n).toBe(0);
    },
  );

  it('fails a send-email job whose template exceeds a limit, for good and with the reason', async () => {
    await ok(
      admin,
      'mutation { createNotificationTemplate(input: { name: "hostile-job", channel: EMAIL, subject: "x", body: "{% for i in (1..data.n) %}x{% endfor %}" }) { id } }',
    );
    const before = mail.messages.length;
    const { enqueueJob } = await ok<{ enqueueJob: { id: string } }>(
      admin,
      'mutation { enqueueJob(type: "send-email", payload: { to: "ops@example.test", template: "hostile-job", data: { data: { n: 1000000000 } } }) { id } }',
    );
    // The jobs plugin hands it to the notifications queue, which renders it: one attempt, as it can never succeed.
    const handedOver = `send-email:${enqueueJob.id}`;
    await expect
      .poll(async () => (await gateway.queue.getJob('notifications', handedOver))?.state, { timeout: 15_000 })
      .toBe('failed');
    expect(await gateway.queue.getJob('notifications', handedOver)).toMatchObject({
      attemptsMade: 1,
      error: expect.stringMatching(/^NOTIFICATIONS_TEMPLATE_LIMIT: .*NOTIFICATIONS_TEMPLATE_MEMORY_LIMIT/),
    });
    expect(mail.messages.length).toBe(before);
  });

  it('fails the items of a digest that cannot render, and still sends the other digests', async () => {
    // An in-app digest variant that joins each item's subject and body: a big item is too much for it
    // (whichever digest run, or runs, the items fall into).
    await ok(
      admin,
      'mutation { createNotificationTemplate(input: { name: "digest", channel: IN_APP, subject: "{{ count }} {{ category }}", body: "{% for item in items %}{{ item.subject | append: \\": \\" | append: item.body }}\\n{% endfor %}" }) { id } }',
    );
    const ids: Record<string, string[]> = { 'digest-big': [], 'digest-small': [] };
    for (const [user, title] of [
      ['digest-big', 'b'.repeat(300_000)],
      ['digest-big', 'c'.repeat(300_000)],
      ['digest-small', 'Small one'],
      ['digest-small', 'Small two'],
    ] as const) {
      if (ids[user]!.length === 0)
        await ok(
          await asUser(user),
          'mutation { updateNotificationPreferences(preferences: [{ channel: IN_APP, category: "bulky", enabled: true, digest: true }]) { preferences { digest } } }',
        );
      ids[user]!.push(
        ...(await send({ user, template: 'news', data: { title }, channels: ['IN_APP'], category: 'bulky' }))
          .notificationIds,
      );
    }
    const all = [...ids['digest-big']!, ...ids['digest-small']!];
    await expect
      .poll(async () => (await rows(all)).every((r) => r.status === 'sent' || r.status === 'failed'), {
        timeout: (DIGEST_SECONDS + 10) * 1000,
      })
      .toBe(true);
    for (const row of await rows(ids['digest-big']!)) {
      expect(row.status).toBe('failed');
      expect(row.reason).toMatch(/^digest not sent: .*NOTIFICATIONS_TEMPLATE_MEMORY_LIMIT/);
    }
    expect((await rows(ids['digest-small']!)).map((r) => r.status)).toEqual(['sent', 'sent']);
    // The items are marked sent when gathered; the digest message itself is delivered by a job after.
    const smallInbox = asUser('digest-small');
    await expect
      .poll(async () => {
        const inbox = await ok<{ notifications: { edges: { node: { subject: string; body: string } }[] } }>(
          await smallInbox,
          '{ notifications { edges { node { subject body } } } }',
        );
        return inbox.notifications.edges
          .map((e) => e.node)
          .filter((n) => /^\d bulky$/.test(n.subject))
          .map((d) => d.body)
          .join('')
          .split('\n')
          .filter(Boolean)
          .sort();
      })
      .toEqual(['Small one: Small one: read more', 'Small two: Small two: read more']);
  });

  it('refuses to store a template longer than NOTIFICATIONS_TEMPLATE_PARSE_LIMIT', async () => {
    const body = await gql(
      admin,
      'mutation($b: String!) { createNotificationTemplate(input: { name: "too-long", body: $b }) { id } }',
      { b: 'x'.repeat(262_145) },
    );
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('NOTIFICATIONS_TEMPLATE_PARSE_LIMIT'),
      extensions: { code: 'NOTIFICATIONS_TEMPLATE_LIMIT' },
    });
    expect(
      (await db.pool.query("SELECT count(*)::int AS n FROM notifications.templates WHERE name = 'too-long'")).rows[0].n,
    ).toBe(0);
  });

  // Keep: templates read no files, no prototypes, nothing of the process.
  it.each([
    ['include of a path', '{% include "/etc/passwd" %}'],
    ['include of a path from data', '{% include data.path %}'],
    ['render of a path', '{% render "/etc/hostname" %}'],
    ['layout of a path', '{% layout "/etc/passwd" %}x'],
    ['the constructor', '{{ data.constructor }}'],
    ["the constructor's constructor", '{{ data.path.constructor.constructor }}'],
    ['__proto__', '{{ data.__proto__ }}'],
    ['a prototype method', '{{ data.hasOwnProperty }}'],
    ['process', '{{ process.env.PLUGBOARD_ADMIN_SECRET }}'],
    ['env', '{{ env }}'],
    ['global', '{{ global.process }}'],
  ])('a template cannot read %s', async (_name, source) => {
    const name = `keep-${Math.random().toString(36).slice(2, 10)}`;
    const saved = await gql(
      admin,
      'mutation($n: String!, $b: String!) { createNotificationTemplate(input: { name: $n, body: $b }) { id } }',
      { n: name, b: source },
    );
    const response = saved.errors
      ? saved
      : await gql(admin, SEND, {
          user: 'alice',
          template: name,
          data: { data: { path: '/etc/passwd' } },
          channels: ['IN_APP'],
        });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response)).not.toContain(ADMIN_SECRET);
    expect(JSON.stringify(response)).not.toMatch(/root:/);
    expect(
      (await db.pool.query('SELECT count(*)::int AS n FROM notifications.notifications WHERE template = $1', [name]))
        .rows[0].n,
    ).toBe(0);
  });
});

describe('push endpoints (issue 16, item 9)', () => {
  it.each([
    ['fcm.googleapis.com', 'fcm.googleapis.com', 443, true],
    ['fcm.googleapis.com', 'fcm.googleapis.com', 8443, false],
    ['FCM.googleapis.com', 'fcm.googleapis.com', 443, true],
    ['fcm.googleapis.com', 'fcm.googleapis.com.evil.test', 443, false],
    ['fcm.googleapis.com', 'evilfcm.googleapis.com', 443, false],
    ['*.notify.windows.com', 'wns2-by3p.notify.windows.com', 443, true],
    ['*.notify.windows.com', 'notify.windows.com', 443, false],
    ['*.notify.windows.com', 'evilnotify.windows.com', 443, false],
    ['127.0.0.1:8443', '127.0.0.1', 8443, true],
    ['127.0.0.1:8443', '127.0.0.1', 443, false],
    ['127.0.0.1:8443', '127.0.0.2', 8443, false],
    ['[::1]:8443', '[0:0::1]', 8443, true],
    ['[::1]:8443', '::1', 8443, true],
    ['*.0.0.1', '127.0.0.1', 443, false],
  ])('allow-list %s admits %s:%d: %s', (list, host, port, expected) => {
    expect(ruleFor(host, port, parsePushHosts(list).rules) !== undefined).toBe(expected);
  });

  it.each([
    'http://push.example',
    'push.example/path',
    '*.com',
    '*',
    'push.example:0',
    'push.example:70000',
    '::1',
    '[fcm.googleapis.com]',
    'user@push.example',
    '1.2.3.4.5',
  ])('refuses the allow-list entry %s', (entry) => {
    expect(parsePushHosts(entry).invalid).toEqual([entry]);
  });

  it.each([
    ['loopback at another port', () => `https://127.0.0.1:${(internal.address() as AddressInfo).port}/push/x`],
    ['IPv6 loopback', () => `https://[::1]:${new URL(push.origin).port}/push/x`],
    ['a private address', () => 'https://10.0.0.1/push/x'],
    ['the metadata service', () => 'https://169.254.169.254/latest/meta-data/'],
    ['an allowed name resolving to loopback', () => `https://localhost:${new URL(push.origin).port}/push/x`],
    ['a host not on the list', () => 'https://push.evil.test/push/x'],
    ['an allowed name as a prefix of another', () => 'https://fcm.googleapis.com.evil.test/fcm/send/x'],
    ['plain http to the stand-in', () => `http://127.0.0.1:${new URL(push.origin).port}/push/x`],
    ['user info', () => `https://fcm.googleapis.com@10.0.0.1/push/x`],
  ])('refuses to register an endpoint at %s, storing nothing and connecting nowhere', async (_name, endpoint) => {
    const { subscription } = push.subscribe();
    const before = { push: push.connections, internal: internalConnections };
    const body = await gql(await asUser('mallory'), REGISTER, {
      e: endpoint(),
      p: subscription.keys.p256dh,
      a: subscription.keys.auth,
    });
    expect(body.errors?.[0]?.extensions?.['code']).toBe('NOTIFICATIONS_PUSH_ENDPOINT_REFUSED');
    expect(await subscriptionsOf('mallory')).toEqual([]);
    expect({ push: push.connections, internal: internalConnections }).toEqual(before);
  });

  it('refuses, at send time, a stored endpoint whose name now resolves to loopback or that points at an internal port, without connecting', async () => {
    const { subscription } = push.subscribe();
    const port = new URL(push.origin).port;
    const internalPort = (internal.address() as AddressInfo).port;
    // As if registered before the check existed, or while the name still resolved elsewhere.
    await db.pool.query(
      'INSERT INTO notifications.push_subscriptions (user_id, endpoint, p256dh, auth) SELECT $1, e, $2, $3 FROM unnest($4::text[]) AS e',
      [
        'rebound',
        subscription.keys.p256dh,
        subscription.keys.auth,
        [`https://localhost:${port}/push/x`, `https://127.0.0.1:${internalPort}/push/x`],
      ],
    );
    const before = { push: push.connections, internal: internalConnections };
    const [row] = await settled(
      (await send({ user: 'rebound', template: 'news', data: { title: 'Rebound' }, channels: ['PUSH'] }))
        .notificationIds,
    );
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row!.reason).toMatch(/push endpoint refused/);
    expect({ push: push.connections, internal: internalConnections }).toEqual(before);
  });

  it('caps subscriptions per user, also when registrations race, and still lets one be renewed', async () => {
    const register = async (userId: string) => {
      const { subscription } = push.subscribe();
      return {
        subscription,
        body: await gql(await asUser(userId), REGISTER, {
          e: subscription.endpoint,
          p: subscription.keys.p256dh,
          a: subscription.keys.auth,
        }),
      };
    };
    const kept = [];
    for (let i = 0; i < MAX_PUSH_SUBSCRIPTIONS; i++) {
      const { subscription, body } = await register('capped');
      expect(body.errors).toBeUndefined();
      kept.push(subscription.endpoint);
    }
    const over = await register('capped');
    expect(over.body.errors?.[0]).toMatchObject({
      message: expect.stringContaining('NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS'),
      extensions: { code: 'NOTIFICATIONS_PUSH_SUBSCRIPTION_LIMIT' },
    });
    expect(await subscriptionsOf('capped')).toEqual(kept);
    const { subscription } = push.subscribe();
    const renewed = await gql(await asUser('capped'), REGISTER, {
      e: kept[0],
      p: subscription.keys.p256dh,
      a: subscription.keys.auth,
    });
    expect(renewed.errors).toBeUndefined();
    // Unregistering one makes room for another.
    expect(
      await ok(await asUser('capped'), 'mutation($e: String!) { unregisterPushSubscription(endpoint: $e) }', {
        e: kept[1],
      }),
    ).toEqual({ unregisterPushSubscription: true });
    expect((await register('capped')).body.errors).toBeUndefined();
    expect(await subscriptionsOf('capped')).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);

    const raced = await Promise.all(Array.from({ length: 8 }, () => register('racer')));
    expect(raced.filter((r) => !r.body.errors)).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
    expect(
      raced.filter((r) => r.body.errors?.[0]?.extensions?.['code'] === 'NOTIFICATIONS_PUSH_SUBSCRIPTION_LIMIT'),
    ).toHaveLength(8 - MAX_PUSH_SUBSCRIPTIONS);
    expect(await subscriptionsOf('racer')).toHaveLength(MAX_PUSH_SUBSCRIPTIONS);
  });
});

describe('operations', () => {
  const cliEnv = () => ({
    DATABASE_URL: db.url,
    PLUGBOARD_PLUGINS: 'core,notifications',
    NOTIFICATIONS_SMTP_URL: mail.url,
  });

  it('creates and lists templates, sends a test, and shows stats from the CLI', async () => {
    const created = await runCli(
      [
        'notifications',
        'template',
        'create',
        'ping',
        '--subject',
        'Ping {{ who }}',
        '--body',
        'Pong for {{ who }}',
        '--channel',
        'email',
      ],
      cliEnv(),
    );
    expect(created).toMatchObject({ code: 0, stdout: 'created ping (EMAIL, en) version 1\n' });
    const listed = await runCli(['notifications', 'template', 'list', '--name', 'ping'], cliEnv());
    expect(listed.stdout).toMatch(/ping\s+EMAIL\s+en\s+1\s+Ping \{\{ who \}\}/);
    const missing = await runCli(['notifications', 'test', 'alice', 'ping', '--channel', 'EMAIL'], cliEnv());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('"who"');
    const before = mail.messages.length;
    const sent = await runCli(
      ['notifications', 'test', 'alice', 'ping', '--channel', 'EMAIL', '--data', '{"who":"ops"}'],
      cliEnv(),
    );
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/sent\s+smtp/);
    expect((await mail.waitFor(before + 1)).at(-1)).toMatchObject({ to: ['alice@example.test'], subject: 'Ping ops' });
    const stats = await runCli(['notifications', 'stats'], cliEnv());
    expect(stats.stdout).toMatch(/EMAIL\s+sent\s+\d+/);
    expect(stats.stdout).toMatch(/SMS\s+false\s+-?\s*set NOTIFICATIONS_SMS_PROVIDER=twilio/);
  }, 60_000);

  it('names NOTIFICATIONS_PUSH_ALLOWED_HOSTS when an entry is not a host', async () => {
    const run = await runCli(['notifications', 'stats'], {
      ...cliEnv(),
      NOTIFICATIONS_PUSH_ALLOWED_HOSTS: 'fcm.googleapis.com,https://push.example/',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('NOTIFICATIONS_PUSH_ALLOWED_HOSTS');
    expect(run.stderr).toContain('"https://push.example/"');
  });

  it('names the variable a misconfigured channel lacks, and never prints a secret', async () => {
    const run = await runCli(['notifications', 'stats'], {
      ...cliEnv(),
      NOTIFICATIONS_SMS_PROVIDER: 'twilio',
      NOTIFICATIONS_SMS_AUTH_TOKEN: 'tok-very-secret',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('NOTIFICATIONS_SMS_ACCOUNT_SID');
    expect(run.stderr).toContain('NOTIFICATIONS_SMS_FROM');
    expect(run.stderr).not.toContain('tok-very-secret');
  });

  it('reports each channel, with why one is disabled', async () => {
    const { notificationChannels } = await ok<{
      notificationChannels: { channel: string; enabled: boolean; providers: string[] }[];
    }>(admin, '{ notificationChannels { channel enabled providers } }');
    expect(notificationChannels).toEqual([
      { channel: 'EMAIL', enabled: true, providers: ['smtp', 'smtp-backup'] },
      { channel: 'PUSH', enabled: true, providers: ['webpush'] },
      { channel: 'SMS', enabled: true, providers: ['twilio'] },
      { channel: 'IN_APP', enabled: true, providers: ['in-app'] },
    ]);
  });

  it('holds a provider to its rate limit', async () => {
    const limited = rateLimited(
      twilioProvider({
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        from: '+15550001111',
        apiUrl: twilio.url,
        rateLimit: 4,
      }),
      4,
      null,
    );
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limited.send('+15553334444', {
          id: `rate-${i}`,
          subject: null,
          body: `limited ${i}`,
          html: null,
          category: 'test',
        }),
      ),
    );
    // 4 at once, 4 a second later, the last 2 a second after that.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(twilio.messages.filter((m) => m.to === '+15553334444')).toHaveLength(10);
  });
});
