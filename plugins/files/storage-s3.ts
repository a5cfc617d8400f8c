/**
 * The storage port on any S3-compatible service (AWS S3, MinIO, R2, B2's S3 API) through the AWS
 * SDK. Presigned PUT URLs sign Content-Type and Content-Length, so the service itself refuses an
 * upload of another type or size. Every failure the service or the network reports becomes an
 * Error that names the operation, the bucket and the endpoint (never the credentials).
 *
 * What every upload does (presigning, and completeUpload's ranged GET) skips the SDK's command
 * stack, which costs ~0.25 ms of CPU a presign and ~0.6 ms a GET here: the bucket's address is
 * resolved once by the SDK (a presign of a probe key), then each request is signed with the SDK's
 * own signers and the GET sent through the client's own HTTP handler. Anything but a plain answer
 * (an error status, a network failure) is asked again through the SDK's command, which retries
 * and reports it as every other operation does.
 */
import type { IncomingMessage } from 'node:http';
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
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
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

/** encodeURIComponent, and `!'()*` too, as the SDK encodes path segments and query parts (RFC 3986). */
const escapeUri = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
/** SHA-256 of an empty body, the payload hash of a GET. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The key the bucket's address is learnt from. */
const PROBE_KEY = 'probe';

/** A request as the SDK's signers and HTTP handler take it. */
interface SignableRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  username?: string;
  password?: string;
}

/** Where the bucket's objects are, as the SDK resolved it, and what their requests are signed for. */
interface BucketAddress {
  protocol: string;
  hostname: string;
  port: number | undefined;
  /** `host` header: hostname, and the port when the URL names one. */
  host: string;
  /** The path before an object's key: `/bucket/` path-style, `/` for a virtual host. */
  prefix: string;
  username: string;
  password: string;
  signingRegion: string;
  signingService: string;
}

/** A request as a URL, as the SDK's presigned URLs are written (query sorted, RFC 3986 escaped). */
function formatUrl(request: SignableRequest): string {
  const query = Object.keys(request.query)
    .sort()
    .map((name) => `${escapeUri(name)}=${escapeUri(request.query[name]!)}`)
    .join('&');
  const auth =
    request.username || request.password
      ? `${escapeUri(request.username ?? '')}${request.password ? `:${escapeUri(request.password)}` : ''}@`
      : '';
  const port = request.port === undefined ? '' : `:${request.port}`;
  return `${request.protocol}//${auth}${request.hostname}${port}${request.path}${query ? `?${query}` : ''}`;
}

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
  const credentials = { accessKeyId: options.accessKeyId, secretAccessKey };
  // The SDK's signers, configured as getSignedUrl and the client configure theirs.
  const presigner = new S3RequestPresigner({ ...client.config });
  let address: Promise<BucketAddress> | undefined;
  /** The bucket's address, resolved by the SDK once (endpoint rules, path or virtual-host style, signing region). */
  const bucketAddress = (): Promise<BucketAddress> => {
    address ??= (async () => {
      const probe = new URL(
        await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY }), { expiresIn: 60 }),
      );
      const [, , signingRegion, signingService] = (probe.searchParams.get('X-Amz-Credential') ?? '').split('/');
      if (!probe.pathname.endsWith(`/${PROBE_KEY}`) || !signingRegion || !signingService)
        throw new Error(`S3 presigning in bucket "${bucket}" at ${where} gave an unexpected URL`);
      return {
        protocol: probe.protocol,
        hostname: probe.hostname,
        port: probe.port === '' ? undefined : Number(probe.port),
        host: probe.host,
        prefix: probe.pathname.slice(0, -PROBE_KEY.length),
        username: decodeURIComponent(probe.username),
        password: decodeURIComponent(probe.password),
        signingRegion,
        signingService,
      };
    })();
    address.catch(() => (address = undefined));
    return address;
  };
  let headerSigner: SignatureV4 | undefined;
  /** A request for `key` in the bucket (its path encoded as the SDK encodes a key). */
  const requestFor = async (
    method: string,
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
  ): Promise<{ request: SignableRequest; at: BucketAddress }> => {
    const at = await bucketAddress();
    const request: SignableRequest = {
      method,
      protocol: at.protocol,
      hostname: at.hostname,
      ...(at.port === undefined ? {} : { port: at.port }),
      path: at.prefix + key.split('/').map(escapeUri).join('/'),
      query,
      headers: { host: at.host, ...headers },
      ...(at.username ? { username: at.username } : {}),
      ...(at.password ? { password: at.password } : {}),
    };
    return { request, at };
  };
  /** A presigned URL, as getSignedUrl writes it for the same command (test/files-storage.test.ts compares them). */
  const presign = async (
    method: 'GET' | 'PUT',
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    expiresIn: number,
  ): Promise<string> => {
    const { request, at } = await requestFor(method, key, query, headers);
    const signed = await presigner.presign(request, {
      expiresIn,
      signingDate: now(),
      signableHeaders: new Set(Object.keys(headers)),
      signingRegion: at.signingRegion,
      signingService: at.signingService,
    });
    return formatUrl({ ...request, query: signed.query as Record<string, string> });
  };

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
      // Both headers signed: the service refuses a body of any other type or length.
      return presign(
        'PUT',
        key,
        { 'x-id': 'PutObject' },
        { 'content-length': String(size), 'content-type': contentType },
        expiresInSeconds,
      );
    },

    async presignGet(key, { expiresInSeconds, fileName }) {
      assertKey(key);
      assertPresignOptions({ expiresInSeconds });
      const query: Record<string, string> = { 'x-id': 'GetObject' };
      if (fileName !== undefined) query['response-content-disposition'] = attachmentDisposition(fileName);
      return presign('GET', key, query, {}, expiresInSeconds);
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
      const quick = await readStartQuickly(key, length).catch(() => null);
      if (quick) return quick;
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

  /**
   * readStart without the SDK's command stack: a ranged GET signed in its Authorization header by
   * the SDK's signer, sent through the client's HTTP handler. Null when the answer is not a plain
   * 206 or 200 (readStart then asks through the SDK, which retries and names the failure).
   */
  async function readStartQuickly(key: string, length: number): Promise<{ bytes: Buffer; size: number } | null> {
    const { request, at } = await requestFor(
      'GET',
      key,
      { 'x-id': 'GetObject' },
      { range: `bytes=0-${length - 1}`, 'x-amz-content-sha256': EMPTY_SHA256 },
    );
    headerSigner ??= new SignatureV4({
      credentials,
      region: at.signingRegion,
      service: at.signingService,
      sha256: client.config.sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await headerSigner.sign(request, { signingDate: now() });
    const { response } = (await client.config.requestHandler.handle(signed)) as {
      response: { statusCode: number; headers: Record<string, string | undefined>; body: IncomingMessage };
    };
    const body = response.body;
    if (response.statusCode !== 206 && response.statusCode !== 200) {
      body.destroy();
      return null;
    }
    // A ranged answer is read to its end, so its connection serves the next request. A server that
    // ignores the range sends it all: only the first `length` bytes are read, then it is cut.
    const chunks: Buffer[] = [];
    let read = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      read += chunk.length;
      if ((read >= length && response.statusCode === 200) || read > length) break;
    }
    const bytes = Buffer.concat(chunks, read).subarray(0, length);
    const range = response.headers['content-range'];
    // "bytes 0-4099/100898": the total after the slash.
    const total = range ? Number(range.slice(range.lastIndexOf('/') + 1)) : Number(response.headers['content-length']);
    if (!Number.isSafeInteger(total)) return null;
    return { bytes, size: total };
  }

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
