/**
 * The storage port of the files plugin: what the upload flow, the processing jobs and the CLI need
 * of an object store, and nothing more. Two adapters implement it and pass one contract test
 * (test/files-storage.test.ts): S3-compatible services (storage-s3.ts) and the local disk behind a
 * gateway route (storage-local.ts, the embedded default).
 *
 * Keys are S3-style paths (`uploads/<id>/original`). Both adapters accept the same keys, the ones
 * `assertKey` admits, so a key that works in development works against a bucket and none can
 * leave the local adapter's directory.
 */
import type { Readable } from 'node:stream';

/** An object as a listing or `head` reports it. */
export interface StoredObject {
  key: string;
  size: number;
  /** What the object was written with; undefined in listings (S3 lists no content types). */
  contentType: string | undefined;
  lastModified: Date;
}

export interface PresignPutOptions {
  /** The exact Content-Type the upload must carry. */
  contentType: string;
  /** The exact size in bytes the upload must have. */
  size: number;
  expiresInSeconds: number;
}

export interface PresignGetOptions {
  expiresInSeconds: number;
  /** Served as `Content-Disposition: attachment` with this name. */
  fileName?: string;
}

export interface FileStorage {
  readonly kind: 's3' | 'local';
  /**
   * Checks that the store answers and the bucket (or directory) exists and is usable; throws an
   * error that names the bucket or directory and what is wrong. Meant for start-up.
   */
  check(): Promise<void>;
  /**
   * A URL a browser PUTs the bytes to, valid `expiresInSeconds`, bound to the content type and the
   * exact size (a body of another size or type is refused).
   */
  presignPut(key: string, options: PresignPutOptions): Promise<string>;
  /** A short-lived URL to GET the object (optionally as a download with a file name). */
  presignGet(key: string, options: PresignGetOptions): Promise<string>;
  /** The object's size, type and time, or null when there is none. */
  head(key: string): Promise<StoredObject | null>;
  /**
   * Up to the first `length` bytes (for content-type sniffing; fewer when the object is shorter)
   * and the object's whole size, in one request; ObjectNotFoundError when there is none.
   */
  readStart(key: string, length: number): Promise<{ bytes: Buffer; size: number }>;
  /** The whole object as a stream; ObjectNotFoundError when there is none. */
  read(key: string): Promise<Readable>;
  /** Writes (or replaces) the object; a stream is not held in memory. */
  write(key: string, body: Buffer | Readable, contentType: string): Promise<void>;
  /** Moves an object (e.g. into a quarantine prefix), keeping its content type. */
  move(from: string, to: string): Promise<void>;
  /** Deletes the objects (in batches); keys with no object are fine. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order, page by page under the hood. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Releases what the adapter holds (the S3 client's sockets); for the plugin's `stop`. */
  close(): void;
}

/** The longest key S3 accepts (in UTF-8 bytes). */
export const MAX_KEY_BYTES = 1024;
/** The longest validity S3 gives a presigned URL (SigV4: 7 days). */
export const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;

/** A key that neither adapter accepts; the message says why. */
export class InvalidKeyError extends Error {
  readonly key: string;
  readonly reason: string;
  constructor(key: string, reason: string) {
    super(`Invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidKeyError';
    this.key = key;
    this.reason = reason;
  }
}

/** Reading or moving an object that does not exist. */
export class ObjectNotFoundError extends Error {
  readonly key: string;
  constructor(key: string, where: string) {
    super(`No object ${JSON.stringify(key)} in ${where}`);
    this.name = 'ObjectNotFoundError';
    this.key = key;
  }
}

/**
 * Refuses keys that are empty, too long, absolute, with control characters (NUL included) or a
 * backslash, or with an empty, `.` or `..` segment: on the local disk those could name a path
 * outside the directory, and on S3 they are legal but confusing, so neither adapter takes them.
 */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'it is empty');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new InvalidKeyError(key, `it is over ${MAX_KEY_BYTES} bytes`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidKeyError(key, 'it contains a control character');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'it contains a backslash');
  if (key.startsWith('/')) throw new InvalidKeyError(key, 'it is absolute (starts with "/")');
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidKeyError(key, 'it has an empty segment ("//" or a trailing "/")');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `it has a "${segment}" segment`);
  }
}

/** A listing prefix: empty, or the start of a key `assertKey` would admit. */
export function assertPrefix(prefix: string): void {
  if (prefix === '') return;
  try {
    assertKey(`${prefix}_`);
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
    throw new InvalidKeyError(prefix, `no valid key starts with it (${error.reason})`);
  }
}

/** Checks what a presigned URL is asked for; both adapters refuse the same things. */
export function assertPresignOptions(options: { expiresInSeconds: number; contentType?: string; size?: number }): void {
  const { expiresInSeconds, contentType, size } = options;
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_EXPIRES_SECONDS)
    throw new RangeError(`expiresInSeconds must be a whole number from 1 to ${MAX_EXPIRES_SECONDS}`);
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0))
    throw new RangeError('size must be a whole number of bytes, 0 or more');
  if (contentType !== undefined) assertContentType(contentType);
}

/** A content type is one header value of printable ASCII (no line breaks to smuggle headers). */
export function assertContentType(contentType: string): void {
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(contentType))
    throw new TypeError(`Invalid content type ${JSON.stringify(contentType)}: printable ASCII expected`);
}

/**
 * `attachment` with the file name twice: an ASCII fallback for old clients and the exact name in
 * RFC 5987 form (`filename*`), so quotes or non-ASCII characters cannot break the header.
 */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
