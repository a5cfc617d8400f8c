/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type JobState =
  | 'ACTIVE'
  | 'CANCELLED'
  | 'COMPLETED'
  | 'DELAYED'
  | 'FAILED'
  | 'WAITING';

export type NotificationChannel =
  | 'EMAIL'
  | 'IN_APP'
  | 'PUSH'
  | 'SMS';

export type NotificationStatus =
  /** Waiting for the end of quiet hours, or for the digest. */
  | 'DEFERRED'
  /** Reached the recipient (in-app). */
  | 'DELIVERED'
  /** Final: the reason says why (after the last attempt, or refused for this recipient). */
  | 'FAILED'
  /** Waiting for a worker (or for a retry). */
  | 'QUEUED'
  /** Accepted by the provider (SMTP server, push service, Twilio). */
  | 'SENT'
  /** Not sent on purpose: opted out, no address or subscription. */
  | 'SKIPPED';

/** A template variant's channel; ANY serves channels without a variant of their own. */
export type NotificationTemplateChannel =
  | 'ANY'
  | 'EMAIL'
  | 'IN_APP'
  | 'PUSH'
  | 'SMS';

export type NotificationTemplateInput = {
  /** Liquid; the text. */
  body: string;
  channel?: NotificationTemplateChannel | null | undefined;
  /** Liquid, every output HTML-escaped; email only. */
  html?: string | null | undefined;
  locale?: string | null | undefined;
  name: string;
  /** Liquid; email subject, push title (SMS prepends it to the body). */
  subject?: string | null | undefined;
};

export type PresenceStatus =
  | 'AWAY'
  | 'BUSY'
  | 'OFFLINE'
  | 'ONLINE';

/** RECEIVED: stored, not yet applied (or being retried). PROCESSED: applied. FAILED: every attempt failed (replay it). */
export type WebhookEventStatus =
  | 'FAILED'
  | 'PROCESSED'
  | 'RECEIVED';

export type ConsoleQueuesQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleQueuesQuery = { queueStats: Array<{ queue: string, backend: string, waiting: number, active: number, delayed: number, completed: number, failed: number, cancelled: number }>, jobThroughput: Array<{ minute: string, completed: number, failed: number }>, schedules: Array<{ id: string, queue: string, type: string, cron: string, timezone: string, nextRunAt: string, payload: unknown }> };

export type ConsoleJobsQueryVariables = Exact<{
  queue?: string | null | undefined;
  state?: JobState | null | undefined;
}>;


export type ConsoleJobsQuery = { jobs: { edges: Array<{ node: { id: string, queue: string, type: string, state: JobState, attemptsMade: number, maxAttempts: number | null, lastError: string | null, createdAt: string, finishedAt: string | null } }> } };

export type ConsoleRetryJobMutationVariables = Exact<{
  id: string | number;
  queue?: string | null | undefined;
}>;


export type ConsoleRetryJobMutation = { retryJob: { id: string, state: JobState } };

export type ConsoleCancelJobMutationVariables = Exact<{
  id: string | number;
  queue?: string | null | undefined;
}>;


export type ConsoleCancelJobMutation = { cancelJob: { id: string, state: JobState } };

export type ConsoleCreateScheduleMutationVariables = Exact<{
  type: string;
  cron: string;
  queue?: string | null | undefined;
  timezone?: string | null | undefined;
  payload?: unknown;
}>;


export type ConsoleCreateScheduleMutation = { createSchedule: { id: string } };

export type ConsoleDeleteScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleDeleteScheduleMutation = { deleteSchedule: boolean };

export type ConsoleNotificationsQueryVariables = Exact<{
  status?: NotificationStatus | null | undefined;
  channel?: NotificationChannel | null | undefined;
}>;


export type ConsoleNotificationsQuery = { notificationTemplates: Array<{ id: string, name: string, channel: NotificationTemplateChannel, locale: string, version: number, subject: string | null, body: string, html: string | null }>, notificationChannels: Array<{ channel: NotificationChannel, enabled: boolean, providers: Array<string>, reason: string | null }>, notificationStats: Array<{ channel: NotificationChannel, status: NotificationStatus, count: number }>, notificationDeliveries: { edges: Array<{ node: { id: string, userId: string | null, channel: NotificationChannel, template: string | null, subject: string | null, status: NotificationStatus, reason: string | null, provider: string | null, attempts: number, createdAt: string, sentAt: string | null } }> } };

