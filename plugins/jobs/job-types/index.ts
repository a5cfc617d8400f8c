import { PermanentJobError, type PluginRuntime, type QueueDefinition } from '../../../gateway/sdk.ts';
import type { JobsConfig } from '../config.ts';
import { cacheClear } from './cache-clear.ts';
import { databaseBackup } from './database-backup.ts';
import { fileCleanup } from './file-cleanup.ts';
import { httpRequest } from './http-request.ts';
import { InvalidPayloadError, type JobType } from './job-type.ts';
import { sendEmail } from './send-email.ts';

/** The queue the built-in types run on. */
export const DEFAULT_QUEUE = 'default';

export const builtInTypes: Record<string, JobType<unknown>> = {
  'http-request': httpRequest,
  'send-email': sendEmail,
  'database-backup': databaseBackup,
  'file-cleanup': fileCleanup,
  'cache-clear': cacheClear,
};

/** The jobs plugin's queue: each type parses its payload again when it runs (enqueued elsewhere, or config changed). */
export function builtInQueue(runtime: PluginRuntime<JobsConfig>): QueueDefinition {
  const handlers: QueueDefinition['handlers'] = {};
  for (const [name, type] of Object.entries(builtInTypes)) {
    handlers[name] = async (data, job) => {
      const unavailable = type.unavailable?.(runtime);
      if (unavailable) throw new PermanentJobError(unavailable);
      let payload: unknown;
      try {
        payload = type.parse(data, runtime.config);
      } catch (error) {
        if (error instanceof InvalidPayloadError) throw new PermanentJobError(`${name}: ${error.message}`);
        throw error;
      }
      try {
        return await type.run(payload, job, runtime);
      } catch (error) {
        if (error instanceof InvalidPayloadError) throw new PermanentJobError(`${name}: ${error.message}`);
        throw error;
      }
    };
  }
  return {
    public: true,
    userTypes: Object.keys(builtInTypes).filter((name) => builtInTypes[name]!.access === 'user'),
    // Read when workers start, after the runtime has its config.
    get concurrency() {
      return runtime.config.concurrency;
    },
    get timeoutMs() {
      return runtime.config.timeoutMs;
    },
    handlers,
  };
}
