/**
 * The upload flow and what callers may see. `createUpload` reserves a row and hands out a URL the
 * browser PUTs the bytes to (presigned S3, or the gateway's signed local route); `completeUpload`
 * checks the stored object (its size, and its type from its first bytes, never its name) and
 * queues its processing, one job per file. Owners see their files, admins every file.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, InputError, type PluginRuntime, type Session } from '../../gateway/sdk.ts';
import type { FilesConfig } from './config.ts';
import { DETECTION_HEAD_BYTES, detectType, isAllowed } from './detect.ts';
import { filesSql, namedFilesSql } from './sql.ts';
import { type FileStorage, ObjectNotFoundError } from './storage.ts';
import { FILE_PROCESSED } from './topics.ts';

export const QUEUE = 'files';
export const PROCESS_JOB = 'process';

export const FilesErrorCode = {
  TOO_LARGE: 'FILES_TOO_LARGE',
  TYPE_NOT_ALLOWED: 'FILES_TYPE_NOT_ALLOWED',
  UPLOAD_INCOMPLETE: 'FILES_UPLOAD_INCOMPLETE',
  TOO_MANY_UPLOADS: 'FILES_TOO_MANY_UPLOADS',
} as const;

export type FileStatus = 'uploading' | 'processing' | 'pending_scan' | 'ready' | 'failed' | 'infected';

export interface Derivative {
  kind: 'thumbnail' | 'optimized' | 'poster' | 'preview';
  format: string;
  width: number;
  height: number;
  size: string;
  key: string;
}

export interface FileRow {
  id: string;
  owner_id: string;
  storage: 's3' | 'local';
  bucket: string | null;
  key: string;
  name: string;
  declared_type: string;
  detected_type: string | null;
  size: string;
  sha256: string | null;
  status: FileStatus;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  uploaded_at: Date | null;
  processed_at: Date | null;
}

/** A file as read for callers: with its derivatives, metadata and newest scan. */
export interface FileView extends FileRow {
  derivatives: Derivative[];
  meta: {
    format: string | null;
    width: number | null;
    height: number | null;
    camera_make: string | null;
    camera_model: string | null;
    taken_at: string | null;
    duration_seconds: number | null;
    video_codec: string | null;
    audio_codec: string | null;
    page_count: number | null;
  } | null;
  scan: {
    engine: string;
    signature_version: string | null;
    result: 'clean' | 'infected';
    signature_name: string | null;
    scanned_at: string;
  } | null;
}

// Control characters and path separators never belong in a file name we store and hand back.
const BAD_NAME = /[\p{Cc}/\\]/u;

/** The owner, or an admin. */
export const mayRead = (session: Session, file: FileRow): boolean =>
  session.role === 'admin' || (session.userId !== null && session.userId === file.owner_id);

export class FilesService {
  readonly #runtime: PluginRuntime<FilesConfig>;
  readonly #storage: FileStorage;

  constructor(runtime: PluginRuntime<FilesConfig>, storage: FileStorage) {
    this.#runtime = runtime;
    this.#storage = storage;
  }

