/** A local HTTP server for the http-request job type: records every call and answers by path. */
import { createServer, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RecordedCall {
  method: string;
  path: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export interface HttpTarget {
  url: string;
  host: string;
  calls: RecordedCall[];
  callsTo(path: string): RecordedCall[];
  close(): Promise<void>;
}

/**
 * Paths: /ok → 200 JSON; /flaky?fail=N → 503 for the first N calls to that exact URL, then 200; /bad → 422;
 * /slow?ms=N → 200 after N ms; /redirect → 302 to example.com.
 */
export async function startHttpTarget(): Promise<HttpTarget> {
  const calls: RecordedCall[] = [];
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let body = '';
    for await (const chunk of request) body += chunk;
    calls.push({
      method: request.method ?? 'GET',
      path: url.pathname,
      url: request.url ?? '/',
      headers: request.headers,
      body,
      at: Date.now(),
    });
    // Counted per full URL, so each test can use its own ?key=… for a fresh /flaky.
    const count = calls.filter((c) => c.url === request.url).length;
    switch (url.pathname) {
      case '/ok':
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: true, received: body }));
        return;
      case '/flaky':
        if (count <= Number(url.searchParams.get('fail') ?? 1)) response.writeHead(503).end('try later');
        else response.writeHead(200).end('recovered');
        return;
      case '/bad':
        response.writeHead(422).end('unprocessable');
        return;
      case '/slow':
        await sleep(Number(url.searchParams.get('ms') ?? 1000));
        response.writeHead(200).end('slow');
        return;
      case '/redirect':
        response.writeHead(302, { location: 'http://example.com/' }).end();
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
