/**
 * The jobs the notifications plugin takes from other plugins. Only the data's type and its check
 * live here, so the producer (the jobs plugin's send-email) and the consumer (the notifications
 * queue) share them without importing each other; what the job does stays in the plugin.
 */
import { JobDataError, jobContract } from '../queue/contract.ts';

/** An email to a bare address: a stored template rendered with `data`, or plain `text` and/or `html`. */
export interface SendEmailJob {
  to: string;
  /** Overrides the template's subject. */
  subject?: string;
  template?: string;
  /** The template's variables. */
  data?: Record<string, unknown>;
  text?: string;
  html?: string;
}

function optionalString(payload: Record<string, unknown>, key: string): string | undefined {
  const value = payload[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new JobDataError(`${key} must be a string`);
  return value;
}

export function parseSendEmail(raw: unknown): SendEmailJob {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new JobDataError('the payload must be an object');
  const payload = raw as Record<string, unknown>;
  const to = payload['to'];
  if (typeof to !== 'string' || to.trim() === '') throw new JobDataError('to is required (a non-empty string)');
  if (!/^[^@\s]+@[^@\s]+$/.test(to)) throw new JobDataError(`to ${JSON.stringify(to)} is not an email address`);
  const data = payload['data'];
  if (data !== undefined && data !== null && (typeof data !== 'object' || Array.isArray(data)))
    throw new JobDataError('data must be an object (the template variables)');
  const job: SendEmailJob = { to };
  for (const key of ['subject', 'template', 'text', 'html'] as const) {
    const value = optionalString(payload, key);
    if (value !== undefined) job[key] = value;
  }
  if (data !== undefined && data !== null) job.data = data as Record<string, unknown>;
  if (job.template === undefined && job.text === undefined && job.html === undefined)
    throw new JobDataError('needs a template, or text or html');
  return job;
}

/** The jobs plugin's send-email hands its messages to the notifications plugin with this job. */
export const sendEmailJob = jobContract<SendEmailJob>('notifications', 'send-email', parseSendEmail);

/** An in-app notice to users, as plain text: what a plugin tells people without a template of its own. */
export interface NotifyUsersJob {
  userIds: string[];
  subject: string;
  body: string;
  /** Preferences are per category (default `general`). */
  category?: string;
  /** The same key twice notifies once. */
  idempotencyKey?: string;
}

const MAX_NOTIFIED = 100;

export function parseNotifyUsers(raw: unknown): NotifyUsersJob {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new JobDataError('the payload must be an object');
  const payload = raw as Record<string, unknown>;
  const { userIds } = payload;
  if (
    !Array.isArray(userIds) ||
    userIds.length === 0 ||
    userIds.length > MAX_NOTIFIED ||
    !userIds.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 200)
  )
    throw new JobDataError(`userIds must be 1–${MAX_NOTIFIED} user ids`);
  const text = (key: string, max: number) => {
    const value = payload[key];
    if (typeof value !== 'string' || value.length === 0 || value.length > max)
      throw new JobDataError(`${key} must be a string of 1–${max} characters`);
    return value;
  };
  const job: NotifyUsersJob = { userIds: userIds as string[], subject: text('subject', 200), body: text('body', 5000) };
  for (const key of ['category', 'idempotencyKey'] as const) {
    const value = optionalString(payload, key);
    if (value !== undefined) job[key] = value;
  }
  return job;
}

/** A plugin's in-app notice to users (the files plugin's infected-file alert), sent by the notifications plugin. */
export const notifyUsersJob = jobContract<NotifyUsersJob>('notifications', 'notify-users', parseNotifyUsers);
