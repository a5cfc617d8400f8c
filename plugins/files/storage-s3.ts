/**
 * The storage port on any S3-compatible service (AWS S3, MinIO, R2, B2's S3 API) through the AWS
 * SDK. Presigned PUT URLs sign Content-Type and Content-Length, so the service itself refuses an
 * upload of another type or size. Every failure the service or the network reports becomes an
 * Error that names the operation, the bucket and the endpoint (never the credentials).
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  assertContentType,
  assertKey,
  assertPrefix,
  assertPresignOptions,
  attachmentDisposition,
  type FileStorage,
  ObjectNotFoundError,
  type StoredObject,
} from './storage.ts';

export interface S3StorageOptions {
  /** The service's URL (MinIO, R2, B2…); unset for AWS S3 itself. */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO and most self-hosted services). */
  forcePathStyle: boolean;
  /** Objects per listing request. @default 1000 (S3's maximum) */
  pageSize?: number;
  /** Bytes per part when a stream is written in parts; S3 takes no part under 5 MiB but the last. @default 8 MiB */
  partSize?: number;
  /** The clock presigned URLs are signed with. @default () => new Date() */
  now?: () => Date;
}

export interface S3FileStorage extends FileStorage {
  readonly kind: 's3';
  readonly bucket: string;
}

/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden']);

/** A key in a URL path or x-amz-copy-source: each segment encoded, the slashes kept. */
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

