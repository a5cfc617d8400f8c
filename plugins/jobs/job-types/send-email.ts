/**
 * send-email: hands the message to the notifications plugin through the SDK's `sendEmailJob`
 * contract, which renders and delivers it. Without that plugin there is no one to send it, and
 * the job says so instead of pretending.
 */
import { JobDataError, type SendEmailJob, sendEmailJob } from '../../../gateway/sdk.ts';
import { InvalidPayloadError, type JobType } from './job-type.ts';

export const sendEmail: JobType<SendEmailJob> = {
  description: 'Hands an email to the notifications plugin',
  unavailable: (runtime) =>
    runtime.jobs.has(sendEmailJob.queue, sendEmailJob.type)
      ? null
      : 'send-email hands messages to the notifications plugin, which is not enabled; enable it to send email',
  parse(raw) {
    try {
      return sendEmailJob.parse(raw);
    } catch (error) {
      if (error instanceof JobDataError) throw new InvalidPayloadError(error.message);
      throw error;
    }
  },
  async run(payload, job, runtime) {
    const { id } = await sendEmailJob.enqueue(runtime.queue, payload, { jobId: `send-email:${job.id}`, attempts: 3 });
    return { handedOver: { queue: sendEmailJob.queue, id } };
  },
};
