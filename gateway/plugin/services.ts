/**
 * What the gateway and the CLI both set up: the enabled plugins with their runtimes, their job
 * registry and schema, and the shared services (Postgres, pubsub, the queue) the runtimes use.
 */
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { byName, checkRoutes } from './conflicts.ts';
import { openDatabase, type Database } from '../db.ts';
import { createJobRegistry, type JobRegistry } from '../queue/job-types.ts';
import type { EventTriggerHandler, HasuraActionSpec } from '../hasura/routes.ts';
import { type ErrorCatalog, type ErrorEntry, ERRORS } from '../errors.ts';
import { checkPluginTables, runMigrations, type MigrationSource } from '../migrations.ts';
import type { InstanceOf, Plugin, PluginRoute, PluginRuntime, PluginStatus, SocketHooks } from './contract.ts';
import { createLazyRuntime, lazyInstance } from './runtime.ts';
import { migrationSourceOf, selectPlugins, statusOfPlugins, type SelectedPlugin } from './selection.ts';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from '../pubsub.ts';
import type { QueuePort } from '../queue/port.ts';
import type { RedisTarget } from '../redis.ts';
import { loadGatewaySettings, type GatewaySettings } from '../config/settings.ts';
import { collectConfigErrors, type Env } from '../config/variables.ts';
import {
  createWebhookLog,
  WEBHOOK_QUEUE,
  webhookEventsTopic,
  webhookQueue,
  type WebhookLog,
} from '../webhooks/receiver.ts';
import { syncProgressTopic } from '../sync/syncer.ts';
import { RETENTION_QUEUE, retentionQueue, type RetentionRule } from '../retention.ts';

/** The topics the gateway itself publishes. */
const GATEWAY_TOPICS = [webhookEventsTopic, syncProgressTopic];

export interface PluginInstance {
  selected: SelectedPlugin;
  runtime: PluginRuntime<unknown>;
  /** The plugin's instance, set up on first call (see `setup` in gateway/plugin/contract.ts). */
  instance: InstanceOf<unknown>;
  /** Whether `instance()` has run `setup` yet. */
  readonly setUp: boolean;
}

