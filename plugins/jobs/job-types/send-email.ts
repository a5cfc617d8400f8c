/**
 * send-email: hands the message to the notifications plugin (its `send-email` job on the
 * `notifications` queue), which renders and delivers it. Without that plugin there is no one to
 * send it, and the job says so instead of pretending.
 */
import { InvalidPayloadError, objectPayload, requiredString, type JobType } from './job-type.ts';

export const NOTIFICATIONS_QUEUE = 'notifications';
export const NOTIFICATIONS_EMAIL_TYPE = 'send-email';

export interface SendEmailPayload {
  to: string;
  subject?: string;
  template?: string;
  data?: unknown;
  text?: string;
  html?: string;
}

export const sendEmail: JobType<SendEmailPayload> = {
  description: 'Hands an email to the notifications plugin',
  unavailable: (runtime) =>
    runtime.jobs.has(NOTIFICATIONS_QUEUE, NOTIFICATIONS_EMAIL_TYPE)
      ? null
      : 'send-email hands messages to the notifications plugin, which is not enabled; enable it to send email',
  parse(raw) {
    const payload = objectPayload(raw, 'send-email');
    const to = requiredString(payload['to'], 'to');
    if (!/^[^@\s]+@[^@\s]+$/.test(to))
      throw new InvalidPayloadError(`to ${JSON.stringify(to)} is not an email address`);
    if (payload['template'] === undefined && payload['text'] === undefined && payload['html'] === undefined) {
      throw new InvalidPayloadError('send-email needs a template, or text or html');
    }
    return payload as unknown as SendEmailPayload;
  },
  async run(payload, job, runtime) {
    const { id } = await runtime.queue.add(NOTIFICATIONS_QUEUE, NOTIFICATIONS_EMAIL_TYPE, payload, {
      jobId: `send-email:${job.id}`,
      attempts: 3,
    });
    return { handedOver: { queue: NOTIFICATIONS_QUEUE, id } };
  },
};
