/**
 * The OTLP/HTTP exporter that sends from a worker thread (gateway/tracing-export.ts), against the
 * local collector: what arrives, for each encoding; a collector that cannot be reached; shutdown.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type OtlpHttpProtocol, WorkerOtlpSpanExporter } from '../gateway/tracing-export.ts';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.ts';

let receiver: OtlpReceiver;
const exporters: WorkerOtlpSpanExporter[] = [];
beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await Promise.all(exporters.splice(0).map((exporter) => exporter.shutdown()));
});
afterAll(() => receiver.close());

/** Finished spans named `names`, of the service `service`. */
async function spansNamed(service: string, names: string[]): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('test');
  for (const name of names) tracer.startSpan(name, { attributes: { 'graphql.operation.type': 'query' } }).end();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

/** An exporter whose worker reads `variables` (a worker's environment is the parent's as it starts). */
function exporterWith(protocol: OtlpHttpProtocol, variables: Record<string, string>): WorkerOtlpSpanExporter {
  const before = { ...process.env };
  Object.assign(process.env, variables);
  try {
    const exporter = new WorkerOtlpSpanExporter(protocol);
    exporters.push(exporter);
    return exporter;
  } finally {
    for (const name of Object.keys(variables))
      if (before[name] === undefined) delete process.env[name];
      else process.env[name] = before[name];
  }
}

const exported = (exporter: WorkerOtlpSpanExporter, spans: ReadableSpan[]) =>
  new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

it('sends JSON from its worker: the collector reads every span, with its service', async () => {
  const exporter = exporterWith('http/json', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  const spans = await spansNamed('export-json', ['query A', 'query B']);
  expect(await exported(exporter, spans)).toEqual({ code: ExportResultCode.SUCCESS });
  const received = receiver.spans.filter((span) => span.service === 'export-json');
  expect(received.map((span) => span.name).sort()).toEqual(['query A', 'query B']);
  expect(received[0]!.attributes).toEqual({ 'graphql.operation.type': 'query' });
});

it('sends protobuf (the default): the collector receives the serialized batch byte for byte', async () => {
  const exporter = exporterWith('http/protobuf', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  const spans = await spansNamed('export-protobuf', ['query C']);
  const before = { requests: receiver.requests(), bytes: receiver.bytes() };
  expect(await exported(exporter, spans)).toEqual({ code: ExportResultCode.SUCCESS });
  expect(receiver.requests() - before.requests).toBe(1);
  expect(receiver.bytes() - before.bytes).toBe(ProtobufTraceSerializer.serializeRequest(spans)!.length);
});

it('reports a collector it cannot reach as a failed export, within the export timeout', async () => {
  const gone = await startOtlpReceiver();
  await gone.close();
  const exporter = exporterWith('http/json', {
    OTEL_EXPORTER_OTLP_ENDPOINT: gone.url,
    OTEL_EXPORTER_OTLP_TIMEOUT: '500',
  });
  const result = await exported(exporter, await spansNamed('export-unreachable', ['query D']));
  expect(result.code).toBe(ExportResultCode.FAILED);
  expect(result.error?.message).toMatch(/ECONNREFUSED|timeout|connect/i);
});

it('finishes the exports under way when shut down, then refuses new ones', async () => {
  const exporter = exporterWith('http/json', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
  const underWay = exported(exporter, await spansNamed('export-shutdown', ['query E']));
  await exporter.shutdown();
  expect(await underWay).toEqual({ code: ExportResultCode.SUCCESS });
  expect(receiver.spans.filter((span) => span.service === 'export-shutdown').map((span) => span.name)).toEqual([
    'query E',
  ]);
  const after = await exported(exporter, await spansNamed('export-shutdown', ['query F']));
  expect(after.code).toBe(ExportResultCode.FAILED);
  expect(after.error?.message).toMatch(/export worker stopped/);
});