  /**
   * Reserves a file of user `ownerId` (its row, status `uploading`, at key `uploads/<id>`) after
   * checking what was announced; the bytes come by a presigned PUT or by tus.
   */
  async reserve(ownerId: string, input: { name: string; contentType: string; size: number }): Promise<FileRow> {
    const { config } = this.#runtime;
    const name = input.name.trim();
    if (name.length === 0 || name.length > 255 || BAD_NAME.test(name))
      throw new InputError('filename must be 1–255 characters, without control characters or slashes');
    const contentType = input.contentType.trim().toLowerCase();
    if (!/^[a-z]+\/[a-z0-9.+-]+$/.test(contentType)) throw new InputError('contentType must be a media type');
    if (!isAllowed(contentType, config.allowedTypes))
      throw new InputError(
        `${contentType} is not accepted (FILES_ALLOWED_TYPES: ${config.allowedTypes.join(',')})`,
        FilesErrorCode.TYPE_NOT_ALLOWED,
      );
    if (!Number.isSafeInteger(input.size) || input.size < 1) throw new InputError('size must be a positive integer');
    if (input.size > config.maxSize)
      throw new InputError(
        `size ${input.size} is over FILES_MAX_SIZE (${config.maxSize} bytes)`,
        FilesErrorCode.TOO_LARGE,
      );
    const id = randomUUID();
    const key = `uploads/${id}`;
    const { rows } = await this.#runtime.db.query<FileRow>(
      namedFilesSql('upload-create', [
        ownerId,
        this.#storage.kind,
        config.s3?.bucket ?? null,
        key,
        name,
        contentType,
        input.size,
        config.maxPendingUploads,
        id,
      ]),
    );
    if (rows.length === 0)
      throw new InputError(
        `you have ${config.maxPendingUploads} uploads started and not completed (FILES_MAX_PENDING_UPLOADS)`,
        FilesErrorCode.TOO_MANY_UPLOADS,
      );
    return rows[0]!;
  }

  /** Reserves a file and returns where to PUT its bytes. */
  async createUpload(
    ownerId: string,
    input: { name: string; contentType: string; size: number },
  ): Promise<{ file: FileView; url: string; headers: Record<string, string>; expiresAt: Date }> {
    const { config } = this.#runtime;
    const file = await this.reserve(ownerId, input);
    const { key } = file;
    const contentType = file.declared_type;
    const url = await this.#storage.presignPut(key, {
      contentType,
      size: input.size,
      expiresInSeconds: config.uploadUrlTtl,
    });
    return {
      file: { ...file, derivatives: [], meta: null, scan: null },
      url,
      headers: { 'Content-Type': contentType },
      expiresAt: new Date(Date.now() + config.uploadUrlTtl * 1000),
    };
  }

  /**
   * Checks the uploaded object against what was announced and queues its processing. A file whose
   * bytes are not what was announced (another size, a type not accepted, or not the declared one)
   * is deleted from the storage and marked failed.
   */
  async completeUpload(session: Session, id: string): Promise<FileView> {
    // The row alone (not its view): an upload has no derivatives, metadata or scan to read yet.
    const file = isUuid(id)
      ? (await this.#runtime.db.query<FileRow>(namedFilesSql('file-row', [id]))).rows[0]
      : undefined;
    if (!file || !mayRead(session, file)) throw new InputError(`no file ${id}`, ErrorCode.NOT_FOUND);
    return this.complete(file);
  }

  /** completeUpload, for an upload whose bytes arrived by tus. */
  async completeStored(id: string): Promise<FileView> {
    const file = await this.view(id);
    if (!file) throw new InputError(`no file ${id}`, ErrorCode.NOT_FOUND);
    return this.complete(file);
  }

  private async complete(file: FileRow): Promise<FileView> {
    const { id } = file;
    if (file.status !== 'uploading') return (await this.view(id))!;
    // One request tells the size and gives the first bytes, whose type decides.
    let stored: { bytes: Buffer; size: number };
    try {
      stored = await this.#storage.readStart(file.key, DETECTION_HEAD_BYTES);
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
      throw new InputError(
        'nothing was uploaded yet: PUT the bytes to the upload URL first',
        FilesErrorCode.UPLOAD_INCOMPLETE,
      );
    }
    const refuse = async (message: string, code: string): Promise<never> => {
      await this.#storage.delete([file.key]);
      await this.#runtime.db.query(filesSql('file-status'), [id, ['uploading'], 'failed', message, null]);
      throw new InputError(message, code);
    };
    if (stored.size !== Number(file.size))
      await refuse(
        `the upload has ${stored.size} bytes, ${file.size} were announced`,
        FilesErrorCode.UPLOAD_INCOMPLETE,
      );
    const detected = await detectType(stored.bytes);
    if (!detected || !isAllowed(detected.mime, this.#runtime.config.allowedTypes))
      await refuse(
        `the file's content is ${detected?.mime ?? 'of no known type'}, which is not accepted`,
        FilesErrorCode.TYPE_NOT_ALLOWED,
      );
    if (!sameType(detected!.mime, file.declared_type))
      await refuse(
        `the file's content is ${detected!.mime}, not ${file.declared_type} as announced`,
        FilesErrorCode.TYPE_NOT_ALLOWED,
      );
    const { rows } = await this.#runtime.db.query<FileRow>(
      namedFilesSql('file-status', [id, ['uploading'], 'processing', null, detected!.mime]),
    );
    // Another completeUpload of the same file got there first: it queued the job.
    if (rows.length === 0) return (await this.view(id))!;
    await this.enqueue(rows[0]!);
    // As of this update: an upload that was never processed has no derivatives, metadata or scan.
    return { ...rows[0]!, derivatives: [], meta: null, scan: null };
  }

  /**
   * Queues the processing of a file as it was at `updated_at`: one job per file and state, so a
   * repeated request adds nothing while a reprocess (a newer state) is a job of its own.
   */
  async enqueue(file: { id: string; updated_at: Date }): Promise<void> {
    const { maxAttempts } = this.#runtime.config;
    await this.#runtime.queue.add(
      QUEUE,
      PROCESS_JOB,
      { id: file.id },
      {
        jobId: `process:${file.id}:${new Date(file.updated_at).getTime()}`,
        attempts: maxAttempts,
        backoff: { type: 'exponential', delayMs: 2_000 },
      },
    );
  }

  /** Queues a processed (or failed) file again, as admins ask. */
  async reprocess(id: string): Promise<FileView | null> {
    const { rows } = await this.#runtime.db.query<FileRow>(filesSql('file-status'), [
      id,
      ['ready', 'failed', 'pending_scan', 'processing'],
      'processing',
      null,
      null,
    ]);
    if (rows.length > 0) await this.enqueue(rows[0]!);
    return this.view(id);
  }

  /** Deletes a file, its object and its derivatives. */
  async delete(session: Session, id: string): Promise<boolean> {
    const file = await this.visible(session, id);
    const { rows } = await this.#runtime.db.query<{ key: string; derived_keys: string[] }>(filesSql('file-delete'), [
      id,
    ]);
    if (rows.length === 0) return false;
    await this.#storage.delete([rows[0]!.key, ...rows[0]!.derived_keys]);
    this.#runtime.pubsub.publish(FILE_PROCESSED, { id, ownerId: file.owner_id, status: 'deleted' }, id);
    return true;
  }

  async view(id: string): Promise<FileView | null> {
    if (!isUuid(id)) return null;
    return (await this.#runtime.db.query<FileView>(filesSql('file'), [id])).rows[0] ?? null;
  }

  /** The file if the caller may see it; NOT_FOUND otherwise (another user's file is not revealed). */
  async visible(session: Session, id: string): Promise<FileView> {
    const file = await this.view(id);
    if (!file || !mayRead(session, file)) throw new InputError(`no file ${id}`, ErrorCode.NOT_FOUND);
    return file;
  }

  /** A short-lived URL for the original (never for a quarantined or unfinished upload). */
  async originalUrl(file: FileRow): Promise<string | null> {
    if (file.status === 'uploading' || file.status === 'infected' || file.status === 'failed') return null;
    return this.#storage.presignGet(file.key, {
      expiresInSeconds: this.#runtime.config.downloadUrlTtl,
      fileName: file.name,
    });
  }

  async derivativeUrl(file: FileRow, derivative: Derivative): Promise<string | null> {
    if (file.status === 'infected') return null;
    return this.#storage.presignGet(derivative.key, { expiresInSeconds: this.#runtime.config.downloadUrlTtl });
  }
}

export const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** Browsers announce some types under older names. */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'video/x-m4v': 'video/mp4',
};
const canonical = (mime: string) => ALIASES[mime] ?? mime;
const sameType = (detected: string, declared: string) => canonical(detected) === canonical(declared);
