/**
 * Typed jobs between plugins, as `topic<T>()` types the pubsub: a job contract names a queue and a
 * job type and ties them to the data's type and its check. The producer enqueues through it, so
 * it cannot hand over the wrong shape; the consumer handles through it, so its handler gets the
 * checked data. Jobs can also be added with arbitrary JSON (by admins, through the API or the CLI),
 * which is why the consumer's side checks the data again.
 */
import { type EnqueueOptions, type JobContext, type JobHandler, PermanentJobError, type QueuePort } from './port.ts';

/** What a contract's `parse` throws for data that can never make a valid job. */
export class JobDataError extends PermanentJobError {
  constructor(message: string) {
    super(message);
    this.name = 'JobDataError';
  }
}

export interface JobContract<Data> {
  readonly queue: string;
  readonly type: string;
  /** Checks untrusted data; throws JobDataError naming what is wrong (its message without the type). */
  parse(data: unknown): Data;
  /** Adds a job of this type to its queue. */
  enqueue(port: QueuePort, data: Data, options?: EnqueueOptions): Promise<{ id: string }>;
  /**
   * The consumer's handler for this job type (put it under `type` in the queue's handlers): the
   * data is parsed first, and data that fails the check fails the job for good, without retries.
   */
  handle(run: (data: Data, job: JobContext) => Promise<unknown>): JobHandler;
}

export function jobContract<Data>(queue: string, type: string, parse: (data: unknown) => Data): JobContract<Data> {
  return {
    queue,
    type,
    parse,
    enqueue: (port, data, options) => port.add(queue, type, data, options),
    handle: (run) => async (data, job) => {
      let parsed: Data;
      try {
        parsed = parse(data);
      } catch (error) {
        if (error instanceof JobDataError) throw new JobDataError(`${type}: ${error.message}`);
        throw error;
      }
      return run(parsed, job);
    },
  };
}
