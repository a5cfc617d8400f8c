/**
 * Processing one file (the `files` queue's `process` job; idempotent, so a retry or a reprocess
 * redoes it whole): the object is read into a temp file while its SHA-256 is taken, scanned when
 * FILES_VIRUS_SCAN is on, then by its detected type: an image gets thumbnails, optimized copies
 * and its metadata; a video a poster frame (and thumbnails of it) and its facts; a PDF a preview of
 * its first page and its page count. Derivatives go under `derived/<id>/`, never with EXIF or GPS.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { notifyUsersJob, PermanentJobError, type PluginRuntime } from '../../gateway/sdk.ts';
import type { FilesConfig } from './config.ts';
import { type EncodedImage, imageInfo, processImage, stripMetadata } from './images.ts';
import { FileRejectedError, MediaErrorCode, MediaToolError } from './media-errors.ts';
import { pdfPreview } from './pdf.ts';
import { type createClamdScanner, ScannerUnavailableError, ScanTooLargeError } from './scan.ts';
import type { Derivative, FileRow } from './service.ts';
import { filesSql } from './sql.ts';
import type { FileStorage } from './storage.ts';
import { FILE_PROCESSED, type FileProcessedEvent } from './topics.ts';
import { posterFrame, posterTime, probeVideo } from './video.ts';

type Scanner = ReturnType<typeof createClamdScanner>;

type MadeDerivative = { kind: Derivative['kind']; format: string; width: number; height: number; data: Buffer };

const derivative = (kind: Derivative['kind'], image: EncodedImage): MadeDerivative => ({
  kind,
  format: image.format,
  width: image.width,
  height: image.height,
  data: image.data,
});

/** A PDF's first page is previewed this wide. */
const PDF_PREVIEW_WIDTH = 1200;

interface Made {
  derivatives: MadeDerivative[];
  meta: {
    format?: string | null;
    width?: number | null;
    height?: number | null;
    cameraMake?: string | null;
    cameraModel?: string | null;
    takenAt?: string | null;
    durationSeconds?: number | null;
    videoCodec?: string | null;
    audioCodec?: string | null;
    pageCount?: number | null;
  };
  /** The original without its metadata, when FILES_STRIP_ORIGINAL_METADATA asks. */
  original?: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  webp: 'image/webp',
  avif: 'image/avif',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

export class FileProcessor {
  readonly #runtime: PluginRuntime<FilesConfig>;
  readonly #storage: FileStorage;
  readonly #scanner: Scanner | null;

  constructor(runtime: PluginRuntime<FilesConfig>, storage: FileStorage, scanner: Scanner | null) {
    this.#runtime = runtime;
    this.#storage = storage;
    this.#scanner = scanner;
  }

