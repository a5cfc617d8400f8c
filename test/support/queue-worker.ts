/**
 * A worker process for the crash test: processes one queue, printing `started <id>` when a job
 * starts and `completed <id>` when it ends. WORKER_MODE=hang never finishes a job (the test kills
 * the process); WORKER_MODE=complete finishes each at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openQueue, type Backend } from './queues.ts';

const queue = await openQueue({
  backend: process.env['QUEUE_BACKEND'] as Backend,
  url: process.env['QUEUE_URL']!,
  prefix: process.env['QUEUE_PREFIX']!,
});
await queue.process(
  process.env['QUEUE_NAME']!,
  async (_data, job) => {
    process.stdout.write(`started ${job.id} attempt ${job.attempt}\n`);
    if (process.env['WORKER_MODE'] === 'hang') await sleep(600_000);
    process.stdout.write(`completed ${job.id}\n`);
    return { by: process.pid };
  },
  { concurrency: 1, timeoutMs: 700_000 },
);
process.stdout.write('ready\n');
process.once('SIGTERM', () => void queue.close({ timeoutMs: 1000 }).then(() => process.exit(0)));