export type ConsoleRenderTemplateQueryVariables = Exact<{
  input: NotificationTemplateInput;
  data: unknown;
}>;


export type ConsoleRenderTemplateQuery = { renderNotificationTemplate: { subject: string | null, body: string, html: string | null } };

export type ConsoleUpdateTemplateMutationVariables = Exact<{
  input: NotificationTemplateInput;
}>;


export type ConsoleUpdateTemplateMutation = { updateNotificationTemplate: { id: string, version: number } };

export type ConsoleCreateTemplateMutationVariables = Exact<{
  input: NotificationTemplateInput;
}>;


export type ConsoleCreateTemplateMutation = { createNotificationTemplate: { id: string, version: number } };

export type ConsoleRealtimeQueryVariables = Exact<{
  instance?: string | null | undefined;
}>;


export type ConsoleRealtimeQuery = { realtimeInstances: Array<{ id: string, startedAt: string, heartbeatAt: string, connections: number, users: number }>, realtimeConnections: Array<{ id: string, instance: string, userId: string, connectedAt: string, lastSeen: string }>, realtimeRooms: Array<{ id: string, name: string, isPrivate: boolean, createdBy: string, members: number, online: number }> };

export type ConsoleRoomMembersQueryVariables = Exact<{
  roomId: string | number;
}>;


export type ConsoleRoomMembersQuery = { realtimeRoomMembers: Array<{ userId: string, role: string, status: string, joinedAt: string }> };

export type ConsoleDisconnectMutationVariables = Exact<{
  id: string | number;
}>;


export type ConsoleDisconnectMutation = { disconnectRealtimeConnection: boolean };

export type ConsoleStripeSyncStatusQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleStripeSyncStatusQuery = { stripeSyncStatus: Array<{ resource: string, status: string, objectsSynced: string, lastSyncAt: string | null, lastError: string | null }> };

export type ConsoleGithubSyncStatusQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleGithubSyncStatusQuery = { githubSyncStatus: Array<{ resource: string, status: string, objectsSynced: string, lastSyncAt: string | null, lastError: string | null }> };

export type ConsoleShopifySyncStatusQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleShopifySyncStatusQuery = { shopifySyncStatus: Array<{ resource: string, status: string, objectsSynced: string, lastSyncAt: string | null, lastError: string | null }> };

export type ConsoleSyncStripeMutationVariables = Exact<{
  full?: boolean | null | undefined;
}>;


export type ConsoleSyncStripeMutation = { syncStripe: { id: string, resources: Array<string> } };

export type ConsoleSyncGithubMutationVariables = Exact<{
  full?: boolean | null | undefined;
}>;


export type ConsoleSyncGithubMutation = { syncGithub: { id: string, resources: Array<string> } };

export type ConsoleSyncShopifyMutationVariables = Exact<{
  full?: boolean | null | undefined;
}>;


export type ConsoleSyncShopifyMutation = { syncShopify: { id: string, resources: Array<string> } };

export type ConsoleSyncProgressSubscriptionVariables = Exact<{
  plugin?: string | null | undefined;
}>;


export type ConsoleSyncProgressSubscription = { syncProgress: { plugin: string, runId: string, resource: string, synced: number, done: boolean } };

export type ConsoleCheckStripeMutationVariables = Exact<{
  fix?: boolean | null | undefined;
}>;


export type ConsoleCheckStripeMutation = { checkStripe: Array<{ resource: string, api: number, database: number, missing: number, stale: number, extra: number, fixed: number }> };

export type ConsoleCheckGithubMutationVariables = Exact<{
  fix?: boolean | null | undefined;
}>;


export type ConsoleCheckGithubMutation = { checkGithub: Array<{ resource: string, api: number, database: number, missing: number, stale: number, extra: number, fixed: number }> };

export type ConsoleCheckShopifyMutationVariables = Exact<{
  fix?: boolean | null | undefined;
}>;


export type ConsoleCheckShopifyMutation = { checkShopify: Array<{ resource: string, api: number, database: number, missing: number, stale: number, extra: number, fixed: number }> };

export type ConsolePluginsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsolePluginsQuery = { plugins: Array<{ name: string, version: string, description: string, enabled: boolean, reason: string | null, hasuraActions: Array<string>, hasuraEventTriggers: Array<string>, config: Array<{ key: string, value: string | null, isSet: boolean, secret: boolean, required: boolean, description: string | null }>, migrations: Array<{ version: number, name: string, state: string, appliedAt: string | null }> }> };

