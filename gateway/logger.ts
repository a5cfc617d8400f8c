/**
 * JSON logs (pino). Every line written while a request is being handled carries its `reqId`,
 * taken from AsyncLocalStorage, so plugin code logs with the request id without passing it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { traceLogFields } from './tracing.ts';

const requestIds = new AsyncLocalStorage<string>();

export function createLogger(level: Level | 'silent', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'plugboard' },
      // With tracing on, lines written inside a sampled span also carry its trace_id and span_id.
      mixin: () => {
        const reqId = requestIds.getStore();
        const traced = traceLogFields();
        return reqId === undefined ? traced : { reqId, ...traced };
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Request ids are this process's random prefix and a counter: unique, and cheaper than a UUID each. */
const processPrefix = randomBytes(4).toString('hex');
let requestCounter = 0;

export function newRequestId(): string {
  return `${processPrefix}-${(++requestCounter).toString(36)}`;
}

/** A client's `x-request-id` when it is a sane token, otherwise a fresh id. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : newRequestId();
}

export function withRequestId<T>(requestId: string, run: () => T): T {
  return requestIds.run(requestId, run);
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}