export interface PluginSet {
  instances: PluginInstance[];
  statuses: PluginStatus[];
  jobs: JobRegistry;
  /** Gives every runtime its services. */
  attach(services: Services): void;
  /** Webhook logs of the enabled plugins that receive webhooks, by plugin name. */
  webhooks: ReadonlyMap<string, WebhookLog>;
  /** The enabled plugins that prune something (their `retention` hook). */
  pruning: readonly string[];
  /** Those plugins' retention rules, by plugin name (runtimes must be attached). */
  retention(): Map<string, readonly RetentionRule[]>;
  /** The composed schema; the schema builder loads on the first call (commands that need no schema skip it). */
  schema(): Promise<GraphQLSchema>;
  /** Plugins' own routes and their webhook routes. */
  routes(options: { bodyLimit: number }): PluginRoute[];
  /** The socket hooks of the enabled plugins. */
  sockets(): SocketHooks[];
  /** The enabled plugins' Hasura actions, by field name. */
  hasuraActions(): Map<string, HasuraActionSpec>;
  /** The enabled plugins' Hasura event-trigger handlers, by trigger name. */
  eventTriggers(): Map<string, EventTriggerHandler>;
  /** The gateway's error codes and the enabled plugins' own, by code. */
  errors(): ErrorCatalog;
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

export interface Services {
  database: Database;
  pubsub: PubSub;
  queue: QueuePort;
  log: Logger;
  /** REDIS_URL, for plugins that use Redis directly. */
  redis: RedisTarget | undefined;
  /** Closes the queue (letting running jobs finish), pubsub and Postgres, in that order. */
  close(): Promise<void>;
}

/** Validated settings and plugin selection; throws ConfigError listing every problem. */
export function loadConfiguration(
  registry: readonly Plugin[],
  env: Env,
): { settings: GatewaySettings; selected: SelectedPlugin[] } {
  const [settings, selected] = collectConfigErrors(
    () => loadGatewaySettings(env),
    () => selectPlugins(registry, env),
  );
  return { settings, selected };
}

export function migrationSources(selected: readonly SelectedPlugin[]): MigrationSource[] {
  return selected.map(migrationSourceOf);
}

/** Runtimes (still without services) for the enabled plugins, their job registry and schema. */
export function instantiatePlugins(selected: readonly SelectedPlugin[]): PluginSet {
  const statuses = statusOfPlugins(selected);
  const lazies = selected
    .filter((entry) => entry.enabled)
    .map((entry) => ({ selected: entry, lazy: createLazyRuntime<unknown>(entry.manifest.name) }));
  const instances = lazies.map(({ selected: entry, lazy }): PluginInstance => {
    const instance = lazyInstance(entry.plugin, lazy.runtime, lazy.attached);
    return {
      selected: entry,
      runtime: lazy.runtime,
      instance: instance.get,
      get setUp() {
        return instance.made;
      },
    };
  });
  const webhooks = new Map<string, WebhookLog>(
    instances
      .filter(({ selected: entry }) => entry.plugin.webhooks)
      .map(({ selected: entry, runtime, instance }) => [
        entry.manifest.name,
        createWebhookLog({
          plugin: entry.manifest.name,
          schema: entry.schema,
          receiver: () => entry.plugin.webhooks!(runtime, instance),
          services: () => runtime,
        }),
      ]),
  );
  // A topic name is one publisher's: the gateway's own, or one plugin's.
  byName('The topic', [
    ...GATEWAY_TOPICS.map((topic) => ({ plugin: 'gateway', name: topic.name, value: topic })),
    ...instances.flatMap(({ selected: entry }) =>
      (entry.plugin.topics ?? []).map((topic) => ({ plugin: entry.manifest.name, name: topic.name, value: topic })),
    ),
  ]);
  const pruning = instances.filter(({ selected: entry }) => entry.plugin.retention);
  const retention = () =>
    new Map(
      pruning.map(({ selected: entry, runtime, instance }) => [
        entry.manifest.name,
        entry.plugin.retention!(runtime, instance),
      ]),
    );
  const jobs = createJobRegistry([
    ...instances
      .filter(({ selected: entry }) => entry.plugin.jobs)
      .map(({ selected: entry, runtime, instance }) => ({
        plugin: entry.manifest.name,
        queues: entry.plugin.jobs!(runtime, instance),
      })),
    ...(webhooks.size > 0 ? [{ plugin: 'gateway', queues: { [WEBHOOK_QUEUE]: webhookQueue(() => webhooks) } }] : []),
    ...(pruning.length > 0
      ? [
          {
            plugin: 'gateway',
            queues: {
              [RETENTION_QUEUE]: retentionQueue(
                pruning.map(({ selected: entry }) => entry.manifest.name),
                (plugin) => retention().get(plugin)!,
                () => pruning[0]!.runtime.db,
              ),
            },
          },
        ]
      : []),
  ]);
  return {
    instances,
    statuses,
    jobs,
    webhooks,
    pruning: pruning.map(({ selected: entry }) => entry.manifest.name),
    retention,
    attach(services) {
      for (const { selected: entry, lazy } of lazies) {
        const { database, pubsub, queue, log, redis } = services;
        const connections = { databaseUrl: database.url, redis };
        lazy.attach(
          { db: database.pool, pubsub, queue, jobs, log, plugins: statuses, connections, webhooks },
          entry.plugin.config(entry.values),
        );
      }
    },
    async schema() {
      const { buildSubschema, composeSchema } = await import('./compose.ts');
      const subschemas = instances
        .filter(({ selected: entry }) => entry.plugin.schema)
        .map(({ selected: entry, runtime, instance }) =>
          buildSubschema(entry.manifest.name, (builder) => entry.plugin.schema!(builder, runtime, instance)),
        );
      return composeSchema(subschemas);
    },
    routes({ bodyLimit }) {
      const routes = [
        ...[...webhooks].map(([plugin, log]) => ({
          plugin,
          route: {
            method: 'ANY',
            path: log.path,
            access: 'public',
            handler: (request, response) => log.handle(request, response, bodyLimit),
          } satisfies PluginRoute,
        })),
        ...instances.flatMap(({ selected: entry, runtime, instance }) =>
          (entry.plugin.routes?.(runtime, instance) ?? []).map((route) => ({ plugin: entry.manifest.name, route })),
        ),
      ];
      checkRoutes(routes);
      return routes.map(({ route }) => route);
    },
    sockets() {
      return instances.flatMap(({ selected: entry, runtime, instance }) =>
        entry.plugin.sockets ? [entry.plugin.sockets(runtime, instance)] : [],
      );
    },
    hasuraActions() {
      return byName(
        'The Hasura action',
        instances.flatMap(({ selected: entry }) =>
          Object.entries(entry.plugin.hasura?.actions ?? {}).map(([name, value]) => ({
            plugin: entry.manifest.name,
            name,
            value,
          })),
        ),
      );
    },
    eventTriggers() {
      return byName(
        'The Hasura event trigger',
        instances.flatMap(({ selected: entry, runtime, instance }) =>
          Object.entries(entry.plugin.hasura?.triggers ?? {}).map(([name, trigger]) => ({
            plugin: entry.manifest.name,
            name,
            value: ((event) => trigger.handle(event, runtime, instance)) satisfies EventTriggerHandler,
          })),
        ),
      );
    },
    errors() {
      return byName<ErrorEntry>('The error code', [
        ...Object.values(ERRORS).map((value) => ({ plugin: 'the gateway', name: value.code, value })),
        ...instances.flatMap(({ selected: entry }) =>
          Object.entries(entry.plugin.errors ?? {}).map(([code, { status, description }]) => {
            if (!UPPER_SNAKE.test(code) || !Number.isInteger(status) || status < 400 || status > 599)
              throw new Error(
                `Plugin ${entry.manifest.name}: error code ${code} must be UPPER_SNAKE with a 4xx/5xx status`,
              );
            return { plugin: entry.manifest.name, name: code, value: { code, status, description } };
          }),
        ),
      ]);
    },
  };
}

export async function openServices(
  settings: GatewaySettings,
  log: Logger,
  migrate: MigrationSource[] | null,
): Promise<Services> {
  const opened: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of opened.reverse())
      await close().catch((error: unknown) => log.error({ err: error }, 'closing a service failed'));
  };
  try {
    const database = await openDatabase({
      databaseUrl: settings.databaseUrl,
      dataDir: settings.dataDir,
      embeddedPort: settings.embeddedPgPort,
      log,
    });
    opened.push(() => database.close());
    if (migrate) {
      await runMigrations(database.pool, migrate, log);
      await checkPluginTables(database.pool, migrate);
    }
    const pubsub = settings.redis ? await createRedisPubSub(settings.redis, { log }) : createMemoryPubSub();
    opened.push(() => pubsub.close());
    // Each queue's client library loads only when it is the one configured.
    const queue = settings.queueRedis
      ? await (await import('../queue/bullmq.ts')).createBullMQQueue(settings.queueRedis, {
          log,
          lockDurationMs: settings.jobStallSeconds * 1000,
        })
      : await (await import('../queue/postgres.ts')).createPostgresQueue(database.url, {
          log,
          heartbeatSeconds: settings.jobStallSeconds,
        });
    opened.push(() => queue.close({ timeoutMs: settings.shutdownTimeoutMs }));
    return { database, pubsub, queue, log, redis: settings.redis, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
