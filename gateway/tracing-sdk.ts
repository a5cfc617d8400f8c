/**
 * Starts OpenTelemetry tracing: a tracer provider, configured by the standard OTEL_* variables, and
 * the instrumentations of node:http, fetch (undici), pg and ioredis. bin/plugboard.js imports this
 * module only when an OTLP endpoint is set, and before anything else, so the instrumentations patch
 * those modules before the gateway loads them; with tracing off none of this is ever loaded.
 *
 * The provider is put together here from the trace packages rather than by @opentelemetry/sdk-node:
 * that one loads some 1,500 modules (the metrics and logs SDKs, every exporter, gRPC) whose mere
 * presence cost the gateway about 5 % of its throughput with no span made at all.
 */
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestOptions,
  Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import {
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  CompositePropagator,
  setGlobalErrorHandler,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  type ResourceDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  type SpanProcessor,
  type Span as SdkSpan,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import { register as registerImportHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { ConfigError, type Env } from './config/variables.ts';
import { pino, type Level } from 'pino';
import { createLogger } from './logger.ts';
import { WorkerOtlpSpanExporter } from './tracing-export.ts';
import { markTracingStarted, type StartRequestSpan } from './tracing.ts';
import { requestSpanStarter } from './tracing-request-spans.ts';

/** Modules imported by ESM (the gateway, bullmq) that the instrumentations patch. */
const INSTRUMENTED_MODULES = ['pg', 'pg-pool', 'ioredis'];
/** Answered often and of no interest in a trace. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);
const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);

export interface Tracing {
  /** Flushes the spans still buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

/** OTEL_TRACES_SAMPLER_ARG is a ratio from 0 to 1 for the ratio samplers (the SDK would silently sample all). */
function checkSampler(env: Env): void {
  const sampler = env['OTEL_TRACES_SAMPLER'] ?? 'parentbased_always_on';
  const arg = env['OTEL_TRACES_SAMPLER_ARG'];
  if (!RATIO_SAMPLERS.has(sampler) || arg === undefined || arg === '') return;
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError([
      {
        variable: 'OTEL_TRACES_SAMPLER_ARG',
        owner: 'gateway',
        message: `must be a sampling ratio from 0 to 1 for OTEL_TRACES_SAMPLER=${sampler}, got ${JSON.stringify(arg)}`,
      },
    ]);
  }
}

/** On the parent context of a request span whose sampling the request's handler has decided already. */
const PRESAMPLED = createContextKey('plugboard: sampled by the request');

/**
 * The standard samplers (OTEL_TRACES_SAMPLER, with OTEL_TRACES_SAMPLER_ARG for the ratio ones) and
 * the share of requests without a `traceparent` they record, and whether they record every child
 * of a sampled parent; null for any other sampler, which the provider then builds from the
 * environment and asks on every request.
 */
function standardSampler(env: Env): { sampler: Sampler; rootRatio: number; followsSampledParents: boolean } | null {
  const name = env['OTEL_TRACES_SAMPLER'] || 'parentbased_always_on';
  const arg = env['OTEL_TRACES_SAMPLER_ARG'];
  const ratio = RATIO_SAMPLERS.has(name) && arg !== undefined && arg !== '' ? Number(arg) : 1;
  const roots: Record<string, [Sampler, number]> = {
    always_on: [new AlwaysOnSampler(), 1],
    always_off: [new AlwaysOffSampler(), 0],
    traceidratio: [new TraceIdRatioBasedSampler(ratio), ratio],
  };
  const plain = name.replace(/^parentbased_/, '');
  const root = roots[plain];
  if (!root) return null;
  const configured = name.startsWith('parentbased_') ? new ParentBasedSampler({ root: root[0] }) : root[0];
  // A request span decided on already (PRESAMPLED) is recorded; anything else asks the configured sampler.
  const sampler: Sampler = {
    shouldSample: (parent, ...rest) =>
      parent.getValue(PRESAMPLED)
        ? { decision: SamplingDecision.RECORD_AND_SAMPLED }
        : configured.shouldSample(parent, ...rest),
    toString: () => `RequestDecided{${configured.toString()}}`,
  };
  return {
    sampler,
    rootRatio: root[1],
    followsSampledParents: name.startsWith('parentbased_') || plain === 'always_on',
  };
}

/** A query string may carry tokens (OAuth codes, signatures): spans keep the path only. */
function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

function outgoingUrl(options: RequestOptions): string {
  const host = options.hostname ?? options.host ?? 'localhost';
  const port = options.port ? `:${options.port}` : '';
  return `${options.protocol ?? 'http:'}//${host}${port}${withoutQuery(options.path ?? '/')}`;
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
};

/**
 * A server span for every request the gateway's servers answer, continuing the trace of a
 * client's (or Hasura's) `traceparent`. The HTTP instrumentation does this too, but spends about
 * 30 µs on each request, sampled or not (attributes, wrapped emitters): a fifth of a small
 * query's whole cost. This one decides sampling first and describes only the requests it records.
 */
function traceIncomingRequests(rootRatio: number | null, startSpan: StartRequestSpan): void {
  const sampled = ROOT_CONTEXT.setValue(PRESAMPLED, true);
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;

  /** A request in its server span, when it has one; apart from emitInSpan, which runs for every event. */
  function emitRequest(server: Server, request: IncomingMessage, response: ServerResponse, parent: Context): boolean {
    const path = withoutQuery(request.url ?? '/');
    if (UNTRACED_PATHS.has(path)) return emit.call(server, 'request', request, response);
    const method = request.method ?? 'GET';
    const span = startSpan('plugboard-http', method, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        'http.request.method': method,
        'url.path': path,
        'url.scheme': 'http',
        'network.peer.address': request.socket.remoteAddress ?? '',
        'user_agent.original': request.headers['user-agent'] ?? '',
      });
      response.once('close', () => {
        span.setAttribute('http.response.status_code', response.statusCode);
        if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      });
    }
    return context.with(trace.setSpan(parent, span), () => emit.call(server, 'request', request, response));
  }

  function emitInSpan(this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'connection') {
      // A socket caches its peer's address when first asked (a new property, so a new hidden
      // class). Asked here of every socket, not later of the sampled requests' sockets only:
      // sockets of both shapes made node:http's hot paths megamorphic for every request
      // (callgrind, bench/RESULTS.md).
      void (args[0] as Socket).remoteAddress;
      return emit.call(this, event, ...args);
    }
    if (event !== 'request') return emit.call(this, event, ...args);
    const [request, response] = args as [IncomingMessage, ServerResponse];
    // A request that starts a trace is decided on first, as the configured ratio would: one not
    // sampled (nine in ten at 0.1) gets no span and no context at all, so tracing costs what the
    // sampled requests cost. One that continues a client's trace follows it.
    if (request.headers.traceparent === undefined && rootRatio !== null) {
      if (Math.random() >= rootRatio) return emit.call(this, event, request, response);
      return emitRequest(this, request, response, sampled);
    }
    return emitRequest(this, request, response, propagation.extract(ROOT_CONTEXT, request.headers, headerGetter));
  }
  Server.prototype.emit = emitInSpan as Server['emit'];
}

