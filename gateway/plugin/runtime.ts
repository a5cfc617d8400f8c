/**
 * A plugin's runtime and instance as the gateway makes them: the runtime's services arrive after
 * the schema is built, and the instance is set up on first use.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { JobRegistry } from '../queue/job-types.ts';
import type { PubSub } from '../pubsub.ts';
import type { QueuePort } from '../queue/port.ts';
import type { RedisTarget } from '../redis.ts';
import type { WebhookLog } from '../webhooks/receiver.ts';
import type { InstanceOf, PluginDefinition, PluginRuntime, PluginStatus } from './contract.ts';

/**
 * Calls `setup` on first use and hands out the same instance after (one per runtime). Before the
 * runtime has its services (`started` false) it throws instead: setup would see no database.
 */
export function lazyInstance<Config, Instance>(
  plugin: PluginDefinition<Config, Instance>,
  runtime: PluginRuntime<Config>,
  started: () => boolean,
): { get: InstanceOf<Instance>; readonly made: boolean } {
  let made = false;
  let instance: Instance | undefined;
  return {
    get() {
      if (!made) {
        if (!started())
          throw new Error(
            `Plugin ${runtime.name} is not started: its instance is only available while the gateway runs`,
          );
        instance = plugin.setup?.(runtime) as Instance;
        made = true;
      }
      return instance as Instance;
    },
    get made() {
      return made;
    },
  };
}

export interface RuntimeServices {
  db: pg.Pool;
  pubsub: PubSub;
  queue: QueuePort;
  jobs: JobRegistry;
  log: Logger;
  plugins: readonly PluginStatus[];
  connections: { databaseUrl: string; redis: RedisTarget | undefined };
  webhooks: ReadonlyMap<string, WebhookLog>;
}

/**
 * A runtime whose services arrive later: the schema is built (and can be printed) before any
 * database exists, and resolvers read the services when they run.
 */
export function createLazyRuntime<Config>(name: string): {
  runtime: PluginRuntime<Config>;
  attach(services: RuntimeServices, config: Config): void;
  /** Whether `attach` has run. */
  attached(): boolean;
} {
  let attached: (RuntimeServices & { config: Config }) | undefined;
  const get = () => {
    if (!attached)
      throw new Error(`Plugin ${name} is not started: its runtime is only available while the gateway runs`);
    return attached;
  };
  return {
    runtime: {
      name,
      get config() {
        return get().config;
      },
      get db() {
        return get().db;
      },
      get pubsub() {
        return get().pubsub;
      },
      get queue() {
        return get().queue;
      },
      get jobs() {
        return get().jobs;
      },
      get log() {
        return get().log;
      },
      get plugins() {
        return get().plugins;
      },
      get connections() {
        return get().connections;
      },
      get webhooks() {
        return get().webhooks;
      },
    },
    attach(services, config) {
      attached = { ...services, log: services.log.child({ plugin: name }), config };
    },
    attached: () => attached !== undefined,
  };
}
