/**
 * OTLP over HTTP (protobuf or JSON), sent from a worker thread. The spans are serialized here by
 * the exporter packages' own serializers; the worker sends the bytes with their HTTP transport
 * (retries, timeout, compression, headers and endpoint read from the same OTEL_EXPORTER_OTLP_*
 * variables, as their OTLPTraceExporter does).
 *
 * Why a worker: the exporter's requests run through node:http's OutgoingMessage, IncomingMessage
 * and stream functions, the same ones that answer every request. Client requests among the
 * server's made those functions polymorphic or sent them back to baseline code, and every request
 * paid for it, sampled or not (instructions counted with callgrind: bench/RESULTS.md). A worker
 * has its own copies.
 */
import { Worker } from 'node:worker_threads';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

export type OtlpHttpProtocol = 'http/protobuf' | 'http/json';

/** What the worker is sent per export, and answers. */
export interface ExportBatch {
  id: number;
  bytes: Uint8Array;
  spans: number;
}
export interface ExportReply {
  id: number;
  error?: string;
}

export class WorkerOtlpSpanExporter implements SpanExporter {
  readonly #worker: Worker;
  readonly #serializer: typeof ProtobufTraceSerializer;
  /** Exports sent and not yet answered: whom to tell, and what forceFlush waits on. */
  readonly #pending = new Map<
    number,
    { resultCallback(result: ExportResult): void; answered: PromiseWithResolvers<void> }
  >();
  #nextId = 0;
  #stopped: Error | undefined;
  #shutdown: Promise<void> | undefined;

  constructor(protocol: OtlpHttpProtocol) {
    this.#serializer = protocol === 'http/json' ? JsonTraceSerializer : ProtobufTraceSerializer;
    this.#worker = new Worker(new URL('./tracing-export-worker.ts', import.meta.url), { workerData: { protocol } });
    this.#worker.on('message', ({ id, error }: ExportReply) => this.#settle(id, error));
    this.#worker.on('error', (error) => this.#stop(error));
    this.#worker.on('exit', () => this.#stop(new Error('The OTLP export worker stopped')));
    // Spans still waiting when the process ends are flushed by the provider's shutdown, not by
    // keeping the process alive. After the listeners: a 'message' listener refs the worker's port
    // again, and that port held a stopped gateway's process open.
    this.#worker.unref();
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const bytes = this.#stopped ? undefined : this.#serializer.serializeRequest(spans);
    if (!bytes) {
      resultCallback({ code: ExportResultCode.FAILED, error: this.#stopped ?? new Error('Nothing to send') });
      return;
    }
    const id = this.#nextId++;
    this.#pending.set(id, { resultCallback, answered: Promise.withResolvers<void>() });
    // The serializers return a fresh array of their own: its memory moves to the worker, uncopied
    // (a Buffer may share a pool with others, so it would be copied).
    const moved = bytes.buffer instanceof ArrayBuffer && !Buffer.isBuffer(bytes) ? [bytes.buffer] : [];
    this.#worker.postMessage({ id, bytes, spans: spans.length } satisfies ExportBatch, moved);
  }

  /** Waits for the exports sent so far to be answered (the worker's transport times out). */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.#pending.values()].map(({ answered }) => answered.promise));
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.forceFlush().then(async () => {
      await this.#worker.terminate();
    });
    return this.#shutdown;
  }

  #settle(id: number, error: string | undefined): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.answered.resolve();
    pending.resultCallback(
      error === undefined
        ? { code: ExportResultCode.SUCCESS }
        : { code: ExportResultCode.FAILED, error: new Error(error) },
    );
  }

  #stop(error: Error): void {
    this.#stopped ??= error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, this.#stopped.message);
  }
}
