/**
 * Tracing as the gateway and plugins see it: spans through `@opentelemetry/api`, which does nothing
 * until gateway/tracing-sdk.ts registers the SDK (only when an OTLP endpoint is configured). While
 * tracing is off every helper here returns at its first line, so the hot paths pay one branch.
 *
 * What a span may carry is decided here: names, ids, operation and job types, never values a
 * client or provider sent (variables, job data, message text, error messages).
 */
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { Env } from './config/variables.ts';

const tracer = trace.getTracer('plugboard');
let enabled = false;

/** Whether the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled. */
export function tracingRequested(env: Env): boolean {
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  return Boolean(endpoint) && env['OTEL_SDK_DISABLED'] !== 'true';
}

/**
 * Starts a span of a request's own path (server, GraphQL operation, root field) for the tracer
 * named `scope`: gateway/tracing-request-spans.ts, once the SDK is registered.
 */
export type StartRequestSpan = (scope: string, name: string, options: SpanOptions, parent: Context) => Span;

let startRequestSpanWith: StartRequestSpan = (scope, name, options, parent) =>
  trace.getTracer(scope).startSpan(name, options, parent);

/** Called once the SDK is registered (gateway/tracing-sdk.ts). */
export function markTracingStarted(startRequestSpan: StartRequestSpan): void {
  enabled = true;
  startRequestSpanWith = startRequestSpan;
}

export function startRequestSpan(scope: string, name: string, options: SpanOptions, parent: Context): Span {
  return startRequestSpanWith(scope, name, options, parent);
}

export function tracingEnabled(): boolean {
  return enabled;
}

/** Ends `span` as failed, naming only the error's class: messages may hold what a client sent. */
export function failSpan(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', error instanceof Error ? error.name : typeof error);
}

/** What a span may carry: names, ids, counts; never a value a client or provider sent. */
export type SpanAttributes = Record<string, string | number | boolean>;

function runInSpan<T>(
  name: string,
  attributes: Attributes,
  run: () => Promise<T>,
  kind: SpanKind,
  parent: Context,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await run();
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `run` in a span named `name` (spans started inside nest under it), ended when the promise
 * settles; a rejection marks it failed. `outbound` makes it a client span: a call to a provider
 * that the HTTP instrumentation cannot see (SMTP). With tracing off it just runs `run`.
 */
export function withSpan<T>(
  name: string,
  attributes: SpanAttributes,
  run: () => Promise<T>,
  options: { outbound?: boolean } = {},
): Promise<T> {
  if (!enabled) return run();
  return runInSpan(name, attributes, run, options.outbound ? SpanKind.CLIENT : SpanKind.INTERNAL, context.active());
}

/**
 * A pubsub publish inside a recorded trace: the fan-out of one event to the subscriptions of its
 * topic. Publishes outside any (presence, typing, a poller's) would each be a one-span trace.
 */
export function withPublishSpan(topic: string, transport: string, publish: () => void): void {
  if (!enabled || !trace.getActiveSpan()?.isRecording()) {
    publish();
    return;
  }
  tracer.startActiveSpan(
    `publish ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': transport,
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
      },
    },
    (span) => {
      try {
        publish();
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's W3C `traceparent`, to store with work that continues elsewhere (a job). */
export function currentTraceparent(): string | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/** The queue adapters' producer span around an enqueue; the job stores `currentTraceparent()` taken inside it. */
export function withEnqueueSpan<T>(queue: string, jobTypes: readonly string[], run: () => Promise<T>): Promise<T> {
  // Inside a recorded trace only: an enqueue of an unsampled request (or of a poller) would start
  // a trace of its own.
  if (!enabled || !trace.getActiveSpan()?.isRecording()) return run();
  return runInSpan(
    `enqueue ${queue}`,
    {
      'messaging.system': 'plugboard',
      'messaging.operation.type': 'send',
      'messaging.destination.name': queue,
      'messaging.batch.message_count': jobTypes.length,
      'plugboard.job.type': [...new Set(jobTypes)].join(','),
    },
    run,
    SpanKind.PRODUCER,
    context.active(),
  );
}

/**
 * The queue adapters' consumer span around one attempt of a job: a child of the span that
 * enqueued it when the job carries a `traceparent`, so the run shows in the request's trace.
 */
export function withJobSpan<T>(
  job: { queue: string; name: string; id: string; attempt: number },
  traceparent: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (!enabled) return run();
  // A job without a stored traceparent (scheduled, or added while tracing was off) starts a trace.
  const parent = traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
  return runInSpan(
    `job ${job.queue} ${job.name}`,
    {
      'messaging.system': 'plugboard',
      'messaging.operation.type': 'process',
      'messaging.destination.name': job.queue,
      'messaging.message.id': job.id,
      'plugboard.job.type': job.name,
      'plugboard.job.attempt': job.attempt,
    },
    run,
    SpanKind.CONSUMER,
    parent,
  );
}

/** `trace_id`/`span_id` of the active sampled span, for log lines; empty when tracing is off. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  if (!enabled) return {};
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  // Sampled only (flag bit 0): an unsampled trace is not in any backend to look up.
  return traceFlags & 1 ? { trace_id: traceId, span_id: spanId } : {};
}
