/**
 * GraphQL spans (added to yoga only while tracing is on): parse and validate where they run (not
 * when yoga's caches answer), execute (or subscribe) of each operation, named by the operation's
 * type and name, and one span per root field whose resolver does I/O (returns a promise or starts
 * a span); the SQL, Redis and HTTP spans of that I/O nest under it. Variables, arguments and the document's text are never recorded (literals in a
 * document may hold values too).
 *
 * Plain envelop hooks, not its `instrumentation` API: wrapping every phase cost yoga a third of
 * its throughput. The operation span reaches the root fields through the GraphQL context. Under
 * an unsampled request (most of them at a low sampling ratio) no span is made at all.
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  trace,
} from '@opentelemetry/api';
import { defaultFieldResolver, getOperationAST, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { failSpan, startRequestSpan } from '../tracing.ts';

const SCOPE = 'plugboard-graphql';
/** The context holding the operation's span, on the GraphQL context object of an operation being traced. */
const OPERATION_CONTEXT = Symbol('operation context');
const WRAPPED = Symbol('traced resolver');

type Resolver = GraphQLFieldResolver<unknown, unknown> & { [WRAPPED]?: true };
type TracedContext = { [OPERATION_CONTEXT]?: Context };

/**
 * Whether to make GraphQL spans. Over HTTP: only under a recorded request span (most requests are
 * not sampled, and then have no span at all). A graphql-ws operation has no request of its own:
 * its spans start a trace, which the sampler decides on.
 */
function traced(contextValue: unknown): boolean {
  if ((contextValue as { socketId?: string | null } | undefined)?.socketId) return true;
  return trace.getSpan(context.active())?.isRecording() === true;
}

/** Ends `span` as failed by `error`, and rethrows it. */
function endFailed(span: Span, error: unknown): never {
  failSpan(span, error);
  span.end();
  throw error;
}

/** A hook that ends `span`. */
function ending(span: Span): () => void {
  return () => span.end();
}

/** Starts the span of an execute or subscribe, named by the operation, and hands it to the root fields. */
function startOperation(
  phase: string,
  args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null; contextValue?: unknown },
): Span {
  const definition = getOperationAST(args.document, args.operationName);
  const type = definition?.operation ?? phase;
  const name = definition?.name?.value;
  const active = context.active();
  const span = startRequestSpan(
    SCOPE,
    name ? `${type} ${name}` : type,
    { attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) } },
    active,
  );
  // Made once for the root fields, which are its children.
  (args.contextValue as TracedContext)[OPERATION_CONTEXT] = trace.setSpan(active, span);
  return span;
}

/**
 * A root field's span, made only once it is needed: when the resolver returns a promise (it waits
 * on I/O), starts a span of its own (SQL, Redis, a provider call), fails, or is asked for its
 * context (a log line). A resolver that answers at once from memory (`viewer`, `plugins`) did no
 * I/O and gets no span: a span would cost more than the resolver itself. The span keeps
 * the times the resolver started and ended.
 */
class RootFieldSpan implements Span {
  readonly #name: string;
  readonly #attributes: Attributes;
  readonly #parent: Context;
  readonly #start = performance.now();
  #span: Span | undefined;

  constructor(name: string, attributes: Attributes, parent: Context) {
    this.#name = name;
    this.#attributes = attributes;
    this.#parent = parent;
  }

