/**
 * The jobs plugin: built-in job types on the `default` queue, job history in Postgres, cron
 * schedules, a GraphQL API, Bull Board and `plugboard jobs …`. The queue itself is the gateway's
 * queue port, which every plugin shares.
 */
import { batchedRule, definePlugin } from '../../gateway/sdk.ts';
import { addJobsCommands } from './cli.ts';
import { readJobsConfig, type JobsConfig } from './config.ts';
import { dashboardRoutes } from './dashboard.ts';
import { startHistory } from './history-recorder.ts';
import { builtInQueue, DEFAULT_QUEUE } from './job-types/index.ts';
import manifest from './plugin.json' with { type: 'json' };
import { addJobsSchema } from './schema.ts';
import { createJobsService, type JobsInstance } from './service.ts';
import { jobsSql } from './sql.ts';

export default definePlugin<JobsConfig, JobsInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: readJobsConfig,
  setup(runtime) {
    const instance: JobsInstance = {
      service: createJobsService(runtime, async () => instance.history?.flush()),
      history: null,
    };
    return instance;
  },
  schema: (builder, runtime, instance) => addJobsSchema(builder, runtime, () => instance().service),
  jobs: (runtime) => ({ [DEFAULT_QUEUE]: builtInQueue(runtime) }),
  routes: dashboardRoutes,
  retention: (runtime) => [
    batchedRule({ name: 'jobs.jobs', days: runtime.config.historyRetentionDays, sql: jobsSql('history-prune') }),
  ],
  commands: addJobsCommands,
  async start(runtime, instance) {
    instance.history = startHistory(runtime);
    const synced = await instance.service.syncSchedules();
    if (synced > 0) runtime.log.info({ schedules: synced }, 'job schedules applied to the queue');
  },
  async stop(_runtime, instance) {
    await instance.history?.close();
    instance.history = null;
    await instance.service.close();
  },
});