  /**
   * Processes file `id`. What cannot succeed on a retry (a refused image) fails the file at once;
   * any other error fails it on the `lastAttempt`, except an unreachable scanner (it stays
   * `pending_scan`: `plugboard files scan` queues it again).
   */
  async process(id: string, lastAttempt = true): Promise<FileProcessedEvent['status'] | 'skipped'> {
    const { db } = this.#runtime;
    const file = (await db.query<FileRow>(filesSql('file-row'), [id])).rows[0];
    // Deleted meanwhile, or not (or no longer) waiting for processing.
    if (!file || (file.status !== 'processing' && file.status !== 'pending_scan')) return 'skipped';
    const dir = await mkdtemp(join(tmpdir(), 'plugboard-file-'));
    try {
      const path = join(dir, 'original');
      const sha256 = await this.download(file.key, path);
      if (this.#scanner) {
        const verdict = await this.scan(file, path);
        if (verdict === 'infected') return 'infected';
      }
      try {
        await this.store(file, await this.make(file.detected_type ?? file.declared_type, path));
      } catch (error) {
        // The file's own fault, or no ffmpeg on this machine: no retry can help (reprocess once fixed).
        const refused =
          error instanceof FileRejectedError ||
          (error instanceof MediaToolError && error.code === MediaErrorCode.FFMPEG_MISSING);
        if (refused || lastAttempt)
          await this.finish(file, 'failed', sha256, file.key, error instanceof Error ? error.message : String(error));
        if (refused) throw new PermanentJobError((error as Error).message, { cause: error });
        throw error;
      }
      await this.finish(file, 'ready', sha256, file.key, null);
      return 'ready';
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Copies the object to `path` and returns its SHA-256 (hex). */
  private async download(key: string, path: string): Promise<string> {
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(await this.#storage.read(key), hashing, createWriteStream(path));
    return hash.digest('hex');
  }

  /**
   * Scans the file. Infected: moved to the quarantine prefix and marked so (no URL is ever handed
   * out). Scanner down: the file waits as `pending_scan` and the job is retried, never `clean`.
   */
  private async scan(file: FileRow, path: string): Promise<'clean' | 'infected'> {
    const { db } = this.#runtime;
    let result: Awaited<ReturnType<Scanner['scan']>>;
    try {
      result = await this.#scanner!.scan(createReadStream(path));
    } catch (error) {
      if (error instanceof ScannerUnavailableError) {
        await db.query(filesSql('file-status'), [file.id, ['processing'], 'pending_scan', error.message, null]);
        this.publish(file, 'pending_scan');
      }
      if (error instanceof ScanTooLargeError) {
        const message = `too large for the virus scanner (raise clamd's StreamMaxLength to FILES_MAX_SIZE): ${error.message}`;
        await this.finish(file, 'failed', null, file.key, message);
        throw new PermanentJobError(message, { cause: error });
      }
      throw error;
    }
    await db.query(filesSql('scan-insert'), [
      file.id,
      result.engine,
      result.signatureVersion,
      result.status,
      result.signature,
    ]);
    if (result.status === 'clean') return 'clean';
    const quarantined = `quarantine/${file.id}`;
    await this.#storage.move(file.key, quarantined);
    await this.finish(file, 'infected', null, quarantined, `infected: ${result.signature ?? 'unnamed signature'}`);
    this.#runtime.log.warn(
      { file: file.id, owner: file.owner_id, signature: result.signature },
      'infected file quarantined',
    );
    await this.alert(file, result.signature ?? 'an unnamed signature');
    return 'infected';
  }

  /** Tells the owner and FILES_ALERT_USERS in-app, when the notifications plugin runs. */
  private async alert(file: FileRow, signature: string): Promise<void> {
    const { jobs, queue, config, log } = this.#runtime;
    if (!jobs.has(notifyUsersJob.queue, notifyUsersJob.type)) {
      log.warn({ file: file.id }, 'the notifications plugin is not enabled: nobody was told of the quarantined file');
      return;
    }
    const key = `files:infected:${file.id}`;
    await notifyUsersJob.enqueue(
      queue,
      {
        userIds: [file.owner_id, ...config.alertUsers],
        subject: 'A file was quarantined',
        body: `The virus scanner found ${signature} in "${file.name}" (file ${file.id}). It was quarantined and cannot be downloaded.`,
        category: 'security',
        idempotencyKey: key,
      },
      { jobId: key, attempts: 3 },
    );
  }

  private async make(type: string, path: string): Promise<Made> {
    const { config } = this.#runtime;
    const imageOptions = { sizes: config.thumbnailSizes, avif: config.avif, maxPixels: config.maxPixels };
    /** Thumbnails of a still (a poster, a preview), as of an image. */
    const thumbnailsOf = async (still: Buffer) =>
      (await processImage(still, { ...imageOptions, avif: false })).thumbnails.map((t) => derivative('thumbnail', t));
    if (type.startsWith('image/')) {
      const input = await readFile(path);
      const image = await processImage(input, imageOptions);
      const { webp, avif } = image.optimized;
      return {
        derivatives: [
          ...image.thumbnails.map((t) => derivative('thumbnail', t)),
          derivative('optimized', webp),
          ...(avif ? [derivative('optimized', avif)] : []),
        ],
        meta: image.metadata,
        ...(config.stripOriginalMetadata && { original: (await stripMetadata(input, config.maxPixels)).data }),
      };
    }
    if (type.startsWith('video/')) {
      const tools = {
        ...(config.ffmpegPath && { ffmpegPath: config.ffmpegPath }),
        ...(config.ffprobePath && { ffprobePath: config.ffprobePath }),
      };
      const facts = await probeVideo(path, tools);
      const poster = await posterFrame(path, posterTime(facts.durationSeconds), tools);
      const { width, height } = await imageInfo(poster, config.maxPixels);
      return {
        derivatives: [{ kind: 'poster', format: 'jpeg', width, height, data: poster }, ...(await thumbnailsOf(poster))],
        meta: { ...facts, format: facts.container },
      };
    }
    if (type === 'application/pdf') {
      const preview = await pdfPreview(await readFile(path), PDF_PREVIEW_WIDTH);
      return {
        derivatives: [
          { kind: 'preview', format: 'png', width: preview.width, height: preview.height, data: preview.png },
          ...(await thumbnailsOf(preview.png)),
        ],
        meta: { format: 'pdf', pageCount: preview.pageCount },
      };
    }
    return { derivatives: [], meta: {} };
  }

  /** Writes the derivatives, records them (dropping those a previous run made and this one did not), and the metadata. */
  private async store(file: FileRow, made: Made): Promise<void> {
    const { db } = this.#runtime;
    // A small image fits several boxes at its own size: one derivative each (kind, size, format).
    const byKey = new Map(
      made.derivatives.map((d) => [`derived/${file.id}/${d.kind}-${d.width}x${d.height}.${d.format}`, d] as const),
    );
    const keyed = [...byKey].map(([key, d]) => ({ ...d, key }));
    await Promise.all(
      keyed.map((d) => this.#storage.write(d.key, d.data, CONTENT_TYPES[d.format] ?? 'application/octet-stream')),
    );
    if (made.original) await this.#storage.write(file.key, made.original, file.detected_type ?? file.declared_type);
    const { rows: gone } = await db.query<{ key: string }>(filesSql('derivatives-replace'), [
      file.id,
      keyed.map((d) => d.kind),
      keyed.map((d) => d.format),
      keyed.map((d) => d.width),
      keyed.map((d) => d.height),
      keyed.map((d) => d.data.length),
      keyed.map((d) => d.key),
    ]);
    if (gone.length > 0) await this.#storage.delete(gone.map((g) => g.key));
    const m = made.meta;
    await db.query(filesSql('metadata-upsert'), [
      file.id,
      m.format ?? null,
      m.width ?? null,
      m.height ?? null,
      m.cameraMake ?? null,
      m.cameraModel ?? null,
      m.takenAt ?? null,
      m.durationSeconds ?? null,
      m.videoCodec ?? null,
      m.audioCodec ?? null,
      m.pageCount ?? null,
    ]);
  }

  private async finish(
    file: FileRow,
    status: 'ready' | 'failed' | 'infected',
    sha256: string | null,
    key: string,
    error: string | null,
  ): Promise<void> {
    await this.#runtime.db.query(filesSql('file-processed'), [file.id, status, sha256, key, error]);
    this.publish(file, status);
  }

  private publish(file: FileRow, status: FileProcessedEvent['status']): void {
    this.#runtime.pubsub.publish(FILE_PROCESSED, { id: file.id, ownerId: file.owner_id, status }, file.id);
  }
}
