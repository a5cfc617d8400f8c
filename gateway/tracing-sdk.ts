/**
 * Starts OpenTelemetry tracing: the Node SDK, configured by the standard OTEL_* variables, and the
 * instrumentations of node:http, fetch (undici), pg and ioredis. bin/plugboard.js imports this
 * module only when an OTLP endpoint is set, and before anything else, so the instrumentations patch
 * those modules before the gateway loads them; with tracing off none of this is ever loaded.
 */
import type { IncomingMessage, RequestOptions } from 'node:http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { register as registerImportHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { ConfigError, type Env } from './config/variables.ts';
import { markTracingStarted } from './tracing.ts';

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

export async function startTracing(env: Env): Promise<Tracing> {
  checkSampler(env);
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
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] || 'plugboard',
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.has(withoutQuery(request.url ?? '')),
        startIncomingSpanHook: (request: IncomingMessage) =>
          request.url?.includes('?') ? { 'url.query': 'REDACTED' } : {},
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
  sdk.start();
  markTracingStarted();
  return { shutdown: () => sdk.shutdown() };
}
