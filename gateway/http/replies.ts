/**
 * Replies and request bodies for every REST route (the gateway's and plugins'): JSON answers with
 * `nosniff`, errors in the GraphQL error shape, and one bounded body reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorEntry } from '../errors.ts';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** On every response: browsers must not guess another type (and run JSON or text as HTML or script). */
export const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...NOSNIFF,
    ...headers,
  });
  response.end(text);
}

/**
 * An error in the GraphQL error shape, e.g. `sendError(response, ERRORS.NOT_FOUND, 'No such page')`,
 * answered with its catalog entry's status, or with `options.status` where HTTP has a more precise
 * one for the same code (405, 415 for a BAD_REQUEST).
 */
export function sendError(
  response: ServerResponse,
  error: Pick<ErrorEntry, 'code' | 'status'>,
  message: string,
  options: { status?: number; headers?: Record<string, string> } = {},
): void {
  sendJson(
    response,
    options.status ?? error.status,
    { errors: [{ message, extensions: { code: error.code } }] },
    options.headers,
  );
}

/** A body over the route's limit (readBody has set `connection: close` on the response). */
export class BodyTooLarge extends Error {}

/** What readBody reads and drops past the limit before it stops listening (then the client may see a reset). */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;

/**
 * Reads a request body of at most `limit` bytes, declared (Content-Length) or counted (chunked).
 * Over the limit it throws BodyTooLarge, but only once the client has finished sending: the rest
 * is read and dropped, so a client still writing reads the route's 413 instead of a reset
 * connection (a socket closed under a client's write is an EPIPE or ECONNRESET there). How long a
 * client may take is the server's request timeout; what it may send, MAX_DRAINED_BYTES more.
 */
export function readBody(request: IncomingMessage, response: ServerResponse, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  let over = declared > limit;
  let size = 0;
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      request.off('data', onData).off('end', onEnd).off('error', settle);
      if (error) return reject(error);
      if (!over) return resolve(Buffer.concat(chunks));
      response.setHeader('connection', 'close');
      reject(new BodyTooLarge());
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (!over && size <= limit) return void chunks.push(chunk);
      over = true;
      chunks.length = 0;
      // Past this, answer now; Node drops the rest of the body itself.
      if (size > limit + MAX_DRAINED_BYTES) settle();
    };
    const onEnd = () => settle();
    if (over && declared > limit + MAX_DRAINED_BYTES) return settle();
    request.on('data', onData).once('end', onEnd).once('error', settle);
  });
}
