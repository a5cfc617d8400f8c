/**
 * The plugin contract. A plugin is one folder and one `definePlugin({...})` object: its manifest
 * (plugin.json), its migrations, a typed view of its configuration, the Pothos fields it adds,
 * and optionally its instance (`setup`: its services and state), CLI commands and start/stop
 * hooks. Plugins never import each other; they meet through the composed schema, the pubsub's
 * typed topics and the queue's typed job contracts (gateway/queue/contract.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Command } from 'commander';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Session } from '../auth.ts';
import type { Builder } from '../builder.ts';
import type { ConfigEntry, ConfigValues, ConfigurationSpec } from '../config/variables.ts';
import type { PluginErrors } from '../errors.ts';
import type { HasuraActionSpec, HasuraEvent, HasuraEventTriggerSpec } from '../hasura/routes.ts';
import type { MigrationSource } from '../migrations.ts';
import type { JobRegistry, QueueDefinition } from '../queue/job-types.ts';
import type { PubSub, Topic } from '../pubsub.ts';
import type { QueuePort } from '../queue/port.ts';
import type { RedisTarget } from '../redis.ts';
import type { RetentionRule } from '../retention.ts';
import type { WebhookLog, WebhookReceiver } from '../webhooks/receiver.ts';

/** plugin.json, as validated by gateway/plugin/manifest.schema.json (the fields the gateway reads). */
export interface PluginManifest {
  name: string;
  version: string;
  description: string;
  capabilities: Partial<Record<'database' | 'webhooks' | 'cli' | 'service' | 'graphql' | 'jobs', boolean>>;
  configuration: ConfigurationSpec;
  database?: { schema?: string; tables?: string[] };
  webhooks?: { path: string; events?: string[] };
  commands?: Record<string, { description: string; usage?: string }>;
}

/** What the gateway knows about each registered plugin; the core plugin serves it as `plugins`. */
export interface PluginStatus {
  name: string;
  version: string;
  description: string;
  enabled: boolean;
  /** Why the plugin is disabled (null when enabled). */
  reason: string | null;
  /** Every configuration variable, secrets masked. */
  config: ConfigEntry[];
  /** Where its migrations are, for their status (`migrationStatus`). */
  migrations: MigrationSource;
  /** The Hasura actions and event triggers it declares, by name. */
  hasura: { actions: string[]; eventTriggers: string[] };
}

/** The services a running plugin uses. Read them at run time (in resolvers, commands, start). */
export interface PluginRuntime<Config> {
  readonly name: string;
  readonly config: Config;
  readonly db: pg.Pool;
  readonly pubsub: PubSub;
  /** The job queue (BullMQ with Redis, pg-boss without). */
  readonly queue: QueuePort;
  /** Job types of every enabled plugin, and a way to start workers for them. */
  readonly jobs: JobRegistry;
  readonly log: Logger;
  /** Every registered plugin's status. */
  readonly plugins: readonly PluginStatus[];
  /**
   * Where Postgres and Redis (REDIS_URL) are, for tools that connect on their own (pg_dump, a
   * Redis client made with `createRedisClient`). Secret.
   */
  readonly connections: { readonly databaseUrl: string; readonly redis: RedisTarget | undefined };
  /** The webhook logs of every enabled plugin that receives webhooks, by plugin name. */
  readonly webhooks: ReadonlyMap<string, WebhookLog>;
}

/** An HTTP route a plugin serves beside /graphql. */
export interface PluginRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'ANY';
  /** Exact path, or with `prefix` every path below it too. */
  path: string;
  prefix?: boolean;
  /**
   * `admin`: the gateway answers 401/403 unless the caller is an admin (admin secret as header,
   * as HTTP Basic password for browsers, or an admin-role token). `session`: the gateway answers
   * 401 to bad credentials and hands the caller's session (anonymous ones too) to the handler,
   * which decides. `public`: the route checks itself (no session).
   */
  access: 'admin' | 'session' | 'public';
  handler(request: IncomingMessage, response: ServerResponse, session: Session | null): Promise<void> | void;
}

/** A graphql-ws connection, as plugins see it. */
export interface SocketConnection {
  /** Unique per connection (a UUID); operations over it carry it as `context.socketId`. */
  readonly id: string;
  readonly session: Session;
  /** The client's IP address: the TCP peer, or what a proxy in PLUGBOARD_TRUSTED_PROXIES forwarded. */
  readonly ip: string;
  /** Closes the socket with a WebSocket close code and a reason (at most 123 bytes). */
  close(code: number, reason: string): void;
}

/** Refuses a connection: the socket is closed with this code and reason before it is acknowledged. */
export interface SocketRefusal {
  code: number;
  reason: string;
}

/** What a plugin hears of graphql-ws connections. */
export interface SocketHooks {
  /** A connection authenticated and about to be acknowledged; return a refusal to close it instead. */
  opened?(connection: SocketConnection): Promise<SocketRefusal | undefined> | SocketRefusal | undefined;
  /** An acknowledged connection closed, for whatever reason (client, missed pong, shutdown). */
  closed?(connection: SocketConnection): Promise<void> | void;
  /**
   * Asks the gateway to ping every socket (WebSocket ping frames) each `intervalMs` and to
   * terminate one whose pong has not come back `timeoutMs` after a ping (dead peers, half-open
   * TCP). With several plugins asking, the shortest interval and timeout win.
   */
  keepAlive?: { intervalMs: number; timeoutMs: number };
}