/**
 * require-in-the-middle answers process.getBuiltinModule through its hook, which looks the module
 * up again on every call, and @whatwg-node asks for node:events on every request. A built-in's
 * exports (patched, for http) stay the same once loaded, so each id is looked up once.
 */
function rememberBuiltinModules(): void {
  const lookUp = process.getBuiltinModule;
  const known = new Map<string, ReturnType<typeof lookUp>>();
  process.getBuiltinModule = ((id: string) => {
    let found = known.get(id);
    if (found === undefined) {
      found = lookUp.call(process, id);
      if (found !== undefined) known.set(id, found);
    }
    return found;
  }) as typeof lookUp;
}

/**
 * Drops the status message of database spans before they are exported: the pg and ioredis
 * instrumentations copy a failed command's error message into it, and a database's messages quote
 * values (`invalid input syntax for type integer: "…"`). The span keeps its error status and type.
 */
export const dropDatabaseErrorMessages: SpanProcessor = {
  onStart: () => {},
  onEnding: (span: SdkSpan) => {
    if (span.status.message === undefined) return;
    if (span.attributes['db.system.name'] === undefined && span.attributes['db.system'] === undefined) return;
    span.setStatus({ code: span.status.code });
  },
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

const configError = (variable: string, message: string) => new ConfigError([{ variable, owner: 'gateway', message }]);

/** OTEL_TRACES_EXPORTER (otlp, console or none) and, for otlp, OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL. */
async function spanExporters(env: Env): Promise<SpanExporter[]> {
  const names = (env['OTEL_TRACES_EXPORTER'] || 'otlp').split(',').map((name) => name.trim());
  if (names.includes('none')) return [];
  const exporters: SpanExporter[] = [];
  for (const name of new Set(names)) {
    if (name === 'console') exporters.push(new ConsoleSpanExporter());
    else if (name !== 'otlp')
      throw configError('OTEL_TRACES_EXPORTER', `must be otlp, console or none, got ${JSON.stringify(name)}`);
    else {
      const protocol =
        env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf';
      // gRPC's exporter (and its modules) load only when asked for.
      if (protocol === 'http/protobuf' || protocol === 'http/json')
        exporters.push(new WorkerOtlpSpanExporter(protocol));
      else if (protocol === 'grpc')
        exporters.push(new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter());
      else
        throw configError(
          'OTEL_EXPORTER_OTLP_PROTOCOL',
          `must be http/protobuf, http/json or grpc, got ${JSON.stringify(protocol)}`,
        );
    }
  }
  return exporters;
}

const RESOURCE_DETECTORS: Record<string, ResourceDetector> = {
  env: envDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};

/** OTEL_NODE_RESOURCE_DETECTORS (all by default, or none, or a list), as the Node SDK reads it. */
function resourceDetectors(env: Env): ResourceDetector[] {
  const names = (env['OTEL_NODE_RESOURCE_DETECTORS'] || 'all').split(',').map((name) => name.trim());
  if (names.includes('all')) return Object.values(RESOURCE_DETECTORS);
  return names.flatMap((name) => RESOURCE_DETECTORS[name] ?? []);
}

/** OTEL_PROPAGATORS: tracecontext and baggage (the default), or none. */
function propagator(env: Env): CompositePropagator {
  const names = (env['OTEL_PROPAGATORS'] || 'tracecontext,baggage').split(',').map((name) => name.trim());
  const known = { tracecontext: W3CTraceContextPropagator, baggage: W3CBaggagePropagator };
  const unknown = names.find((name) => name !== 'none' && !(name in known));
  if (unknown !== undefined)
    throw configError('OTEL_PROPAGATORS', `must list tracecontext, baggage or none, got ${JSON.stringify(unknown)}`);
  return new CompositePropagator({
    propagators: names.includes('none') ? [] : names.map((name) => new known[name as keyof typeof known]()),
  });
}

/** How often, at most, the same kind of tracing failure is logged again. */
export const TRACING_ERROR_INTERVAL_MS = 60_000;

/**
 * The SDK's own failures (above all, exports that a collector refused or never received) as
 * warnings, where the SDK's default hands them to a diagnostic logger nobody reads: the first at
 * once, then at most one a minute, counting those in between. The message only: no stack.
 */
export function tracingErrorReporter(
  warn: (fields: { suppressed: number }, message: string) => void,
  now: () => number = Date.now,
): (error: unknown) => void {
  let loggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    if (now() - loggedAt < TRACING_ERROR_INTERVAL_MS) {
      suppressed++;
      return;
    }
    warn({ suppressed }, `Tracing failed: ${error instanceof Error ? error.message : String(error)}`);
    loggedAt = now();
    suppressed = 0;
  };
}

