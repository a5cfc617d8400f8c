/**
 * The worker of gateway/tracing-export.ts: sends serialized spans with the OTLP exporter packages'
 * HTTP transport, configured from the OTEL_EXPORTER_OTLP_* variables as their OTLPTraceExporter
 * is, and answers each batch with its outcome.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ExportBatch, ExportReply, OtlpHttpProtocol } from './tracing-export.ts';

const json = (workerData as { protocol: OtlpHttpProtocol }).protocol === 'http/json';
const responses = json ? JsonTraceSerializer : ProtobufTraceSerializer;
const delegate = createOtlpHttpExportDelegate<ExportBatch, unknown>(
  convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', {
    'Content-Type': json ? 'application/json' : 'application/x-protobuf',
  }),
  { serializeRequest: (batch) => batch.bytes, deserializeResponse: (data) => responses.deserializeResponse(data) },
  'otlp_http_span_exporter',
  { name: 'span', countItems: (batch) => batch.spans },
  undefined,
);

parentPort!.on('message', (batch: ExportBatch) =>
  delegate.export(batch, (result) =>
    parentPort!.postMessage({
      id: batch.id,
      ...(result.error && { error: result.error.message }),
    } satisfies ExportReply),
  ),
);
