/**
 * The plugin SDK: the only gateway module a plugin imports (npm test's dependency rule enforces
 * it). It holds the contract and the helpers plugins share; adapters, the CLI and the server stay
 * behind it, so they can change without touching a plugin.
 */

// The contract.
export {
  definePlugin,
  type HasuraMembers,
  type HasuraTrigger,
  type InstanceOf,
  type OpenedPlugin,
  type Plugin,
  type PluginDefinition,
  type PluginManifest,
  type PluginRoute,
  type PluginRuntime,
  type PluginStatus,
  type SocketConnection,
  type SocketHooks,
  type SocketRefusal,
} from './plugin/contract.ts';
export type { ConfigEntry, ConfigProblem, ConfigValues } from './config/variables.ts';
export { migrationStatus, type MigrationStatus } from './migrations.ts';
export { ConfigError } from './config/variables.ts';

// Schema building: the Pothos builder, sessions, cursor connections, batching, shared subscriptions.
export type { Builder, Context, PlugboardTypes } from './builder.ts';
export { type Session, signedInUser } from './auth.ts';
export { decodeCursor, encodeCursor, forwardConnection, type KeysetRow } from './cursor.ts';
export { Batcher } from './batch.ts';
export { PUSH, type PushReceiver, type PushStream, SHARED_RESULTS } from './http/shared-subscriptions.ts';
export { SHEDDABLE } from './http/load-shedding.ts';

// Errors.
export {
  badUserInput,
  codedError,
  ERRORS,
  ErrorCode,
  forbidden,
  InputError,
  type PluginErrors,
  UsageError,
} from './errors.ts';

// Data: SQL files and transactions.
export { inTransaction, sqlFolder } from './sql.ts';

// Messaging: typed pubsub topics, the job queue port, job types, typed job contracts.
export { type PubSub, type Topic, topic } from './pubsub.ts';
// Redis (REDIS_URL): one Redis or a cluster, through one factory.
export {
  createRedisClient,
  masterNodes,
  type RedisClient,
  type RedisClientOptions,
  type RedisTarget,
} from './redis.ts';
export {
  type BullMQQueuePort,
  type EnqueueOptions,
  JOB_STATES,
  type JobContext,
  type JobEvent,
  type JobState,
  PermanentJobError,
  type QueuePort,
  type Worker,
} from './queue/port.ts';
export type { QueueDefinition } from './queue/job-types.ts';
export { type JobContract, JobDataError, jobContract } from './queue/contract.ts';

// Typed jobs between plugins: each contract's data type and check, shared by producer and consumer.
export { type NotifyUsersJob, notifyUsersJob, type SendEmailJob, sendEmailJob } from './contracts/notifications.ts';

// Webhooks.
export {
  globMatcher,
  type StoredWebhookEvent,
  type WebhookEvent,
  type WebhookMessage,
  type WebhookMinute,
  type WebhookStats,
  type WebhookReceiver,
  type WebhookStatus,
  WebhookVerificationError,
  webhookEventsTopic,
} from './webhooks/receiver.ts';

// Retention: rules a plugin's `retention` hook returns, the webhook log's weeks, sync runs.
export { batchedRule, type PruneContext, type RetentionRule } from './retention.ts';
export { readSyncedRetention, type SyncedRetention, syncedRetention } from './sync/retention.ts';

// The sync core: descriptors, store, pager and checkpoints, check.
export type {
  ChildResource,
  JsonListing,
  JsonPage,
  ListRequest,
  ObjectState,
  Page,
  Queryable,
  SyncedObject,
  SyncResource,
  SyncTables,
} from './sync/resource.ts';
export { createSyncStore, type SyncStore } from './sync/store.ts';
export {
  type CatchUp,
  type CatchUpContext,
  createSyncer,
  type SyncKind,
  type SyncProgress,
  type SyncRequest,
  type SyncRun,
  type Syncer,
  type SyncRunRow,
  type SyncStateRow,
  syncProgressTopic,
} from './sync/syncer.ts';
export { type CheckReport, type CheckRequest, type Checker, createChecker } from './sync/check.ts';
export { addSyncCommands, type SyncCommandsOptions } from './sync/cli.ts';
// …and the GraphQL over synced tables: views, planner, runs and events.
export {
  camelCase,
  type ColumnField,
  type ColumnType,
  type Filter,
  type Relation,
  type RowScope,
  type SyncView,
  type SyncViews,
} from './sync/views.ts';
export { PlanCache } from './sync/planner.ts';
export { expectedColumns, verifySyncSchema } from './sync/expectations.ts';
export type { ViewRow } from './sync/object-schema.ts';
export { addSyncSchema, type SyncControlOptions } from './sync/control-schema.ts';

// Tracing: a span around work the instrumentations cannot see (a no-op while tracing is off).
export { type SpanAttributes, withSpan } from './tracing.ts';

// HTTP replies, outbound address policy, CLI output.
export { sendError, sendJson } from './http/replies.ts';
export { isPublicAddress } from './public-address.ts';
export { table } from './text-table.ts';
