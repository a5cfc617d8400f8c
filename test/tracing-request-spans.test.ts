/**
 * The gateway's own request spans (gateway/tracing-request-spans.ts): made only where the SDK
 * would record the span, finished spans the processors and the OTLP serializer read as the SDK's,
 * and the SDK's rules for limits, status and ending. The gateway's traces end to end are in
 * tracing.test.ts.
 */
import {
  type Context,
  createContextKey,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type SpanContext,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestSpanStarter } from '../gateway/tracing-request-spans.ts';
import { dropDatabaseErrorMessages } from '../gateway/tracing-sdk.ts';

const PRESAMPLED = createContextKey('test: sampled by the request');
const presampledRoot = ROOT_CONTEXT.setValue(PRESAMPLED, true);
const parentWith = (traceFlags: number, base: Context = ROOT_CONTEXT): Context =>
  trace.setSpanContext(base, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags,
    isRemote: true,
  } satisfies SpanContext);

function starter(followsSampledParents = true) {
  const exporter = new InMemorySpanExporter();
  const start = requestSpanStarter({
    resource: resourceFromAttributes({ 'service.name': 'request-spans' }),
    processors: [dropDatabaseErrorMessages, new SimpleSpanProcessor(exporter)],
    followsSampledParents,
    presampled: (parent) => parent.getValue(PRESAMPLED) === true,
  });
  return { start, finished: () => exporter.getFinishedSpans() };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('which spans are made here', () => {
  it.each([
    ['a request the gateway sampled', presampledRoot, true, true],
    ['a sampled parent, the sampler following parents', parentWith(TraceFlags.SAMPLED), true, true],
    [
      'a sampled parent under a request the gateway sampled',
      parentWith(TraceFlags.SAMPLED, presampledRoot),
      false,
      true,
    ],
    ['a sampled parent, a sampler that decides anew', parentWith(TraceFlags.SAMPLED), false, false],
    ['an unsampled parent', parentWith(TraceFlags.NONE), true, false],
    ['no parent, not sampled by the gateway', ROOT_CONTEXT, true, false],
  ])('under %s: recorded here %#', (_, parent, follows, recorded) => {
    const { start, finished } = starter(follows);
    const span = start('plugboard-http', 'POST', { kind: SpanKind.SERVER }, parent);
    // Not made here: the SDK's tracer decides, and with no provider registered records nothing.
    expect(span.isRecording()).toBe(recorded);
    span.end();
    expect(finished()).toHaveLength(recorded ? 1 : 0);
  });

  it('continues the trace of a sampled parent, and starts one under a request the gateway sampled', () => {
    const { start } = starter();
    const child = start('plugboard-graphql', 'query Q', {}, parentWith(TraceFlags.SAMPLED)) as unknown as ReadableSpan;
    expect(child.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(child.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    const root = start('plugboard-http', 'POST', {}, presampledRoot) as unknown as ReadableSpan;
    expect(root.spanContext()).toMatchObject({ traceFlags: TraceFlags.SAMPLED });
    expect(root.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(root.parentSpanContext).toBeUndefined();
  });
});

describe('a finished request span', () => {
  it('is read by the OTLP serializer as the SDK would send it', () => {
    const { start, finished } = starter();
    const startedAt = performance.now();
    const span = start(
      'plugboard-http',
      'POST',
      { kind: SpanKind.SERVER, attributes: { 'url.path': '/graphql' }, startTime: startedAt },
      parentWith(TraceFlags.SAMPLED),
    );
    span.setAttribute('http.response.status_code', 200);
    span.end(startedAt + 2.5);
    const request = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(finished())));
    const [resourceSpans] = request.resourceSpans;
    expect(resourceSpans.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'request-spans' },
    });
    const [scopeSpans] = resourceSpans.scopeSpans;
    expect(scopeSpans.scope.name).toBe('plugboard-http');
    const [sent] = scopeSpans.spans;
    expect(sent).toMatchObject({
      name: 'POST',
      kind: 2,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: 'b7ad6b7169203331',
      attributes: [
        { key: 'url.path', value: { stringValue: '/graphql' } },
        { key: 'http.response.status_code', value: { intValue: 200 } },
      ],
    });
    const nanos = BigInt(sent.endTimeUnixNano) - BigInt(sent.startTimeUnixNano);
    expect(Number(nanos)).toBeCloseTo(2_500_000, -3);
    expect(finished()[0]!.duration).toEqual([0, 2_500_000]);
  });

  it('keeps the status rules of the SDK: a message only with an error, OK final, nothing after the end', () => {
    const { start, finished } = starter();
    const span = start('plugboard-graphql', 'query Q', {}, presampledRoot);
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    span.end();
    span.setAttribute('after', 'the end');
    span.end();
    expect(finished()).toHaveLength(1);
    expect(finished()[0]).toMatchObject({ status: { code: SpanStatusCode.OK }, attributes: {} });
    const failed = start('plugboard-graphql', 'query R', {}, presampledRoot);
    failed.setStatus({ code: SpanStatusCode.ERROR, message: 'kept' });
    failed.recordException(new TypeError(`it quotes "a value"`));
    failed.end();
    expect(finished()[1]).toMatchObject({
      status: { code: SpanStatusCode.ERROR, message: 'kept' },
      events: [{ name: 'exception', attributes: { 'exception.type': 'TypeError' } }],
    });
  });

  it('goes through the processors while still writable: the database message filter applies', () => {
    const { start, finished } = starter();
    const span = start(
      'plugboard-graphql',
      'SELECT',
      { attributes: { 'db.system.name': 'postgresql' } },
      presampledRoot,
    );
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'invalid input syntax for type integer: "42x"' });
    span.end();
    expect(finished()[0]!.status).toEqual({ code: SpanStatusCode.ERROR });
  });

  it('applies the OTEL_* span limits: value length, attribute count, events', () => {
    vi.stubEnv('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '4');
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '2');
    vi.stubEnv('OTEL_SPAN_EVENT_COUNT_LIMIT', '1');
    const { start, finished } = starter();
    const span = start('plugboard-http', 'POST', { attributes: { 'user_agent.original': 'curl/8.1' } }, presampledRoot);
    span.setAttributes({ 'url.path': '/graphql', 'url.scheme': 'http' });
    span.addEvent('first');
    span.addEvent('second');
    span.end();
    expect(finished()[0]).toMatchObject({
      attributes: { 'user_agent.original': 'curl', 'url.path': '/gra' },
      droppedAttributesCount: 1,
      droppedEventsCount: 1,
    });
  });
});
