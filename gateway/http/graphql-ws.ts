/**
 * graphql-ws served on `ws` sockets: what graphql-ws's own `use/ws` adapter does, lighter per
 * socket and quieter.
 * - The upgrade request is in `extra` for onConnect only, then let go (the adapter kept it, about
 *   2 KB, for the socket's life).
 * - No keep-alive timers of its own: the gateway pings every socket in slots (keepSocketsAlive).
 * - Frames go through the gateway's sender (`send`: corked for the turn, so a mutation's `next`
 *   and `complete` leave in one write), with no promise each (limitSendBuffers bounds what a
 *   socket may have queued).
 * - A client that vanishes mid-write is a debug line; the adapter printed it with console.error.
 */
import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';

/** What graphql-ws hands the hooks as `extra`; `request` is gone once onConnect has returned. */
export interface SocketExtra {
  readonly socket: WebSocket;
  request: IncomingMessage | undefined;
}

export function serveGraphQLWs<E extends SocketExtra>(
  options: ServerOptions<Record<string, unknown> | undefined, E>,
  sockets: WebSocketServer,
  send: (socket: WebSocket, frame: string) => void,
  log: Logger,
): { dispose(): Promise<void> } {
  const onConnect = options.onConnect;
  const server = makeServer<Record<string, unknown> | undefined, E>({
    ...options,
    onConnect: async (context) => {
      try {
        return onConnect ? await onConnect(context) : true;
      } finally {
        context.extra.request = undefined;
      }
    },
  });
  sockets.options.handleProtocols = handleProtocols;
  sockets.on('error', (error) => log.error({ err: error }, 'WebSocket server error'));
  sockets.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // A reset or broken pipe: the client went away; its close follows.
    socket.on('error', (error) => log.debug({ err: error }, 'WebSocket error'));
    const extra = { socket, request } as E;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) => send(socket, data),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              log.error({ err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) =>
      closed(code, String(reason)).catch((error: unknown) => log.error({ err: error }, 'graphql-ws close failed')),
    );
  });
  return {
    async dispose() {
      for (const socket of sockets.clients) socket.close(1001, 'Going away');
      sockets.removeAllListeners();
      await new Promise<void>((resolve, reject) => sockets.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
