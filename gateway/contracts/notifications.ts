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