export type ConsoleWebhookStatsQueryVariables = Exact<{ [key: string]: never; }>;


export type ConsoleWebhookStatsQuery = { webhookStats: Array<{ plugin: string, received: number, processed: number, failed: number, lastReceivedAt: string | null, oldestWaitingAt: string | null, perMinute: Array<{ minute: string, received: number, failed: number }> }> };

export type ConsoleWebhookEventsQueryVariables = Exact<{
  plugin: string;
  status?: WebhookEventStatus | null | undefined;
  type?: string | null | undefined;
  from?: string | null | undefined;
  before?: string | null | undefined;
  after?: string | null | undefined;
}>;


export type ConsoleWebhookEventsQuery = { webhookEvents: { edges: Array<{ node: { id: string, type: string, status: WebhookEventStatus, attempts: number, lastError: string | null, receivedAt: string, processedAt: string | null, payload: unknown } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ConsoleReplayWebhookEventMutationVariables = Exact<{
  plugin: string;
  id: string | number;
}>;


export type ConsoleReplayWebhookEventMutation = { replayWebhookEvent: { id: string, status: WebhookEventStatus, attempts: number, lastError: string | null, processedAt: string | null } };

export type ConsoleReplayFailedWebhookEventsMutationVariables = Exact<{
  plugin: string;
}>;


export type ConsoleReplayFailedWebhookEventsMutation = { replayFailedWebhookEvents: number };

export type CreateRoomMutationVariables = Exact<{
  name: string;
}>;


export type CreateRoomMutation = { createRoom: { id: string, name: string } };

export type RoomPresenceSubscriptionVariables = Exact<{
  roomId: string | number;
}>;


export type RoomPresenceSubscription = { presence: { userId: string, status: PresenceStatus } };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { viewer: { role: string, userId: string | null, allowedRoles: Array<string> }, plugins: Array<{ name: string, version: string, enabled: boolean, reason: string | null }> };


export const ConsoleQueuesDocument = {"__meta__":{"hash":"sha256:ac2758c90bbaa99c4ee62192ac3da63ed4e15bd8143134656cb03d046b8903eb"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleQueues"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"queueStats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"queue"}},{"kind":"Field","name":{"kind":"Name","value":"backend"}},{"kind":"Field","name":{"kind":"Name","value":"waiting"}},{"kind":"Field","name":{"kind":"Name","value":"active"}},{"kind":"Field","name":{"kind":"Name","value":"delayed"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"cancelled"}}]}},{"kind":"Field","name":{"kind":"Name","value":"jobThroughput"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"minute"}},{"kind":"Field","name":{"kind":"Name","value":"completed"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}}]}},{"kind":"Field","name":{"kind":"Name","value":"schedules"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"queue"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"cron"}},{"kind":"Field","name":{"kind":"Name","value":"timezone"}},{"kind":"Field","name":{"kind":"Name","value":"nextRunAt"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]}}]} as unknown as DocumentNode<ConsoleQueuesQuery, ConsoleQueuesQueryVariables>;
export const ConsoleJobsDocument = {"__meta__":{"hash":"sha256:3f021f5e8d449a28d9bce52f27e9b96ef68e110fd56a418e7f0906d5eae58a36"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleJobs"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"queue"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"state"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"JobState"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"jobs"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"queue"},"value":{"kind":"Variable","name":{"kind":"Name","value":"queue"}}},{"kind":"Argument","name":{"kind":"Name","value":"state"},"value":{"kind":"Variable","name":{"kind":"Name","value":"state"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"queue"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"attemptsMade"}},{"kind":"Field","name":{"kind":"Name","value":"maxAttempts"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"finishedAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleJobsQuery, ConsoleJobsQueryVariables>;
export const ConsoleRetryJobDocument = {"__meta__":{"hash":"sha256:47cfc4a63feb395487cfdfcccb29d7ba48c1fc2a478b4b867684cd205d71f233"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleRetryJob"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"queue"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"retryJob"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"queue"},"value":{"kind":"Variable","name":{"kind":"Name","value":"queue"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}}]} as unknown as DocumentNode<ConsoleRetryJobMutation, ConsoleRetryJobMutationVariables>;
export const ConsoleCancelJobDocument = {"__meta__":{"hash":"sha256:9ba4717457765ab904de1a18ecf8cf15c967b5108d16497d33e97bcc68db3aa0"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCancelJob"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"queue"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cancelJob"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"queue"},"value":{"kind":"Variable","name":{"kind":"Name","value":"queue"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}}]} as unknown as DocumentNode<ConsoleCancelJobMutation, ConsoleCancelJobMutationVariables>;
export const ConsoleCreateScheduleDocument = {"__meta__":{"hash":"sha256:ae15c8f522b987a32980594baa86bff355d414ac8c08e853449418f9a63ca222"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCreateSchedule"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"type"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"cron"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"queue"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"timezone"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"payload"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"JSON"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createSchedule"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"type"},"value":{"kind":"Variable","name":{"kind":"Name","value":"type"}}},{"kind":"Argument","name":{"kind":"Name","value":"cron"},"value":{"kind":"Variable","name":{"kind":"Name","value":"cron"}}},{"kind":"Argument","name":{"kind":"Name","value":"queue"},"value":{"kind":"Variable","name":{"kind":"Name","value":"queue"}}},{"kind":"Argument","name":{"kind":"Name","value":"timezone"},"value":{"kind":"Variable","name":{"kind":"Name","value":"timezone"}}},{"kind":"Argument","name":{"kind":"Name","value":"payload"},"value":{"kind":"Variable","name":{"kind":"Name","value":"payload"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}}]}}]} as unknown as DocumentNode<ConsoleCreateScheduleMutation, ConsoleCreateScheduleMutationVariables>;
export const ConsoleDeleteScheduleDocument = {"__meta__":{"hash":"sha256:aff9549928af0f27d0e5368a3e4cd58ec980a5f8e0a6609cda63767ab77a47fe"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleDeleteSchedule"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deleteSchedule"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}]}]}}]} as unknown as DocumentNode<ConsoleDeleteScheduleMutation, ConsoleDeleteScheduleMutationVariables>;
export const ConsoleNotificationsDocument = {"__meta__":{"hash":"sha256:d12fbecf188a6f68bbb22f255b12054a879d0260f7b8ac69745ec5699a336f88"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleNotifications"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"NotificationStatus"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"channel"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"NotificationChannel"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"notificationTemplates"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"locale"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"html"}}]}},{"kind":"Field","name":{"kind":"Name","value":"notificationChannels"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"providers"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}},{"kind":"Field","name":{"kind":"Name","value":"notificationStats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"count"}}]}},{"kind":"Field","name":{"kind":"Name","value":"notificationDeliveries"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"channel"},"value":{"kind":"Variable","name":{"kind":"Name","value":"channel"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"template"}},{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"provider"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"sentAt"}}]}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleNotificationsQuery, ConsoleNotificationsQueryVariables>;
export const ConsoleRenderTemplateDocument = {"__meta__":{"hash":"sha256:711a94d492c20e1e869150595051952684f5e7a5315bae61dd6e8f3bd06ebdba"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleRenderTemplate"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"NotificationTemplateInput"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"data"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"JSON"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"renderNotificationTemplate"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}},{"kind":"Argument","name":{"kind":"Name","value":"data"},"value":{"kind":"Variable","name":{"kind":"Name","value":"data"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"subject"}},{"kind":"Field","name":{"kind":"Name","value":"body"}},{"kind":"Field","name":{"kind":"Name","value":"html"}}]}}]}}]} as unknown as DocumentNode<ConsoleRenderTemplateQuery, ConsoleRenderTemplateQueryVariables>;
export const ConsoleUpdateTemplateDocument = {"__meta__":{"hash":"sha256:b449e04f9949cd91c6818d42ef8cc1759116bf727faca1a91a1ab193cafaff2b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleUpdateTemplate"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"NotificationTemplateInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"updateNotificationTemplate"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<ConsoleUpdateTemplateMutation, ConsoleUpdateTemplateMutationVariables>;
export const ConsoleCreateTemplateDocument = {"__meta__":{"hash":"sha256:3863dd94e0d6bbfa9947ce556379b9c7b6b0b5ca1d934307289ae66096ee4d0d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCreateTemplate"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"NotificationTemplateInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createNotificationTemplate"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"version"}}]}}]}}]} as unknown as DocumentNode<ConsoleCreateTemplateMutation, ConsoleCreateTemplateMutationVariables>;
export const ConsoleRealtimeDocument = {"__meta__":{"hash":"sha256:af46b99a915c47d970d491ae8584ce2d6e98d2ac7887d64ceb20dc42c800926f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleRealtime"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"instance"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"realtimeInstances"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"startedAt"}},{"kind":"Field","name":{"kind":"Name","value":"heartbeatAt"}},{"kind":"Field","name":{"kind":"Name","value":"connections"}},{"kind":"Field","name":{"kind":"Name","value":"users"}}]}},{"kind":"Field","name":{"kind":"Name","value":"realtimeConnections"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"instance"},"value":{"kind":"Variable","name":{"kind":"Name","value":"instance"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"200"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"instance"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"connectedAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastSeen"}}]}},{"kind":"Field","name":{"kind":"Name","value":"realtimeRooms"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"isPrivate"}},{"kind":"Field","name":{"kind":"Name","value":"createdBy"}},{"kind":"Field","name":{"kind":"Name","value":"members"}},{"kind":"Field","name":{"kind":"Name","value":"online"}}]}}]}}]} as unknown as DocumentNode<ConsoleRealtimeQuery, ConsoleRealtimeQueryVariables>;
export const ConsoleRoomMembersDocument = {"__meta__":{"hash":"sha256:3552fd8351077d4f5c8e5f4f4f880e9854d049e3e1c18b41c7590010041dfc0b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleRoomMembers"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"roomId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"realtimeRoomMembers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"roomId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"roomId"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"200"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"joinedAt"}}]}}]}}]} as unknown as DocumentNode<ConsoleRoomMembersQuery, ConsoleRoomMembersQueryVariables>;
export const ConsoleDisconnectDocument = {"__meta__":{"hash":"sha256:b3a7b03fe8024b1c61c401b641b60dde926da5bc5724f1d21cdfb1212bae3941"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleDisconnect"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"disconnectRealtimeConnection"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}]}]}}]} as unknown as DocumentNode<ConsoleDisconnectMutation, ConsoleDisconnectMutationVariables>;
export const ConsoleStripeSyncStatusDocument = {"__meta__":{"hash":"sha256:77e72b67ccce1570f610fe1e2717f9aa3cc69debaefda0ef39e1f8618dfc130d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleStripeSyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"stripeSyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"objectsSynced"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}}]}}]}}]} as unknown as DocumentNode<ConsoleStripeSyncStatusQuery, ConsoleStripeSyncStatusQueryVariables>;
export const ConsoleGithubSyncStatusDocument = {"__meta__":{"hash":"sha256:77cf88073ab9f4c86848b6ea502ed64ab6cf79f20f9cae13bfdd9053fb51bbb4"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleGithubSyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"githubSyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"objectsSynced"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}}]}}]}}]} as unknown as DocumentNode<ConsoleGithubSyncStatusQuery, ConsoleGithubSyncStatusQueryVariables>;
export const ConsoleShopifySyncStatusDocument = {"__meta__":{"hash":"sha256:d83fec2876c592a641ea2e0bdc83f919742b3e50d3c3f119f6b2578abafbeefc"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleShopifySyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"shopifySyncStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"objectsSynced"}},{"kind":"Field","name":{"kind":"Name","value":"lastSyncAt"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}}]}}]}}]} as unknown as DocumentNode<ConsoleShopifySyncStatusQuery, ConsoleShopifySyncStatusQueryVariables>;
export const ConsoleSyncStripeDocument = {"__meta__":{"hash":"sha256:4c21a480a9ebffe206532ed365d7207aa3f9dacb74c0b1a06423cd47ce79db50"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSyncStripe"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"full"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncStripe"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"full"},"value":{"kind":"Variable","name":{"kind":"Name","value":"full"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}}]}}]}}]} as unknown as DocumentNode<ConsoleSyncStripeMutation, ConsoleSyncStripeMutationVariables>;
export const ConsoleSyncGithubDocument = {"__meta__":{"hash":"sha256:af850001334476ebac8e8f13b2f2a40c479143d578fc9a5782cc2bca1fec3d7b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSyncGithub"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"full"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncGithub"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"full"},"value":{"kind":"Variable","name":{"kind":"Name","value":"full"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}}]}}]}}]} as unknown as DocumentNode<ConsoleSyncGithubMutation, ConsoleSyncGithubMutationVariables>;
export const ConsoleSyncShopifyDocument = {"__meta__":{"hash":"sha256:b11c94c78d1b9fe7bf3a2d0cf45d569b3bba6d9de8168b10b66744a824e854e7"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleSyncShopify"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"full"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncShopify"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"full"},"value":{"kind":"Variable","name":{"kind":"Name","value":"full"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"resources"}}]}}]}}]} as unknown as DocumentNode<ConsoleSyncShopifyMutation, ConsoleSyncShopifyMutationVariables>;
export const ConsoleSyncProgressDocument = {"__meta__":{"hash":"sha256:359992b72b73f9f3bac6af2565f6eacff0c02173df9f8feb1d091b072e19ff3c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"ConsoleSyncProgress"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"syncProgress"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"plugin"},"value":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"plugin"}},{"kind":"Field","name":{"kind":"Name","value":"runId"}},{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"synced"}},{"kind":"Field","name":{"kind":"Name","value":"done"}}]}}]}}]} as unknown as DocumentNode<ConsoleSyncProgressSubscription, ConsoleSyncProgressSubscriptionVariables>;
export const ConsoleCheckStripeDocument = {"__meta__":{"hash":"sha256:a51f795a992caa42dc8a4618e5cee093f3358f6ba542b809ac6a80d4a233788f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCheckStripe"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"fix"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"checkStripe"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"fix"},"value":{"kind":"Variable","name":{"kind":"Name","value":"fix"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"api"}},{"kind":"Field","name":{"kind":"Name","value":"database"}},{"kind":"Field","name":{"kind":"Name","value":"missing"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}},{"kind":"Field","name":{"kind":"Name","value":"extra"}},{"kind":"Field","name":{"kind":"Name","value":"fixed"}}]}}]}}]} as unknown as DocumentNode<ConsoleCheckStripeMutation, ConsoleCheckStripeMutationVariables>;
export const ConsoleCheckGithubDocument = {"__meta__":{"hash":"sha256:9ce117be63a6c6db198574a216b4bfc926911a182b56ec5bf45749c447da14f2"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCheckGithub"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"fix"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"checkGithub"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"fix"},"value":{"kind":"Variable","name":{"kind":"Name","value":"fix"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"api"}},{"kind":"Field","name":{"kind":"Name","value":"database"}},{"kind":"Field","name":{"kind":"Name","value":"missing"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}},{"kind":"Field","name":{"kind":"Name","value":"extra"}},{"kind":"Field","name":{"kind":"Name","value":"fixed"}}]}}]}}]} as unknown as DocumentNode<ConsoleCheckGithubMutation, ConsoleCheckGithubMutationVariables>;
export const ConsoleCheckShopifyDocument = {"__meta__":{"hash":"sha256:1672430182022ba487715b167ef5c19717a3688bbd5ba34163b8c76bf9b0cb02"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleCheckShopify"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"fix"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"checkShopify"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"fix"},"value":{"kind":"Variable","name":{"kind":"Name","value":"fix"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resource"}},{"kind":"Field","name":{"kind":"Name","value":"api"}},{"kind":"Field","name":{"kind":"Name","value":"database"}},{"kind":"Field","name":{"kind":"Name","value":"missing"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}},{"kind":"Field","name":{"kind":"Name","value":"extra"}},{"kind":"Field","name":{"kind":"Name","value":"fixed"}}]}}]}}]} as unknown as DocumentNode<ConsoleCheckShopifyMutation, ConsoleCheckShopifyMutationVariables>;
export const ConsolePluginsDocument = {"__meta__":{"hash":"sha256:163c4ca483c7684f5e8f65eb9cf31218f579457429b654718e78d905326c633e"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsolePlugins"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"plugins"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"description"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}},{"kind":"Field","name":{"kind":"Name","value":"config"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"isSet"}},{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"required"}},{"kind":"Field","name":{"kind":"Name","value":"description"}}]}},{"kind":"Field","name":{"kind":"Name","value":"migrations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"appliedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"hasuraActions"}},{"kind":"Field","name":{"kind":"Name","value":"hasuraEventTriggers"}}]}}]}}]} as unknown as DocumentNode<ConsolePluginsQuery, ConsolePluginsQueryVariables>;
export const ConsoleWebhookStatsDocument = {"__meta__":{"hash":"sha256:3408674dde3da3cb1ead6d1c8cbd3177882bda34a0e17b40f4756ec459e7c2fd"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleWebhookStats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"webhookStats"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"plugin"}},{"kind":"Field","name":{"kind":"Name","value":"received"}},{"kind":"Field","name":{"kind":"Name","value":"processed"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}},{"kind":"Field","name":{"kind":"Name","value":"lastReceivedAt"}},{"kind":"Field","name":{"kind":"Name","value":"oldestWaitingAt"}},{"kind":"Field","name":{"kind":"Name","value":"perMinute"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"minute"}},{"kind":"Field","name":{"kind":"Name","value":"received"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleWebhookStatsQuery, ConsoleWebhookStatsQueryVariables>;
export const ConsoleWebhookEventsDocument = {"__meta__":{"hash":"sha256:d2949405bfe7e1bd43b86c6d309061871c331dffcb8322392d621db34c8ae95f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"ConsoleWebhookEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"WebhookEventStatus"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"type"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"from"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"before"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"DateTime"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"webhookEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"plugin"},"value":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}}},{"kind":"Argument","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}},{"kind":"Argument","name":{"kind":"Name","value":"type"},"value":{"kind":"Variable","name":{"kind":"Name","value":"type"}}},{"kind":"Argument","name":{"kind":"Name","value":"receivedFrom"},"value":{"kind":"Variable","name":{"kind":"Name","value":"from"}}},{"kind":"Argument","name":{"kind":"Name","value":"receivedBefore"},"value":{"kind":"Variable","name":{"kind":"Name","value":"before"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"50"}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"type"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"receivedAt"}},{"kind":"Field","name":{"kind":"Name","value":"processedAt"}},{"kind":"Field","name":{"kind":"Name","value":"payload"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<ConsoleWebhookEventsQuery, ConsoleWebhookEventsQueryVariables>;
export const ConsoleReplayWebhookEventDocument = {"__meta__":{"hash":"sha256:cec75b99097fc786bad21a10837a1ee152486f440022bd280030096bbbcce00c"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleReplayWebhookEvent"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"replayWebhookEvent"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"plugin"},"value":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}}},{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"attempts"}},{"kind":"Field","name":{"kind":"Name","value":"lastError"}},{"kind":"Field","name":{"kind":"Name","value":"processedAt"}}]}}]}}]} as unknown as DocumentNode<ConsoleReplayWebhookEventMutation, ConsoleReplayWebhookEventMutationVariables>;
export const ConsoleReplayFailedWebhookEventsDocument = {"__meta__":{"hash":"sha256:3cda135336bd12468a695c14287ab96651bc1e5ac156403d1eb2a5c0cf715424"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ConsoleReplayFailedWebhookEvents"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"replayFailedWebhookEvents"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"plugin"},"value":{"kind":"Variable","name":{"kind":"Name","value":"plugin"}}}]}]}}]} as unknown as DocumentNode<ConsoleReplayFailedWebhookEventsMutation, ConsoleReplayFailedWebhookEventsMutationVariables>;
export const CreateRoomDocument = {"__meta__":{"hash":"sha256:c4bbeadd72db21958693714c1aee610b1f134a6235f0bf2d55af316ca4ededbb"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateRoom"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"name"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createRoom"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"name"},"value":{"kind":"Variable","name":{"kind":"Name","value":"name"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]} as unknown as DocumentNode<CreateRoomMutation, CreateRoomMutationVariables>;
export const RoomPresenceDocument = {"__meta__":{"hash":"sha256:9eb3ad53d1848e0143e03f1595e9c187728af3068d230a0a418fff8cbfa98164"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"RoomPresence"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"roomId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"presence"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"roomId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"roomId"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]} as unknown as DocumentNode<RoomPresenceSubscription, RoomPresenceSubscriptionVariables>;
export const ViewerDocument = {"__meta__":{"hash":"sha256:2e76d70753e9f82b5e6ef9ef20fa6f16ed75e426edc6ef46eaf03704e8293c3b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"viewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"userId"}},{"kind":"Field","name":{"kind":"Name","value":"allowedRoles"}}]}},{"kind":"Field","name":{"kind":"Name","value":"plugins"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"version"}},{"kind":"Field","name":{"kind":"Name","value":"enabled"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}}]}}]} as unknown as DocumentNode<ViewerQuery, ViewerQueryVariables>;