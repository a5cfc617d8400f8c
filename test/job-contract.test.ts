/**
 * Typed jobs between plugins: the send-email contract's check, and a contract's two sides meeting
 * on the real Postgres queue (the producer's data typed, the consumer's data checked again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NotifyUsersJob,
  parseNotifyUsers,
  parseSendEmail,
  type SendEmailJob,
  sendEmailJob,
} from '../gateway/contracts/notifications.ts';
import { JobDataError } from '../gateway/queue/contract.ts';
import { PermanentJobError, type QueuePort, type Worker } from '../gateway/queue/port.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { openQueue, testPrefix } from './support/queues.ts';

describe('the send-email contract', () => {
  it.each<[string, unknown, SendEmailJob]>([
    ['plain text', { to: 'a@example.test', text: 'hi' }, { to: 'a@example.test', text: 'hi' }],
    [
      'a template with its variables and a subject',
      { to: 'a@example.test', template: 'news', data: { title: 'T' }, subject: 'S' },
      { to: 'a@example.test', template: 'news', data: { title: 'T' }, subject: 'S' },
    ],
    [
      'html, with nulls and unknown keys left out',
      { to: 'a@example.test', html: '<b>hi</b>', subject: null, data: null, extra: 1 },
      { to: 'a@example.test', html: '<b>hi</b>' },
    ],
  ])('takes %s', (_what, raw, parsed) => {
    expect(parseSendEmail(raw)).toStrictEqual(parsed);
  });

  it.each<[string, unknown, RegExp]>([
    ['no object', 'a@example.test', /the payload must be an object/],
    ['an array', [{ to: 'a@example.test', text: 'hi' }], /the payload must be an object/],
    ['no address', { text: 'hi' }, /to is required/],
    ['a blank address', { to: '  ', text: 'hi' }, /to is required/],
    ['an address without @', { to: 'nobody', text: 'hi' }, /to "nobody" is not an email address/],
    ['nothing to send', { to: 'a@example.test', subject: 'S' }, /needs a template, or text or html/],
    ['a number as text', { to: 'a@example.test', text: 42 }, /text must be a string/],
    ['variables that are no object', { to: 'a@example.test', template: 'news', data: [1] }, /data must be an object/],
  ])('refuses %s', (_what, raw, message) => {
    expect(() => parseSendEmail(raw)).toThrow(JobDataError);
    expect(() => parseSendEmail(raw)).toThrow(message);
  });

  it('is a job that fails for good, whoever lets the error through', () => {
    expect(new JobDataError('x')).toBeInstanceOf(PermanentJobError);
  });
});

describe('the notify-users contract', () => {
  it.each<[string, unknown, NotifyUsersJob]>([
    ['the least', { userIds: ['u1'], subject: 's', body: 'b' }, { userIds: ['u1'], subject: 's', body: 'b' }],
    [
      'with a category and a key',
      { userIds: ['u1', 'u2'], subject: 's', body: 'b', category: 'security', idempotencyKey: 'k' },
      { userIds: ['u1', 'u2'], subject: 's', body: 'b', category: 'security', idempotencyKey: 'k' },
    ],
  ])('takes %s', (_case, raw, parsed) => {
    expect(parseNotifyUsers(raw)).toStrictEqual(parsed);
  });

  it.each<[string, unknown, RegExp]>([
    ['no users', { userIds: [], subject: 's', body: 'b' }, /userIds/],
    ['too many users', { userIds: Array.from({ length: 101 }, (_, i) => `u${i}`), subject: 's', body: 'b' }, /userIds/],
    ['a user id that is not text', { userIds: [1], subject: 's', body: 'b' }, /userIds/],
    ['no subject', { userIds: ['u'], body: 'b' }, /subject/],
    ['a body too long', { userIds: ['u'], subject: 's', body: 'b'.repeat(5001) }, /body/],
    ['a list', [], /object/],
  ])('refuses %s', (_case, raw, message) => {
    expect(() => parseNotifyUsers(raw)).toThrow(JobDataError);
    expect(() => parseNotifyUsers(raw)).toThrow(message);
  });
});

describe('a job contract on the queue', () => {
  let db: TestDatabase;
  let port: QueuePort;
  let worker: Worker;
  const received: { data: SendEmailJob; attempt: number }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await openQueue({ backend: 'postgres', url: db.url, prefix: testPrefix() });
    worker = await port.process(
      sendEmailJob.queue,
      sendEmailJob.handle(async (data, job) => {
        received.push({ data, attempt: job.attempt });
        return { to: data.to };
      }),
      { concurrency: 1, timeoutMs: 5000 },
    );
  });
  afterAll(async () => {
    await worker?.close();
    await port?.close({ timeoutMs: 2000 });
    await db?.drop();
  });

  it("hands the producer's typed data to the consumer's handler", async () => {
    const { id } = await sendEmailJob.enqueue(port, { to: 'ops@example.test', text: 'hi' });
    await expect
      .poll(async () => (await port.getJob(sendEmailJob.queue, id))?.state, { timeout: 15_000 })
      .toBe('completed');
    expect(await port.getJob(sendEmailJob.queue, id)).toMatchObject({
      name: 'send-email',
      result: { to: 'ops@example.test' },
    });
    expect(received).toContainEqual({ data: { to: 'ops@example.test', text: 'hi' }, attempt: 1 });
  });

  it('fails data that slipped past the types for good, naming the job type', async () => {
    const before = received.length;
    // @ts-expect-error the contract's data needs `to`: a producer cannot enqueue this without a cast
    const { id } = await sendEmailJob.enqueue(port, { text: 'hi' }, { attempts: 3 });
    await expect
      .poll(async () => (await port.getJob(sendEmailJob.queue, id))?.state, { timeout: 15_000 })
      .toBe('failed');
    expect(await port.getJob(sendEmailJob.queue, id)).toMatchObject({
      attemptsMade: 1,
      error: 'send-email: to is required (a non-empty string)',
    });
    expect(received).toHaveLength(before);
  });
});