  /** The span itself, started (at the resolver's start) on first need. */
  open(): Span {
    this.#span ??= startRequestSpan(
      SCOPE,
      this.#name,
      { attributes: this.#attributes, startTime: this.#start },
      this.#parent,
    );
    return this.#span;
  }
  spanContext(): SpanContext {
    return this.open().spanContext();
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.open().setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: Attributes): this {
    this.open().setAttributes(attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, startTime?: TimeInput): this {
    this.open().addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.open().addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.open().addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.open().setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.open().updateName(name);
    return this;
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.open().recordException(exception, time);
  }
  isRecording(): boolean {
    return true;
  }
  /** Ends the span if one was needed; a performance timestamp, like the start's. */
  end(): void {
    this.#span?.end(performance.now());
  }
}

/** Runs a root field's resolver under its span (see RootFieldSpan), when the operation is traced. */
function traceRootFields(schema: GraphQLSchema): void {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const resolve: Resolver = field.resolve ?? defaultFieldResolver;
      if (resolve[WRAPPED]) continue;
      const spanName = `${root!.name}.${field.name}`;
      const attributes = { 'graphql.field.name': field.name };
      const wrapped: Resolver = (source, args, contextValue, info) => {
        const parent = (contextValue as TracedContext)[OPERATION_CONTEXT];
        if (!parent) return resolve(source, args, contextValue, info);
        const span = new RootFieldSpan(spanName, attributes, parent);
        return context.with(trace.setSpan(parent, span), () => {
          let result: unknown;
          try {
            result = resolve(source, args, contextValue, info);
          } catch (error) {
            endFailed(span, error);
          }
          if (!(result instanceof Promise)) {
            span.end();
            return result;
          }
          span.open();
          return result.then(
            (value) => {
              span.end();
              return value;
            },
            (error: unknown) => endFailed(span, error),
          );
        });
      };
      wrapped[WRAPPED] = true;
      field.resolve = wrapped;
    }
  }
}

/** `run` in a span named `name`, under the active context. */
function inSpan<T>(name: string, run: () => T): T {
  const span = startRequestSpan(SCOPE, name, {}, context.active());
  try {
    return run();
  } finally {
    span.end();
  }
}

/** Ends an operation's span with its result: only the count of errors, whose messages may quote a variable's value. */
function endOperation<R>(span: Span, result: R): R {
  const errors = (result as { errors?: readonly unknown[] } | null)?.errors;
  if (errors?.length) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('graphql.error.count', errors.length);
  }
  span.end();
  return result;
}

type Execute = Parameters<NonNullable<Plugin['onExecute']>>[0]['executeFn'];

/** `executeFn` under the operation's span, which ends when its result is ready. */
function executeInSpan(executeFn: Execute, args: Parameters<Execute>[0]): ReturnType<Execute> {
  const span = startOperation('execute', args);
  let result: ReturnType<Execute>;
  try {
    result = executeFn(args);
  } catch (error) {
    endFailed(span, error);
  }
  // A promise, or a thenable of yoga's promise helpers.
  if (typeof (result as Partial<PromiseLike<unknown>>).then !== 'function') return endOperation(span, result);
  return (result as PromiseLike<Awaited<ReturnType<Execute>>>).then(
    (value) => endOperation(span, value),
    (error: unknown) => endFailed(span, error),
  ) as ReturnType<Execute>;
}

/**
 * The GraphQL spans of traced operations. Parse and validation get a span only where they run:
 * the functions are wrapped, and yoga's caches answer most documents without calling them.
 * Execution is wrapped too, rather than given an onExecuteDone hook, so that envelop runs the
 * same steps for a traced operation as for the others.
 */
export function useTracing(): Plugin {
  return {
    onSchemaChange: ({ schema }) => traceRootFields(schema),
    onParse: ({ context: contextValue, parseFn, setParseFn }) => {
      if (traced(contextValue))
        setParseFn((source, options) => inSpan('graphql.parse', () => parseFn(source, options)));
    },
    onValidate: ({ context: contextValue, validateFn, setValidationFn }) => {
      if (traced(contextValue))
        setValidationFn((...args: Parameters<typeof validateFn>) =>
          inSpan('graphql.validate', () => validateFn(...args)),
        );
    },
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      if (traced(args.contextValue)) setExecuteFn((executeArgs) => executeInSpan(executeFn, executeArgs));
    },
    onSubscribe: ({ args }) => {
      if (!traced(args.contextValue)) return undefined;
      const span = startOperation('subscribe', args);
      return { onSubscribeResult: ending(span), onSubscribeError: ending(span) };
    },
  };
}
