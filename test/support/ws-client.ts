/** A real graphql-ws client for tests, with helpers to await the next value or the close. */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface TestSubscription<T> {
  next(): Promise<T>;
  dispose(): void;
}

export interface TestWsClient {
  client: Client;
  /** Resolves with the close event's code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  subscribe<T = unknown>(
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ): TestSubscription<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  /** Resolves once the server acknowledged connection_init. */
  connected: Promise<void>;
}

/**
 * `socket` is passed to the `ws` client: `localAddress` to connect from another loopback address
 * (127.0.0.2 …, as another client IP would), `headers` for upgrade headers such as X-Forwarded-For.
 */
export function connectWs(
  url: string,
  connectionParams: Record<string, unknown> = {},
  socket?: WebSocket.ClientOptions,
): TestWsClient {
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  let resolveConnected!: () => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));
  const connected = new Promise<void>((r) => (resolveConnected = r));
  const client = createClient({
    url,
    webSocketImpl: socket
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, socket);
          }
        }
      : WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    on: {
      connected: () => resolveConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => {},
  });
  return {
    client,
    closed,
    connected,
    subscribe(query, variables, operationName) {
      const queue: unknown[] = [];
      const waiters: ((value: unknown) => void)[] = [];
      const push = (value: unknown) => {
        const waiter = waiters.shift();
        if (waiter) waiter(value);
        else queue.push(value);
      };
      const dispose = client.subscribe(
        { query, variables, ...(operationName ? { operationName } : {}) },
        {
          next: push,
          error: (error) =>
            push({ errors: Array.isArray(error) ? error : [{ message: String((error as Error).message ?? error) }] }),
          complete: () => {},
        },
      );
      return {
        next: () => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))) as never,
        dispose,
      };
    },
  };
}

/** The subscription's next value, or a failure after `ms`. It awaits the value: no polling. */
export function nextWithin<T>(subscription: TestSubscription<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
  });
  return Promise.race([subscription.next(), timeout]).finally(() => clearTimeout(timer));
}

/** The subscription's values, skipped until `match` accepts one (which is returned); a failure after `ms`. */
export async function nextMatching<T>(
  subscription: TestSubscription<T>,
  match: (value: T) => boolean,
  ms = 3000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await nextWithin(subscription, Math.max(1, deadline - Date.now()));
    if (match(value)) return value;
  }
}