export function createS3Storage(options: S3StorageOptions): S3FileStorage {
  const { bucket, region, endpoint, secretAccessKey } = options;
  if (!bucket) throw new TypeError('S3 storage needs a bucket name');
  if (!region) throw new TypeError('S3 storage needs a region');
  const pageSize = options.pageSize ?? 1000;
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    throw new RangeError('pageSize must be a whole number from 1 to 1000');
  if (!Number.isInteger(partSize) || partSize < MIN_PART_SIZE)
    throw new RangeError(`partSize must be a whole number of bytes, at least ${MIN_PART_SIZE}`);
  const now = options.now ?? (() => new Date());
  let where = `AWS S3 (${region})`;
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new TypeError(`S3 endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
    url.username = '';
    url.password = '';
    where = url.origin + (url.pathname === '/' ? '' : url.pathname);
  }
  const client = new S3Client({
    region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey },
    // The SDK's default adds CRC32 checksums to uploads: in a presigned PUT that is the checksum
    // of an empty body, which no browser upload matches, and several S3-compatible services know
    // no such headers. Only where an API requires one (DeleteObjects).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5000 },
  });

  /** The SDK's or the network's failure, told with the operation, bucket and endpoint. */
  function failure(error: unknown, action: string): Error {
    let reason: string;
    const code = (error as { code?: unknown }).code;
    if (error instanceof S3ServiceException) {
      const status = error.$metadata.httpStatusCode;
      if (error.name === 'NoSuchBucket') reason = 'the bucket does not exist';
      else if (DENIED.has(error.name) || status === 403)
        reason = `the service refused the credentials or their permissions (${error.name}${error.message && error.message !== 'UnknownError' ? `: ${error.message}` : ''})`;
      else reason = `${error.name}: ${error.message} (HTTP ${status ?? 'status unknown'})`;
    } else if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) {
      reason = `the endpoint cannot be reached (${code})`;
    } else if (error instanceof Error && error.name === 'TimeoutError') {
      reason = 'the endpoint did not answer in time';
    } else {
      reason = error instanceof Error ? error.message : String(error);
    }
    const message = `S3 ${action} in bucket "${bucket}" at ${where} failed: ${reason}`;
    return new Error(secretAccessKey ? message.replaceAll(secretAccessKey, '[secret]') : message, { cause: error });
  }

  const missing = (error: unknown) =>
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404) &&
    error.name !== 'NoSuchBucket';

  /** Runs one request, its failure told with `action`. */
  async function s3<T>(action: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw failure(error, action);
    }
  }

  async function put(key: string, body: Buffer, contentType: string): Promise<void> {
    await s3(`PUT "${key}"`, () =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
      ),
    );
  }

  /** A stream over one part is written in parts (no length needed up front, one part in memory). */
  async function putStream(key: string, body: Readable, contentType: string): Promise<void> {
    const parts = partsOf(body, partSize)[Symbol.asyncIterator]();
    const first = await parts.next();
    if (first.done) return put(key, Buffer.alloc(0), contentType);
    let next = await parts.next();
    if (next.done) return put(key, first.value, contentType);
    const action = `multipart PUT "${key}"`;
    const { UploadId } = await s3(action, () =>
      client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType })),
    );
    try {
      const done: { ETag: string; PartNumber: number }[] = [];
      const upload = async (part: Buffer) => {
        const PartNumber = done.length + 1;
        const { ETag } = await s3(action, () =>
          client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: part })),
        );
        done.push({ ETag: ETag!, PartNumber });
      };
      await upload(first.value);
      while (!next.done) {
        await upload(next.value);
        next = await parts.next();
      }
      await s3(action, () =>
        client.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }),
        ),
      );
    } catch (error) {
      body.destroy();
      // The parts of an upload never completed stay (and are billed) until it is aborted.
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
      throw error;
    }
  }

  return {
    kind: 's3',
    bucket,

    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        // HEAD answers carry no error body: a 404 is the bucket missing.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
          throw new Error(`S3 bucket "${bucket}" at ${where} does not exist`, { cause: error });
        throw failure(error, 'HEAD (bucket check)');
      }
    },

    async presignPut(key, { contentType, size, expiresInSeconds }) {
      assertKey(key);
      assertPresignOptions({ expiresInSeconds, contentType, size });
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: size });
      // The presigner leaves content-type unsigned unless told (content-length it signs anyway):
      // with both signed, the service refuses a body of any other type or length.
      return getSignedUrl(client, command, {
        expiresIn: expiresInSeconds,
        signingDate: now(),
        signableHeaders: new Set(['content-type', 'content-length']),
      });
    },

    async presignGet(key, { expiresInSeconds, fileName }) {
      assertKey(key);
      assertPresignOptions({ expiresInSeconds });
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(fileName === undefined ? {} : { ResponseContentDisposition: attachmentDisposition(fileName) }),
      });
      return getSignedUrl(client, command, { expiresIn: expiresInSeconds, signingDate: now() });
    },

    async head(key) {
      assertKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          key,
          size: head.ContentLength ?? 0,
          contentType: head.ContentType,
          lastModified: head.LastModified ?? new Date(0),
        };
      } catch (error) {
        if (missing(error)) return null;
        throw failure(error, `HEAD "${key}"`);
      }
    },

    async readStart(key, length) {
      assertKey(key);
      if (!Number.isSafeInteger(length) || length < 1) throw new RangeError('length must be a whole number, 1 or more');
      try {
        const { Body, ContentRange, ContentLength } = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${length - 1}` }),
        );
        const bytes = Buffer.from(await Body!.transformToByteArray());
        // "bytes 0-4099/100898": the total after the slash. A server that ignores the range sends it all.
        const total = ContentRange ? Number(ContentRange.slice(ContentRange.lastIndexOf('/') + 1)) : NaN;
        const size = Number.isSafeInteger(total) ? total : (ContentLength ?? bytes.length);
        return { bytes: bytes.subarray(0, length), size };
      } catch (error) {
        if (missing(error)) throw new ObjectNotFoundError(key, `bucket "${bucket}"`);
        // A range of an empty object is unsatisfiable (416): its start is all of it.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416)
          return { bytes: Buffer.alloc(0), size: 0 };
        throw failure(error, `GET (range) "${key}"`);
      }
    },

    async read(key) {
      assertKey(key);
      try {
        const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (!(Body instanceof Readable)) throw new Error('the SDK returned no Node stream');
        return Body;
      } catch (error) {
        if (missing(error)) throw new ObjectNotFoundError(key, `bucket "${bucket}"`);
        throw failure(error, `GET "${key}"`);
      }
    },

    async write(key, body, contentType) {
      assertKey(key);
      assertContentType(contentType);
      if (Buffer.isBuffer(body)) return put(key, body, contentType);
      return putStream(key, body, contentType);
    },

    async move(from, to) {
      assertKey(from);
      assertKey(to);
      if (from === to) return;
      try {
        await client.send(
          new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${encodeKey(from)}` }),
        );
      } catch (error) {
        if (missing(error)) throw new ObjectNotFoundError(from, `bucket "${bucket}"`);
        throw failure(error, `COPY "${from}" to "${to}"`);
      }
      await s3(`DELETE "${from}" (after copying it to "${to}")`, () =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: from })),
      );
    },

    async delete(keys) {
      for (const key of keys) assertKey(key);
      for (let start = 0; start < keys.length; start += DELETE_BATCH) {
        const batch = keys.slice(start, start + DELETE_BATCH);
        const { Errors: errors } = await s3(`DELETE of ${batch.length} objects`, () =>
          client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        );
        if (errors?.length) {
          const listed = errors
            .slice(0, 3)
            .map((e) => `"${e.Key}" (${e.Code}: ${e.Message})`)
            .join(', ');
          throw new Error(
            `S3 DELETE in bucket "${bucket}" at ${where} failed for ${errors.length} of ${batch.length} objects: ${listed}`,
          );
        }
      }
    },

    async *list(prefix) {
      assertPrefix(prefix);
      // ListObjects (v1) pages by marker: every S3-compatible service serves it, and s3rver's
      // ListObjectsV2 continuation tokens need DES, which Node's OpenSSL 3 no longer has.
      let marker: string | undefined;
      for (;;) {
        const page = await s3(`LIST "${prefix}"`, () => listPage(prefix, marker));
        const contents = page.Contents ?? [];
        for (const object of contents) {
          yield {
            key: object.Key!,
            size: object.Size ?? 0,
            contentType: undefined,
            lastModified: object.LastModified ?? new Date(0),
          } satisfies StoredObject;
        }
        const last = contents.at(-1)?.Key;
        if (!page.IsTruncated || last === undefined) return;
        marker = page.NextMarker ?? last;
      }
    },

    close() {
      client.destroy();
    },
  };

  function listPage(prefix: string, marker: string | undefined) {
    return client.send(
      new ListObjectsCommand({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: pageSize,
        ...(marker === undefined ? {} : { Marker: marker }),
      }),
    );
  }
}

/** The stream cut into Buffers of `size` bytes (the last one shorter). */
async function* partsOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    pending.push(bytes);
    pendingBytes += bytes.length;
    while (pendingBytes >= size) {
      const joined = Buffer.concat(pending, pendingBytes);
      yield joined.subarray(0, size);
      pending = [joined.subarray(size)];
      pendingBytes = joined.length - size;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}
