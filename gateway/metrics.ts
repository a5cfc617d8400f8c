/**
 * Prometheus metrics per GraphQL operation name, with prom-client: operations and their
 * duration (one histogram; its _count is the number of operations), errors by extensions.code,
 * and operations started over graphql-ws.
 *
 * Measured around yoga's params handler, not with envelop's onExecute hook: any onExecute hook
 * moves every request onto envelop's slower custom-execute path, which cost the gateway about
 * 10% of its throughput (bench/gateway.ts). The operation name is the request's operationName,
 * or the name of a document that starts with a named operation. Names come from clients, so
 * distinct names are capped to keep the number of series bounded.
 */
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';

const MAX_OPERATION_NAMES = 500;
const LEADING_OPERATION_NAME = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

export interface OperationMetrics {
  /** The yoga plugin measuring operations over HTTP. */
  plugin: Plugin;
  /** Counts an operation started over graphql-ws. */
  countWebSocketOperation(operationName: string | null | undefined, query: string): void;
  /** Measures an operation run outside yoga's HTTP handler (a Hasura action) like one over HTTP. */
  measure<R>(operationName: string, run: () => Promise<R>): Promise<R>;
}

export function createOperationMetrics(registry: Registry): OperationMetrics {
  const labelNames = ['operationName'] as const;
  const duration = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operations over HTTP by operation name: time from parsed request to result',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors over HTTP by operation name and extensions.code',
    labelNames: [...labelNames, 'code'],
    registers: [registry],
  });
  const webSocketOperations = new Counter({
    name: 'graphql_websocket_operations_total',
    help: 'GraphQL operations started over graphql-ws, by operation name',
    labelNames,
    registers: [registry],
  });

  const seenNames = new Set<string>();
  const operationName = (requested: string | null | undefined, query: string | undefined) => {
    const name = requested ?? (query ? LEADING_OPERATION_NAME.exec(query)?.[1] : undefined);
    if (!name) return 'anonymous';
    if (seenNames.has(name)) return name;
    if (seenNames.size >= MAX_OPERATION_NAMES) return 'other';
    seenNames.add(name);
    return name;
  };

  /** Records one operation's duration and its errors' codes; generic since a stream has no `errors`. */
  const record = <R>(name: string, started: number, result: R): R => {
    const labels = { operationName: name };
    duration.observe(labels, (performance.now() - started) / 1000);
    const { errors: resultErrors } = result as Pick<ExecutionResult, 'errors'>;
    if (resultErrors) {
      for (const error of resultErrors) {
        const code = error.extensions?.['code'];
        errors.inc({ ...labels, code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' });
      }
    }
    return result;
  };

  const plugin: Plugin = {
    onParams: ({ paramsHandler, setParamsHandler }) => {
      setParamsHandler((payload) => {
        const started = performance.now();
        const done = <R>(result: R): R => record(operationName(payload.params.operationName, payload.params.query), started, result);
        const result = paramsHandler(payload);
        return result instanceof Promise ? result.then(done) : done(result);
      });
    },
  };

  return {
    plugin,
    countWebSocketOperation: (requested, query) => webSocketOperations.inc({ operationName: operationName(requested, query) }),
    measure: async (name, run) => {
      const started = performance.now();
      return record(operationName(name, undefined), started, await run());
    },
  };
}
