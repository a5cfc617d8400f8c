/**
 * Prometheus metrics per GraphQL operation name, with prom-client: operations and their
 * duration (one histogram; its _count is the number of operations), errors by extensions.code,
 * and operations started over graphql-ws.
 *
 * Measured around yoga's params handler, not with envelop's onExecute hook: any onExecute hook
 * moves every request onto envelop's slower custom-execute path, which cost the gateway about
 * 10% of its throughput (bench/gateway.ts). Label values come from clients, so they are bounded
 * three ways: a name is used only when the parsed document defines it (the requested
 * operationName, or the document's only operation; an onParse hook keeps the document, cached
 * by yoga or not), and an operationName the document lacks is `unknown` (the request fails
 * anyway); a name over MAX_NAME_LENGTH is `other`; and distinct names are capped.
 */
import { Kind, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ShedReason } from './http/load-shedding.ts';

const MAX_OPERATION_NAMES = 500;
const MAX_NAME_LENGTH = 100;

/**
 * The label of an operation: its name when the document defines it, `anonymous` for an
 * unnamed one, `unknown` when the requested name is not in the document (or it did not parse).
 */
export function operationLabel(requested: string | null | undefined, document: DocumentNode | undefined): string {
  if (!document) return requested ? 'unknown' : 'anonymous';
  let only: string | null | undefined;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const name = definition.name?.value;
    if (requested) {
      if (name === requested) return name;
    } else {
      // Without an operationName a document must hold one operation; several fail anyway.
      if (only !== undefined) return 'anonymous';
      only = name ?? null;
    }
  }
  return requested ? 'unknown' : (only ?? 'anonymous');
}

export interface OperationMetrics {
  /** The yoga plugin measuring operations over HTTP. */
  plugin: Plugin;
  /** Counts an operation started over graphql-ws, once its document is parsed. */
  countWebSocketOperation(operationName: string | null | undefined, document: DocumentNode): void;
  /** Counts a sheddable graphql-ws operation refused, unparsed, and why (load-shedding.ts). */
  countShedOperation(operationName: string | null | undefined, reason: ShedReason): void;
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

  const shedOperations = new Counter({
    name: 'graphql_websocket_operations_shed_total',
    help: 'Sheddable graphql-ws operations refused, by operation name and reason: lag (the event loop ran later than PLUGBOARD_SHED_LAG_MS) or in_flight (PLUGBOARD_SHED_IN_FLIGHT were under way)',
    labelNames: ['operationName', 'reason'] as const,
    registers: [registry],
  });

  const seenNames = new Set<string>();
  const bounded = (name: string) => {
    if (seenNames.has(name)) return name;
    if (name.length > MAX_NAME_LENGTH || seenNames.size >= MAX_OPERATION_NAMES) return 'other';
    seenNames.add(name);
    return name;
  };
  /** The document each HTTP request parsed (or took from yoga's cache), by the request's context. */
  const parsed = new WeakMap<object, DocumentNode>();

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
    onParse:
      ({ context }) =>
      ({ result }) => {
        if (result && !(result instanceof Error)) parsed.set(context, result);
      },
    onParams: ({ paramsHandler, setParamsHandler }) => {
      setParamsHandler((payload) => {
        const started = performance.now();
        const done = <R>(result: R): R =>
          record(bounded(operationLabel(payload.params.operationName, parsed.get(payload.context))), started, result);
        const result = paramsHandler(payload);
        return result instanceof Promise ? result.then(done) : done(result);
      });
    },
  };

  return {
    plugin,
    countWebSocketOperation: (requested, document) =>
      webSocketOperations.inc({ operationName: bounded(operationLabel(requested, document)) }),
    countShedOperation: (requested, reason) =>
      shedOperations.inc({ operationName: bounded(requested || 'anonymous'), reason }),
    measure: async (name, run) => {
      const started = performance.now();
      return record(bounded(name), started, await run());
    },
  };
}