/**
 * A plugin's instance: what `setup` returns, made once per runtime on first call. The schema is
 * built (and printed) before any database exists, so hooks that run then receive this getter and
 * call it only at run time (in resolvers, handlers, jobs).
 */
export type InstanceOf<Instance> = () => Instance;

/** What a plugin command's `open()` resolves to: the connected runtime and its instance. */
export interface OpenedPlugin<Config, Instance> {
  runtime: PluginRuntime<Config>;
  instance: Instance;
}

/**
 * A plugin's Hasura members: the actions it answers, the tables Hasura tracks, and the event
 * triggers it handles (`npm run metadata` generates Hasura's side of all three).
 */
export interface HasuraMembers<Config, Instance> {
  /**
   * Query and Mutation fields of this plugin that Hasura may call as actions (POST
   * /hasura/actions), by field name. The field's own resolver answers.
   */
  actions?: Readonly<Record<string, HasuraActionSpec>>;
  /** Tables of the plugin's schema that Hasura tracks (its synced data). */
  tables?: readonly string[];
  /** Event triggers by name, answered at POST /hasura/events. */
  triggers?: Readonly<Record<string, HasuraTrigger<Config, Instance>>>;
}

/**
 * An event trigger's handler. With `table` and `on`, `npm run metadata` defines the trigger on
 * that table of the plugin's schema (and tracks it); without, it is for hosts to put on their own
 * tables.
 */
export type HasuraTrigger<Config, Instance> = (HasuraEventTriggerSpec | { table?: never; on?: never }) & {
  handle(event: HasuraEvent, runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): Promise<unknown>;
};

/**
 * Hooks are declared as methods so a `PluginDefinition<StripeConfig, StripeInstance>` can sit in the
 * registry's `Plugin[]` (method parameters are checked bivariantly).
 */
interface PluginHooks<Config, Instance> {
  /** The parsed plugin.json; validated against the manifest JSON schema when the gateway starts. */
  manifest: object;
  /** Folder holding NNN_*.sql migrations, e.g. `new URL('../migrations/', import.meta.url)`. */
  migrations?: URL;
  /** Enabled whatever PLUGBOARD_PLUGINS says (the core plugin). */
  alwaysEnabled?: boolean;
  /** Maps validated configuration values to the plugin's typed config. */
  config(values: ConfigValues): Config;
  /**
   * Adds the plugin's types and fields to its own builder. Also runs without a database
   * (`npm run schema`), so only read `runtime` and call `instance()` inside resolvers.
   */
  schema?(builder: Builder, runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): void;
  /** Adds `plugboard <plugin> <command>` subcommands; `open()` connects and returns the runtime and its instance. */
  commands?(command: Command, open: () => Promise<OpenedPlugin<Config, Instance>>): void;
  /**
   * The pubsub topics this plugin publishes (others may subscribe to them). A topic name is one
   * plugin's: two plugins, or a plugin and the gateway, declaring the same one stop start-up.
   */
  topics?: readonly Topic<unknown>[];
  /**
   * Job handlers by queue; workers run them in the gateway or in `plugboard jobs worker`. A queue
   * is this plugin's alone: other plugins add its jobs through the queue or a typed job contract.
   */
  jobs?(runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): Record<string, QueueDefinition>;
  /**
   * What the plugin prunes as it ages, by its own retention settings (gateway/retention.ts): the
   * gateway runs the rules on PLUGBOARD_RETENTION_CRON as the `retention` queue's job named after
   * the plugin, and `plugboard prune` runs them by hand. Read only at run time.
   */
  retention?(runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): readonly RetentionRule[];
  /** HTTP routes beside /graphql. */
  routes?(runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): PluginRoute[];
  /**
   * Receives webhooks: the gateway serves `receiver.path`, stores verified deliveries in the
   * plugin's `events` table (see gateway/webhooks/receiver.ts for its columns) and calls `apply`.
   */
  webhooks?(runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): WebhookReceiver;
  /** Hooks on graphql-ws connections. */
  sockets?(runtime: PluginRuntime<Config>, instance: InstanceOf<Instance>): SocketHooks;
  /** What the plugin offers a Hasura engine in front of the gateway. */
  hasura?: HasuraMembers<Config, Instance>;
  /**
   * The plugin's own error codes (UPPER_SNAKE, e.g. `IDME_STATE_USED`), each with its HTTP status
   * and what it means; they join the gateway's catalog (gateway/errors.ts) and README "Errors". A
   * code the gateway or another plugin declares stops start-up naming both.
   */
  errors?: PluginErrors;
  /** Runs after migrations, before the server listens; the gateway sets the instance up just before. */
  start?(runtime: PluginRuntime<Config>, instance: Instance): Promise<void> | void;
  /** Runs on shutdown, before pools close: releases what the instance holds (timers, clients). */
  stop?(runtime: PluginRuntime<Config>, instance: Instance): Promise<void> | void;
}

/**
 * A plugin. `setup(runtime)` makes its instance (its services, clients, timers), once per runtime
 * and only when something first needs it at run time; every hook receives it. A plugin without
 * state has no setup, and its instance is `undefined`.
 */
export type PluginDefinition<Config, Instance = undefined> = PluginHooks<Config, Instance> &
  (undefined extends Instance
    ? { setup?(runtime: PluginRuntime<Config>): Instance }
    : { setup(runtime: PluginRuntime<Config>): Instance });

export type Plugin = PluginDefinition<unknown, unknown>;

export function definePlugin<Config, Instance = undefined>(
  definition: PluginDefinition<Config, Instance>,
): PluginDefinition<Config, Instance> {
  return definition;
}
