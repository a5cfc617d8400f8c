/**
 * A Postgres proxy that records the SQL each client sends, to count the statements a request
 * costs. It reads the frontend protocol's framing: an untyped startup packet (after an optional
 * SSL/GSS request), then typed messages: a Query ('Q') runs its SQL; Parse ('P') prepares SQL
 * under a statement name (named ones are prepared once per connection), and each Bind ('B') of a
 * name runs it again — so a statement is recorded per Query and per Bind.
 */
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface StatementRecorder extends TcpProxy {
  /** SQL texts run through the proxy since the last `reset()`, in order. */
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
    const prepared = new Map<string, string>(); // this connection's statements by name
    const cString = (body: Buffer, start: number) => {
      const end = body.indexOf(0, start);
      return { text: body.toString('utf8', start, end), next: end + 1 };
    };
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
        if (type === 'Q') seen.push(cString(body, 0).text);
        if (type === 'P') {
          const name = cString(body, 0); // statement name, then the query text
          prepared.set(name.text, cString(body, name.next).text);
        }
        if (type === 'B') {
          const portal = cString(body, 0); // portal name, then statement name
          seen.push(prepared.get(cString(body, portal.next).text) ?? '(unknown statement)');
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
