/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query ConsoleStripeSyncStatus {\n  stripeSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleGithubSyncStatus {\n  githubSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleShopifySyncStatus {\n  shopifySyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nmutation ConsoleSyncStripe($full: Boolean) {\n  syncStripe(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncGithub($full: Boolean) {\n  syncGithub(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncShopify($full: Boolean) {\n  syncShopify(full: $full) {\n    id\n    resources\n  }\n}\n\nsubscription ConsoleSyncProgress($plugin: String) {\n  syncProgress(plugin: $plugin) {\n    plugin\n    runId\n    resource\n    synced\n    done\n  }\n}": typeof types.ConsoleStripeSyncStatusDocument,
    "query ConsolePlugins {\n  plugins {\n    name\n    version\n    description\n    enabled\n    reason\n    config {\n      key\n      value\n      isSet\n      secret\n      required\n      description\n    }\n  }\n}\n\nquery ConsoleWebhookStats {\n  webhookStats {\n    plugin\n    received\n    processed\n    failed\n    lastReceivedAt\n    oldestWaitingAt\n    perMinute {\n      minute\n      received\n      failed\n    }\n  }\n}\n\nquery ConsoleWebhookEvents($plugin: String!, $status: WebhookEventStatus, $type: String, $after: String) {\n  webhookEvents(\n    plugin: $plugin\n    status: $status\n    type: $type\n    first: 50\n    after: $after\n  ) {\n    edges {\n      node {\n        id\n        type\n        status\n        attempts\n        lastError\n        receivedAt\n        processedAt\n        payload\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation ConsoleReplayWebhookEvent($plugin: String!, $id: ID!) {\n  replayWebhookEvent(plugin: $plugin, id: $id) {\n    id\n    status\n    attempts\n    lastError\n    processedAt\n  }\n}\n\nmutation ConsoleReplayFailedWebhookEvents($plugin: String!) {\n  replayFailedWebhookEvents(plugin: $plugin)\n}": typeof types.ConsolePluginsDocument,
    "mutation CreateRoom($name: String!) {\n  createRoom(name: $name) {\n    id\n    name\n  }\n}\n\nsubscription RoomPresence($roomId: ID!) {\n  presence(roomId: $roomId) {\n    userId\n    status\n  }\n}": typeof types.CreateRoomDocument,
    "query Viewer {\n  viewer {\n    role\n    userId\n    allowedRoles\n  }\n  plugins {\n    name\n    version\n    enabled\n    reason\n  }\n}": typeof types.ViewerDocument,
};
const documents: Documents = {
    "query ConsoleStripeSyncStatus {\n  stripeSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleGithubSyncStatus {\n  githubSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleShopifySyncStatus {\n  shopifySyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nmutation ConsoleSyncStripe($full: Boolean) {\n  syncStripe(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncGithub($full: Boolean) {\n  syncGithub(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncShopify($full: Boolean) {\n  syncShopify(full: $full) {\n    id\n    resources\n  }\n}\n\nsubscription ConsoleSyncProgress($plugin: String) {\n  syncProgress(plugin: $plugin) {\n    plugin\n    runId\n    resource\n    synced\n    done\n  }\n}": types.ConsoleStripeSyncStatusDocument,
    "query ConsolePlugins {\n  plugins {\n    name\n    version\n    description\n    enabled\n    reason\n    config {\n      key\n      value\n      isSet\n      secret\n      required\n      description\n    }\n  }\n}\n\nquery ConsoleWebhookStats {\n  webhookStats {\n    plugin\n    received\n    processed\n    failed\n    lastReceivedAt\n    oldestWaitingAt\n    perMinute {\n      minute\n      received\n      failed\n    }\n  }\n}\n\nquery ConsoleWebhookEvents($plugin: String!, $status: WebhookEventStatus, $type: String, $after: String) {\n  webhookEvents(\n    plugin: $plugin\n    status: $status\n    type: $type\n    first: 50\n    after: $after\n  ) {\n    edges {\n      node {\n        id\n        type\n        status\n        attempts\n        lastError\n        receivedAt\n        processedAt\n        payload\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation ConsoleReplayWebhookEvent($plugin: String!, $id: ID!) {\n  replayWebhookEvent(plugin: $plugin, id: $id) {\n    id\n    status\n    attempts\n    lastError\n    processedAt\n  }\n}\n\nmutation ConsoleReplayFailedWebhookEvents($plugin: String!) {\n  replayFailedWebhookEvents(plugin: $plugin)\n}": types.ConsolePluginsDocument,
    "mutation CreateRoom($name: String!) {\n  createRoom(name: $name) {\n    id\n    name\n  }\n}\n\nsubscription RoomPresence($roomId: ID!) {\n  presence(roomId: $roomId) {\n    userId\n    status\n  }\n}": types.CreateRoomDocument,
    "query Viewer {\n  viewer {\n    role\n    userId\n    allowedRoles\n  }\n  plugins {\n    name\n    version\n    enabled\n    reason\n  }\n}": types.ViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsoleStripeSyncStatus {\n  stripeSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleGithubSyncStatus {\n  githubSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleShopifySyncStatus {\n  shopifySyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nmutation ConsoleSyncStripe($full: Boolean) {\n  syncStripe(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncGithub($full: Boolean) {\n  syncGithub(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncShopify($full: Boolean) {\n  syncShopify(full: $full) {\n    id\n    resources\n  }\n}\n\nsubscription ConsoleSyncProgress($plugin: String) {\n  syncProgress(plugin: $plugin) {\n    plugin\n    runId\n    resource\n    synced\n    done\n  }\n}"): (typeof documents)["query ConsoleStripeSyncStatus {\n  stripeSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleGithubSyncStatus {\n  githubSyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nquery ConsoleShopifySyncStatus {\n  shopifySyncStatus {\n    resource\n    status\n    objectsSynced\n    lastSyncAt\n    lastError\n  }\n}\n\nmutation ConsoleSyncStripe($full: Boolean) {\n  syncStripe(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncGithub($full: Boolean) {\n  syncGithub(full: $full) {\n    id\n    resources\n  }\n}\n\nmutation ConsoleSyncShopify($full: Boolean) {\n  syncShopify(full: $full) {\n    id\n    resources\n  }\n}\n\nsubscription ConsoleSyncProgress($plugin: String) {\n  syncProgress(plugin: $plugin) {\n    plugin\n    runId\n    resource\n    synced\n    done\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ConsolePlugins {\n  plugins {\n    name\n    version\n    description\n    enabled\n    reason\n    config {\n      key\n      value\n      isSet\n      secret\n      required\n      description\n    }\n  }\n}\n\nquery ConsoleWebhookStats {\n  webhookStats {\n    plugin\n    received\n    processed\n    failed\n    lastReceivedAt\n    oldestWaitingAt\n    perMinute {\n      minute\n      received\n      failed\n    }\n  }\n}\n\nquery ConsoleWebhookEvents($plugin: String!, $status: WebhookEventStatus, $type: String, $after: String) {\n  webhookEvents(\n    plugin: $plugin\n    status: $status\n    type: $type\n    first: 50\n    after: $after\n  ) {\n    edges {\n      node {\n        id\n        type\n        status\n        attempts\n        lastError\n        receivedAt\n        processedAt\n        payload\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation ConsoleReplayWebhookEvent($plugin: String!, $id: ID!) {\n  replayWebhookEvent(plugin: $plugin, id: $id) {\n    id\n    status\n    attempts\n    lastError\n    processedAt\n  }\n}\n\nmutation ConsoleReplayFailedWebhookEvents($plugin: String!) {\n  replayFailedWebhookEvents(plugin: $plugin)\n}"): (typeof documents)["query ConsolePlugins {\n  plugins {\n    name\n    version\n    description\n    enabled\n    reason\n    config {\n      key\n      value\n      isSet\n      secret\n      required\n      description\n    }\n  }\n}\n\nquery ConsoleWebhookStats {\n  webhookStats {\n    plugin\n    received\n    processed\n    failed\n    lastReceivedAt\n    oldestWaitingAt\n    perMinute {\n      minute\n      received\n      failed\n    }\n  }\n}\n\nquery ConsoleWebhookEvents($plugin: String!, $status: WebhookEventStatus, $type: String, $after: String) {\n  webhookEvents(\n    plugin: $plugin\n    status: $status\n    type: $type\n    first: 50\n    after: $after\n  ) {\n    edges {\n      node {\n        id\n        type\n        status\n        attempts\n        lastError\n        receivedAt\n        processedAt\n        payload\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nmutation ConsoleReplayWebhookEvent($plugin: String!, $id: ID!) {\n  replayWebhookEvent(plugin: $plugin, id: $id) {\n    id\n    status\n    attempts\n    lastError\n    processedAt\n  }\n}\n\nmutation ConsoleReplayFailedWebhookEvents($plugin: String!) {\n  replayFailedWebhookEvents(plugin: $plugin)\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateRoom($name: String!) {\n  createRoom(name: $name) {\n    id\n    name\n  }\n}\n\nsubscription RoomPresence($roomId: ID!) {\n  presence(roomId: $roomId) {\n    userId\n    status\n  }\n}"): (typeof documents)["mutation CreateRoom($name: String!) {\n  createRoom(name: $name) {\n    id\n    name\n  }\n}\n\nsubscription RoomPresence($roomId: ID!) {\n  presence(roomId: $roomId) {\n    userId\n    status\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Viewer {\n  viewer {\n    role\n    userId\n    allowedRoles\n  }\n  plugins {\n    name\n    version\n    enabled\n    reason\n  }\n}"): (typeof documents)["query Viewer {\n  viewer {\n    role\n    userId\n    allowedRoles\n  }\n  plugins {\n    name\n    version\n    enabled\n    reason\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;