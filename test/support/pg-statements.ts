/**
 * A Postgres proxy that records the SQL each client sends, to count the statements a request
 * costs. It reads the frontend protocol's framing: an untyped startup packet (after an optional
 * SSL/GSS request), then typed messages, of which Query ('Q') and Parse ('P') carry SQL.
 */
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface StatementRecorder extends TcpProxy {
  /** SQL texts sent through the proxy since the last `reset()`, in order. */
  statements(): string[];
  reset(): void;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startStatementRecorder(host = '127.0.0.1', port = 5432): Promise<StatementRecorder> {
  let seen: string[] = [];
  const proxy = await startTcpProxy(host, port, () => {
    let buffer = Buffer.alloc(0);
    let started = false;
    return (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          started = code !== SSL_REQUEST && code !== GSSENC_REQUEST;
          buffer = buffer.subarray(length);
          continue;
        }
        if (buffer.length < 5) return;
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const type = String.fromCharCode(buffer[0]!);
        const body = buffer.subarray(5, 1 + length);
        if (type === 'Q') seen.push(body.toString('utf8', 0, body.indexOf(0)));
        if (type === 'P') {
          const nameEnd = body.indexOf(0); // statement name, then the query text
          seen.push(body.toString('utf8', nameEnd + 1, body.indexOf(0, nameEnd + 1)));
        }
        buffer = buffer.subarray(1 + length);
      }
    };
  });
  return Object.assign(proxy, {
    statements: () => [...seen],
    reset: () => {
      seen = [];
    },
  });
}
