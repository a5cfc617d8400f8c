/**
 * The jobs plugin: built-in job types on the `default` queue, job history in Postgres, cron
 * schedules, a GraphQL API, Bull Board and `plugboard jobs …`. The queue itself is the gateway's
 * queue port, which every plugin shares.
 */
import { definePlugin, type PluginRuntime } from '../../gateway/plugin.ts';
import { addJobsCommands } from './cli.ts';
import { readJobsConfig, type JobsConfig } from './config.ts';
import { dashboardRoutes } from './dashboard.ts';
import { startHistory } from './history-recorder.ts';
import { builtInQueue, DEFAULT_QUEUE } from './job-types/index.ts';
import manifest from './plugin.json' with { type: 'json' };
import { addJobsSchema } from './schema.ts';
import { createJobsService, type JobsService } from './service.ts';

const services = new WeakMap<PluginRuntime<JobsConfig>, JobsService>();
const serviceOf = (runtime: PluginRuntime<JobsConfig>) => {
  let service = services.get(runtime);
  if (!service) services.set(runtime, (service = createJobsService(runtime)));
  return service;
};
const histories = new WeakMap<PluginRuntime<JobsConfig>, { close(): Promise<void> }>();

export default definePlugin<JobsConfig>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: readJobsConfig,
  schema: (builder, runtime) => addJobsSchema(builder, runtime, serviceOf(runtime)),
  jobs: (runtime) => ({ [DEFAULT_QUEUE]: builtInQueue(runtime) }),
  routes: dashboardRoutes,
  commands: (command, open) => addJobsCommands(command, open, serviceOf),
  async start(runtime) {
    histories.set(runtime, startHistory(runtime));
    const synced = await serviceOf(runtime).syncSchedules();
    if (synced > 0) runtime.log.info({ schedules: synced }, 'job schedules applied to the queue');
  },
  async stop(runtime) {
    await histories.get(runtime)?.close();
    await serviceOf(runtime).close();
  },
});