/**
 * The tracing warnings' level: LOG_LEVEL's, so `error` or `silent` quiets them too. Tracing starts
 * before the configuration is read, so an invalid LOG_LEVEL (which the configuration then
 * refuses, naming it) leaves them at `warn`.
 */
export function tracingLogLevel(env: Env): Level | 'silent' {
  const level = env['LOG_LEVEL'];
  return level === 'silent' || (level !== undefined && Object.hasOwn(pino.levels.values, level))
    ? (level as Level | 'silent')
    : 'warn';
}

export async function startTracing(env: Env): Promise<Tracing> {
  checkSampler(env);
  const logger = createLogger(tracingLogLevel(env));
  const reportError = tracingErrorReporter((fields, message) => logger.warn(fields, message));
  setGlobalErrorHandler(reportError);
  // ESM imports are patched through import-in-the-middle's loader hooks, limited to the modules
  // instrumented (every other module, the gateway's TypeScript included, loads untouched).
  if (supportsSyncHooks()) registerImportHooks({ include: INSTRUMENTED_MODULES });
  else {
    const { register } = await import('node:module');
    const { createAddHookMessageChannel } = await import('import-in-the-middle');
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
    await waitForAllMessagesAcknowledged();
  }
  const standard = standardSampler(env);
  const resource = defaultResource()
    .merge(detectResources({ detectors: resourceDetectors(env) }))
    .merge(resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] || 'plugboard' }));
  const exporters = await spanExporters(env);
  // Traces only: metrics stay Prometheus at /metrics, logs stay pino's.
  const processors = [dropDatabaseErrorMessages, ...exporters.map((exporter) => new BatchSpanProcessor(exporter))];
  const provider = new NodeTracerProvider({
    resource,
    ...(standard ? { sampler: standard.sampler } : {}),
    spanProcessors: processors,
  });
  provider.register({ propagator: propagator(env) });
  registerInstrumentations({
    instrumentations: [
      // Outgoing calls only: incoming requests get the lean server span below.
      new HttpInstrumentation({
        disableIncomingRequestInstrumentation: true,
        startOutgoingSpanHook: (options: RequestOptions) =>
          options.path?.includes('?') ? { 'url.full': outgoingUrl(options) } : {},
        // Outbound calls outside any traced request or job (pollers, retries) would be lone roots.
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation({
        requireParentforSpans: true,
        startSpanHook: (request) =>
          request.path.includes('?')
            ? { 'url.full': `${request.origin}${withoutQuery(request.path)}`, 'url.query': 'REDACTED' }
            : {},
      }),
      // Statement text only (parameter values are left out by default); the queue's and the
      // pubsub's own polling outside a request or job makes no spans.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      // The command's name only: keys and values are data.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  rememberBuiltinModules();
  const startRequestSpan = requestSpanStarter({
    resource,
    processors,
    followsSampledParents: standard?.followsSampledParents ?? false,
    presampled: (parent) => parent.getValue(PRESAMPLED) === true,
  });
  traceIncomingRequests(standard?.rootRatio ?? null, startRequestSpan);
  markTracingStarted(startRequestSpan);
  return {
    // Spans that cannot be flushed at the end are reported, not thrown at the command's exit. The
    // batch processor stops its exporter only after a flush that succeeded, so the exporters are
    // stopped here too (the export worker, a gRPC channel).
    shutdown: async () => {
      await provider.shutdown().catch(reportError);
      await Promise.all(exporters.map((exporter) => exporter.shutdown().catch(reportError)));
    },
  };
}
