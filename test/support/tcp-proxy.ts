/**
 * A TCP forwarder to a real service. Closing it (and its open connections) makes the service
 * unreachable for whoever connected through it, which is how tests take Postgres or Redis away
 * from one gateway without stopping the machine's shared servers.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Stops listening and cuts every forwarded connection. */
  cut(): Promise<void>;
  /** Listens again on the same port after a cut: the service is reachable again. */
  reopen(): Promise<void>;
}

/**
 * `observe`, when given, is called once per connection and the function it returns sees every
 * chunk the client sends (before it is forwarded).
 */
export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  observe?: () => (chunk: Buffer) => void,
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    if (observe) client.on('data', observe());
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as { port: number }).port;
  return {
    port,
    reopen: () => listen(port),
    cut: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
