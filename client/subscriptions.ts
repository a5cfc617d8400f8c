/**
 * The graphql-ws client a frontend runs the typed subscription documents (client/generated) with.
 * It sends the token in `connection_init` and, when its gateway goes away (a rolling restart
 * closes sockets with 1001), reconnects through the balancer and subscribes again by itself.
 * `client.on('connected' | 'closed', …)` tells when.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { ExecutionResult } from 'graphql';
import { createClient, type Client, type Sink } from 'graphql-ws';
import { operationOf } from './request.ts';

export interface SubscriptionClientOptions {
  /** ws(s)://…/graphql */
  url: string;
  /** The bearer token, asked on every (re)connect so a refreshed one is used. */
  token?: () => string | undefined | Promise<string | undefined>;
  /** More `connection_init` parameters (the operator console's CSRF token). */
  params?: () => Record<string, string>;
  /** A WebSocket class where there is no global one (Node: the `ws` package). */
  webSocketImpl?: unknown;
  /**
   * Reconnects in a row before giving up; every successful connect starts the count again.
   * @default 10
   */
  retryAttempts?: number;
}

/** The first reconnect waits 0.75–3 s, each next one up to twice as long, at most 30 s. */
const FIRST_RETRY_MS = 3000;
const LONGEST_RETRY_MS = 30_000;

/**
 * A random time in the last three quarters of a window that doubles with each retry: the sockets
 * a stopping gateway closed together come back spread over seconds, not all at once onto the
 * others (who would be too busy to answer their health checks), and within the realtime plugin's
 * presence grace period (10 s) even when the first attempt fails.
 */
export function retryDelayMs(retries: number, random = Math.random()): number {
  const window = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** retries);
  return Math.round(window * (0.25 + (random * 3) / 4));
}

export function createSubscriptionClient(options: SubscriptionClientOptions): Client {
  return createClient({
    url: options.url,
    webSocketImpl: options.webSocketImpl,
    connectionParams: async () => {
      const token = await options.token?.();
      return { ...options.params?.(), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    },
    retryAttempts: options.retryAttempts ?? 10,
    // graphql-ws retries only close events by default: a refused upgrade (a balancer's 503 while
    // no gateway is ready) would end the client. Its fatal close codes (4400, 4500, …) still are.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries))),
  });
}

/**
 * Subscribes with a typed document, by its trusted id unless `sendText` (see client/request.ts);
 * the returned function unsubscribes.
 */
export function subscribeTo<Result, Variables extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<Result, Variables>,
  variables: Variables,
  sink: Sink<ExecutionResult<Result>>,
  options: { sendText?: boolean } = {},
): () => void {
  const operation = operationOf(document as TypedDocumentNode<unknown, never>, options.sendText);
  // graphql-ws's client requires `query`; the gateway reads an empty one beside `documentId` as "by id".
  const payload = 'documentId' in operation ? { query: '', ...operation, variables } : { ...operation, variables };
  return client.subscribe<Result>(payload, sink);
}
