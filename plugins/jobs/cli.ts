/** `plugboard jobs …`: stats, enqueue, schedules, retry, and a worker process. */
import { once } from 'node:events';
import type { Command } from 'commander';
import { type OpenedPlugin, table, UsageError, type Worker } from '../../gateway/sdk.ts';
import type { JobsConfig } from './config.ts';
import { startHistory } from './history-recorder.ts';
import type { JobsInstance } from './service.ts';

type Open = () => Promise<OpenedPlugin<JobsConfig, JobsInstance>>;

function parseJson(text: string | undefined, what: string): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not valid JSON: ${text}`);
  }
}

function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer`);
  return n;
}

export function addJobsCommands(command: Command, open: Open): void {
  command
    .command('stats')
    .description('Jobs per queue and state')
    .action(async () => {
      const { instance } = await open();
      console.log(table(await instance.service.stats()));
    });

  command
    .command('enqueue')
    .description('Add a job and print its id')
    .argument('<type>', 'job type, e.g. http-request')
    .option('--payload <json>', 'the payload, as JSON', '{}')
    .option('--queue <name>', 'queue', 'default')
    .option('--job-id <key>', 'idempotency key')
    .option('--delay <ms>', 'run no earlier than this many milliseconds from now')
    .action(async (type: string, options: { payload: string; queue: string; jobId?: string; delay?: string }) => {
      const { instance } = await open();
      const job = await instance.service.enqueue({
        type,
        queue: options.queue,
        payload: parseJson(options.payload, '--payload'),
        ...(options.jobId ? { jobId: options.jobId } : {}),
        ...(options.delay ? { delayMs: positiveInt(options.delay, '--delay') } : {}),
      });
      console.log(job.id);
    });

  const schedule = command.command('schedule').description('Cron schedules that enqueue jobs');
  schedule
    .command('add')
    .description('Create a schedule and print its id')
    .argument('<cron>', 'cron expression, e.g. "0 3 * * *"')
    .argument('<type>', 'job type')
    .option('--payload <json>', 'the payload, as JSON', '{}')
    .option('--timezone <tz>', 'IANA time zone', 'UTC')
    .option('--queue <name>', 'queue', 'default')
    .action(async (cron: string, type: string, options: { payload: string; timezone: string; queue: string }) => {
      const { instance } = await open();
      const created = await instance.service.createSchedule({
        cron,
        type,
        timezone: options.timezone,
        queue: options.queue,
        payload: parseJson(options.payload, '--payload'),
      });
      console.log(created.id);
    });
  schedule
    .command('list')
    .description('List schedules')
    .action(async () => {
      const { instance } = await open();
      const schedules = await instance.service.schedules();
      console.log(
        table(
          schedules.map((s) => ({
            id: s.id,
            queue: s.queue,
            type: s.type,
            cron: s.cron,
            timezone: s.timezone,
            payload: JSON.stringify(s.payload),
          })),
        ),
      );
    });
  schedule
    .command('remove')
    .description('Delete a schedule')
    .argument('<id>', 'schedule id')
    .action(async (id: string) => {
      const { instance } = await open();
      if (!(await instance.service.deleteSchedule(id))) throw new UsageError(`No schedule ${id}`);
      console.log(`removed ${id}`);
    });

  command
    .command('retry')
    .description('Run a failed or cancelled job again')
    .argument('<id>', 'job id')
    .option('--queue <name>', "the job's queue (ids repeat across queues)", 'default')
    .action(async (id: string, options: { queue: string }) => {
      const { instance } = await open();
      await instance.service.retry(options.queue, id);
      console.log(`retrying ${id}`);
    });

  command
    .command('worker')
    .description(
      'Run job workers in this process until SIGTERM or SIGINT (set PLUGBOARD_WORKERS=false on the gateways)',
    )
    .argument('[queues...]', 'queues to work (default: every queue with handlers)')
    .option('--concurrency <n>', "jobs at once per queue (default: each queue's own)")
    .action(async (queues: string[], options: { concurrency?: string }) => {
      const { runtime, instance } = await open();
      const concurrency =
        options.concurrency === undefined ? undefined : positiveInt(options.concurrency, '--concurrency');
      const history = startHistory(runtime);
      instance.history = history;
      let workers: Worker[];
      try {
        workers = await runtime.jobs.startWorkers(runtime.queue, runtime.log, {
          ...(queues.length > 0 ? { queues } : {}),
          ...(concurrency !== undefined ? { concurrency } : {}),
        });
      } catch (error) {
        instance.history = null;
        await history.close();
        throw new UsageError((error as Error).message);
      }
      const names = queues.length > 0 ? queues : runtime.jobs.queues();
      console.log(
        `worker ${process.pid} working ${names.join(', ')} on ${runtime.queue.backend}; SIGTERM or SIGINT to stop`,
      );
      const stop = new AbortController();
      await Promise.race([
        once(process, 'SIGTERM', { signal: stop.signal }),
        once(process, 'SIGINT', { signal: stop.signal }),
      ]);
      stop.abort();
      console.log('stopping: letting running jobs finish');
      await Promise.all(workers.map((worker) => worker.close()));
      instance.history = null;
      await history.close();
    });
}
