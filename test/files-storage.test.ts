/**
 * The files plugin's storage port: one contract, run against the S3 adapter (the real AWS SDK
 * against s3rver, which test/support/s3-server.ts makes check presigned signatures) and the local
 * adapter (its route served by an in-process HTTP server). Presigned URLs are used with fetch, as
 * a browser uses them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createLocalStorage, type LocalFileStorage } from '../plugins/files/storage-local.ts';
import { createS3Storage, type S3StorageOptions } from '../plugins/files/storage-s3.ts';
import {
  attachmentDisposition,
  type FileStorage,
  InvalidKeyError,
  ObjectNotFoundError,
  type StoredObject,
} from '../plugins/files/storage.ts';
import { startS3Server } from './support/s3-server.ts';

interface Harness {
  storage: FileStorage;
  /** Another adapter on the same store whose clock reads `now` (to sign URLs that have expired). */
  storageAt(now: () => Date): FileStorage;
  close(): Promise<void>;
}

const PART = 5 * 1024 * 1024;

async function startS3(): Promise<Harness & { options: S3StorageOptions }> {
  const s3 = await startS3Server();
  const options: S3StorageOptions = {
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    // Small pages and parts, so a few objects span pages and a 6 MiB stream is written in parts.
    pageSize: 2,
    partSize: PART,
  };
  const storage = createS3Storage(options);
  const others: FileStorage[] = [];
  return {
    options,
    storage,
    storageAt(now) {
      const other = createS3Storage({ ...options, now });
      others.push(other);
      return other;
    },
    async close() {
      for (const other of [storage, ...others]) other.close();
      await s3.close();
    },
  };
}

const ROUTE = '/files/local';

async function startLocal(): Promise<
  Harness & { storage: LocalFileStorage; dir: string; port: number; secret: string }
> {
  const dir = await mkdtemp(join(tmpdir(), 'plugboard-files-'));
  const secret = randomBytes(32).toString('hex');
  let storage: LocalFileStorage | undefined;
  const server: Server = createServer((request, response) => {
    storage!.handle(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const options = { dir, baseUrl: `http://127.0.0.1:${port}`, secret, routePath: ROUTE };
  storage = createLocalStorage(options);
  return {
    storage,
    dir,
    port,
    secret,
    storageAt: (now) => createLocalStorage({ ...options, now }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The URL with the last hex digit of its signature changed. */
function forged(url: string): string {
  const parsed = new URL(url);
  const name = parsed.searchParams.has('signature') ? 'signature' : 'X-Amz-Signature';
  const signature = parsed.searchParams.get(name)!;
  parsed.searchParams.set(name, signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0'));
  return parsed.toString();
}

const put = (url: string, body: Buffer, contentType: string) =>
  fetch(url, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': contentType } });

describe.each([
  { kind: 's3', start: startS3 },
  { kind: 'local', start: startLocal },
])('the $kind adapter passes the storage contract', ({ kind, start }) => {
  let harness: Harness;
  let storage: FileStorage;
  beforeAll(async () => {
    harness = await start();
    storage = harness.storage;
  });
  afterAll(() => harness?.close());

  test('its kind is the one asked for, and its store is usable', async () => {
    expect(storage.kind).toBe(kind);
    await expect(storage.check()).resolves.toBeUndefined();
  });

  test('write, head, readStart and read give back what was written', async () => {
    const before = Date.now();
    await storage.write('objects/a b/ü.txt', Buffer.from('hello, storage'), 'text/plain');
    const head = await storage.head('objects/a b/ü.txt');
    expect(head).toMatchObject({ key: 'objects/a b/ü.txt', size: 14, contentType: 'text/plain' });
    // Stores keep whole seconds.
    expect(head!.lastModified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    // The first bytes, and the whole size from the same request.
    const start = await storage.readStart('objects/a b/ü.txt', 5);
    expect([start.bytes.toString(), start.size]).toEqual(['hello', 14]);
    const all = await storage.readStart('objects/a b/ü.txt', 4096);
    expect([all.bytes.toString(), all.size]).toEqual(['hello, storage', 14]);
    expect(await text(await storage.read('objects/a b/ü.txt'))).toBe('hello, storage');

    await storage.write('objects/a b/ü.txt', Buffer.from('{}'), 'application/json');
    expect(await storage.head('objects/a b/ü.txt')).toMatchObject({ size: 2, contentType: 'application/json' });
  });

  test('a missing object: head is null, reading it and moving it fail with ObjectNotFoundError', async () => {
    expect(await storage.head('objects/missing')).toBeNull();
    await expect(storage.readStart('objects/missing', 10)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.read('objects/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(storage.move('objects/missing', 'objects/elsewhere')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  test('a stream over one part is written whole', async () => {
    const bytes = randomBytes(PART + 1024 * 1024 + 123);
    const chunks = function* () {
      for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
    };
    await storage.write('streams/big.bin', Readable.from(chunks()), 'application/octet-stream');
    expect(await storage.head('streams/big.bin')).toMatchObject({
      size: bytes.length,
      contentType: 'application/octet-stream',
    });
    expect(sha256(await readAll(await storage.read('streams/big.bin')))).toBe(sha256(bytes));

    await storage.write('streams/empty.bin', Readable.from([]), 'application/octet-stream');
    expect(await storage.head('streams/empty.bin')).toMatchObject({ size: 0 });
  });

  test('list yields every object under a prefix in key order, page after page', async () => {
    const keys = ['list/c', 'list/b/2', 'list/a', 'list/b/1', 'listx', 'lis'];
    for (const key of keys) await storage.write(key, Buffer.from(key), 'text/plain');
    const listed = async (prefix: string) => (await all(storage.list(prefix))).map((object) => object.key);

    expect(await listed('list/')).toEqual(['list/a', 'list/b/1', 'list/b/2', 'list/c']);
    expect(await listed('list/b')).toEqual(['list/b/1', 'list/b/2']);
    expect(await listed('list')).toEqual(['list/a', 'list/b/1', 'list/b/2', 'list/c', 'listx']);
    expect(await listed('nothing/')).toEqual([]);
    await expect(all(storage.list('../'))).rejects.toBeInstanceOf(InvalidKeyError);
    const [first] = await all(storage.list('list/a'));
    expect(first).toMatchObject({ key: 'list/a', size: 6 } satisfies Partial<StoredObject>);
    expect(first!.lastModified).toBeInstanceOf(Date);
  });

  test('move takes the object and its content type to the new key', async () => {
    await storage.write('uploads/m/original', Buffer.from('suspicious'), 'image/png');
    await storage.move('uploads/m/original', 'quarantine/uploads/m/original');
    expect(await storage.head('uploads/m/original')).toBeNull();
    expect(await storage.head('quarantine/uploads/m/original')).toMatchObject({ size: 10, contentType: 'image/png' });
    expect(await all(storage.list('uploads/m/'))).toEqual([]);
  });

  test('delete removes the objects named, missing ones included, and nothing else', async () => {
    for (const key of ['del/a', 'del/b', 'del/keep']) await storage.write(key, Buffer.from(key), 'text/plain');
    await storage.delete(['del/a', 'del/b', 'del/never-written']);
    await storage.delete([]);
    expect((await all(storage.list('del/'))).map((object) => object.key)).toEqual(['del/keep']);
  });

  test.each(['../escape', 'a/../../escape', '/etc/passwd', 'a\u0000b', '', 'a//b', 'a/', 'a/./b', 'a\\b'])(
    'the key %j is refused by every operation',
    async (key) => {
      await expect(storage.write(key, Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.head(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.read(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(
        storage.presignPut(key, { contentType: 'text/plain', size: 1, expiresInSeconds: 60 }),
      ).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.presignGet(key, { expiresInSeconds: 60 })).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.move('objects/anything', key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.delete([key])).rejects.toBeInstanceOf(InvalidKeyError);
    },
  );

  test('a presigned PUT then a presigned GET, over HTTP as a browser does, round-trip the bytes and type', async () => {
    const bytes = randomBytes(70_000);
    const upload = await storage.presignPut('uploads/p/original', {
      contentType: 'image/png',
      size: bytes.length,
      expiresInSeconds: 60,
    });
    const stored = await put(upload, bytes, 'image/png');
    expect(stored.status).toBe(200);
    expect(await storage.head('uploads/p/original')).toMatchObject({ size: bytes.length, contentType: 'image/png' });

    const download = await storage.presignGet('uploads/p/original', {
      expiresInSeconds: 60,
      fileName: 'Photo "ü" 1.png',
    });
    const response = await fetch(download);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="Photo ___ 1.png"; filename*=UTF-8''Photo%20%22%C3%BC%22%201.png`,
    );
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(bytes));

    const plain = await fetch(await storage.presignGet('uploads/p/original', { expiresInSeconds: 60 }));
    expect(plain.headers.get('content-disposition')).toBeNull();
    expect(Buffer.from(await plain.arrayBuffer()).equals(bytes)).toBe(true);
  });

  test('a presigned PUT of another size or another content type is refused and stores nothing', async () => {
    const url = await storage.presignPut('uploads/q/original', {
      contentType: 'image/png',
      size: 100,
      expiresInSeconds: 60,
    });
    const longer = await put(url, randomBytes(101), 'image/png');
    const shorter = await put(url, randomBytes(99), 'image/png');
    const retyped = await put(url, randomBytes(100), 'text/html');
    for (const response of [longer, shorter, retyped]) expect([400, 403]).toContain(response.status);
    expect(retyped.status).toBe(403);
    expect(await storage.head('uploads/q/original')).toBeNull();
    // The same URL still takes the upload it was signed for.
    expect((await put(url, randomBytes(100), 'image/png')).status).toBe(200);
  });

  test('a forged signature is refused with 403', async () => {
    const url = await storage.presignPut('uploads/f/original', {
      contentType: 'image/png',
      size: 4,
      expiresInSeconds: 60,
    });
    expect((await put(forged(url), Buffer.from('abcd'), 'image/png')).status).toBe(403);
    expect(await storage.head('uploads/f/original')).toBeNull();
    await storage.write('uploads/f/original', Buffer.from('abcd'), 'image/png');
    const download = await storage.presignGet('uploads/f/original', { expiresInSeconds: 60 });
    expect((await fetch(forged(download))).status).toBe(403);
    expect((await fetch(download)).status).toBe(200);
  });

  test('an expired URL is refused with 403', async () => {
    // Signed two minutes ago, valid for one.
    const past = harness.storageAt(() => new Date(Date.now() - 120_000));
    const upload = await past.presignPut('uploads/e/original', {
      contentType: 'image/png',
      size: 4,
      expiresInSeconds: 60,
    });
    expect((await put(upload, Buffer.from('abcd'), 'image/png')).status).toBe(403);
    expect(await storage.head('uploads/e/original')).toBeNull();
    await storage.write('uploads/e/original', Buffer.from('abcd'), 'image/png');
    const download = await past.presignGet('uploads/e/original', { expiresInSeconds: 60 });
    expect((await fetch(download)).status).toBe(403);
  });

  test('presigning refuses an expiry, a size or a content type it cannot honour', async () => {
    const key = 'uploads/x/original';
    await expect(storage.presignPut(key, { contentType: 'image/png', size: 1, expiresInSeconds: 0 })).rejects.toThrow(
      /expiresInSeconds/,
    );
    await expect(storage.presignGet(key, { expiresInSeconds: 8 * 24 * 3600 })).rejects.toThrow(/expiresInSeconds/);
    await expect(storage.presignPut(key, { contentType: 'image/png', size: -1, expiresInSeconds: 60 })).rejects.toThrow(
      /size/,
    );
    await expect(
      storage.presignPut(key, { contentType: 'text/html\r\nx-evil: 1', size: 1, expiresInSeconds: 60 }),
    ).rejects.toThrow(/content type/);
  });
});

describe('the S3 adapter names what failed, never the secret', () => {
  let harness: Awaited<ReturnType<typeof startS3>>;
  const secret = 'a-secret-that-must-never-be-printed';
  beforeAll(async () => {
    harness = await startS3();
  });
  afterAll(() => harness?.close());

  test('a bucket that does not exist', async () => {
    const storage = createS3Storage({ ...harness.options, bucket: 'no-such-bucket', secretAccessKey: secret });
    try {
      await expect(storage.check()).rejects.toThrow(
        `S3 bucket "no-such-bucket" at ${harness.options.endpoint} does not exist`,
      );
      const failure = await storage.write('a', Buffer.from('x'), 'text/plain').catch((error: Error) => error);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toBe(
        `S3 PUT "a" in bucket "no-such-bucket" at ${harness.options.endpoint} failed: the bucket does not exist`,
      );
    } finally {
      storage.close();
    }
  });

  test('credentials the service refuses', async () => {
    const storage = createS3Storage({ ...harness.options, accessKeyId: 'NOT-AN-ACCOUNT', secretAccessKey: secret });
    try {
      const failure = (await storage
        .write('a', Buffer.from('x'), 'text/plain')
        .catch((error: Error) => error)) as Error;
      expect(failure.message).toMatch(
        /^S3 PUT "a" in bucket "plugboard-test" at http:\/\/127\.0\.0\.1:\d+ failed: the service refused the credentials or their permissions \(InvalidAccessKeyId/,
      );
      expect(failure.message).not.toContain(secret);
      await expect(storage.check()).rejects.toThrow(/refused the credentials/);
    } finally {
      storage.close();
    }
  });

  test('an endpoint nothing listens on', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const endpoint = `http://user:${secret}@127.0.0.1:${port}`;
    const storage = createS3Storage({ ...harness.options, endpoint, secretAccessKey: secret });
    try {
      const failure = (await storage.head('a').catch((error: Error) => error)) as Error;
      expect(failure.message).toBe(
        `S3 HEAD "a" in bucket "plugboard-test" at http://127.0.0.1:${port} failed: the endpoint cannot be reached (ECONNREFUSED)`,
      );
      expect(failure.message).not.toContain(secret);
    } finally {
      storage.close();
    }
  });
});

describe('the S3 adapter presigns as the SDK does', () => {
  const signingDate = new Date('2026-12-05T12:34:56Z');
  const keys = ['uploads/0b0c9a55-3f1c-4d56-9a1e-5f0a6c1d2e3f', 'a b/ü.txt', "it's (1)*!~+&=;,$@.png", 'x/y%z/-_.'];
  test.each([
    {
      where: 'a path-style endpoint',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'plugboard',
      forcePathStyle: true,
    },
    {
      where: 'an endpoint with a path and no port',
      endpoint: 'https://storage.example.com/s3',
      region: 'auto',
      bucket: 'files',
      forcePathStyle: true,
    },
    {
      where: 'an endpoint with credentials in its URL',
      endpoint: 'http://user:pass@127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'b',
      forcePathStyle: true,
    },
    {
      where: 'AWS, virtual-hosted',
      endpoint: undefined,
      region: 'eu-west-3',
      bucket: 'plugboard-files',
      forcePathStyle: false,
    },
    {
      where: 'AWS, a bucket with dots',
      endpoint: undefined,
      region: 'us-east-1',
      bucket: 'files.example.com',
      forcePathStyle: false,
    },
    {
      where: 'AWS, path style',
      endpoint: undefined,
      region: 'ap-southeast-2',
      bucket: 'plugboard-files',
      forcePathStyle: true,
    },
  ])(
    '$where: the same URLs as getSignedUrl for the same commands',
    async ({ endpoint, region, bucket, forcePathStyle }) => {
      const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
      const storage = createS3Storage({
        ...(endpoint ? { endpoint } : {}),
        region,
        bucket,
        forcePathStyle,
        ...credentials,
        now: () => signingDate,
      });
      const client = new S3Client({
        region,
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle,
        credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      try {
        for (const key of keys) {
          expect(
            await storage.presignPut(key, { contentType: 'image/png', size: 100_898, expiresInSeconds: 900 }),
          ).toBe(
            await getSignedUrl(
              client,
              new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: 'image/png', ContentLength: 100_898 }),
              { expiresIn: 900, signingDate, signableHeaders: new Set(['content-type', 'content-length']) },
            ),
          );
          expect(await storage.presignGet(key, { expiresInSeconds: 60 })).toBe(
            await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), {
              expiresIn: 60,
              signingDate,
            }),
          );
          expect(await storage.presignGet(key, { expiresInSeconds: 60, fileName: 'Photo "ü" (1).png' })).toBe(
            await getSignedUrl(
              client,
              new GetObjectCommand({
                Bucket: bucket,
                Key: key,
                ResponseContentDisposition: attachmentDisposition('Photo "ü" (1).png'),
              }),
              { expiresIn: 60, signingDate },
            ),
          );
        }
      } finally {
        storage.close();
        client.destroy();
      }
    },
  );
});

describe('the local adapter', () => {
  let harness: Awaited<ReturnType<typeof startLocal>>;
  beforeAll(async () => {
    harness = await startLocal();
  });
  afterAll(() => harness?.close());

  /** A raw request (no URL normalisation, any framing) to the route; resolves on the answer. */
  function raw(
    method: string,
    path: string,
    headers: Record<string, string | number>,
    send: (request: ReturnType<typeof httpRequest>) => void = (request) => request.end(),
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        { host: '127.0.0.1', port: harness.port, method, path, headers },
        (response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            resolve({ status: response.statusCode!, body: Buffer.concat(chunks).toString() });
            request.destroy();
          });
        },
      );
      // The server may close the connection under a body it refused.
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      send(request);
    });
  }
  const pathOf = (url: string) => url.slice(url.indexOf(ROUTE));
  const temporaryFiles = () => readdir(join(harness.dir, 'tmp'));

  test('a key with ".." in the URL is refused with 400 and nothing is written outside the directory', async () => {
    const url = await harness.storage.presignPut('safe/name', {
      contentType: 'text/plain',
      size: 1,
      expiresInSeconds: 60,
    });
    const query = url.slice(url.indexOf('?'));
    const encoded = await raw(
      'PUT',
      `${ROUTE}/..%2F..%2Fescaped${query}`,
      { 'content-type': 'text/plain', 'content-length': 1 },
      (r) => r.end('x'),
    );
    expect(encoded.status).toBe(400);
    expect(JSON.parse(encoded.body).errors[0].message).toContain('".." segment');
    const plain = await raw(
      'PUT',
      `${ROUTE}/a/../../../escaped${query}`,
      { 'content-type': 'text/plain', 'content-length': 1 },
      (r) => r.end('x'),
    );
    expect(plain.status).toBe(400);
    expect(await readdir(harness.dir)).toEqual(expect.not.arrayContaining(['escaped']));
    expect(await readdir(join(harness.dir, '..'))).toEqual(expect.not.arrayContaining(['escaped']));
  });

  test('a tampered size or type in a signed URL is refused with 403', async () => {
    const url = new URL(
      await harness.storage.presignPut('t/original', { contentType: 'image/png', size: 4, expiresInSeconds: 60 }),
    );
    url.searchParams.set('size', '5');
    expect((await put(url.toString(), Buffer.from('abcde'), 'image/png')).status).toBe(403);
    url.searchParams.set('size', '4');
    url.searchParams.set('type', 'text/html');
    expect((await put(url.toString(), Buffer.from('abcd'), 'text/html')).status).toBe(403);
    expect(await harness.storage.head('t/original')).toBeNull();
  });

  test('a chunked body over the signed size is cut off as soon as it passes it (400), and leaves no file', async () => {
    const url = await harness.storage.presignPut('c/original', {
      contentType: 'image/png',
      size: 1000,
      expiresInSeconds: 60,
    });
    // The request is never ended: only a server that stops reading at the size can answer.
    const answer = await raw(
      'PUT',
      pathOf(url),
      { 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
      (request) => {
        request.write(randomBytes(600));
        request.write(randomBytes(600));
      },
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' } });
    expect(await harness.storage.head('c/original')).toBeNull();
    expect(await temporaryFiles()).toEqual([]);

    const short = await raw(
      'PUT',
      pathOf(url),
      { 'content-type': 'image/png', 'transfer-encoding': 'chunked' },
      (request) => request.end(randomBytes(999)),
    );
    expect(short.status).toBe(400);
    expect(JSON.parse(short.body).errors[0].message).toContain('999 were sent');
    expect(await temporaryFiles()).toEqual([]);
  });

  test('a declared Content-Length other than the signed size is refused before the body is read', async () => {
    const url = await harness.storage.presignPut('d/original', {
      contentType: 'image/png',
      size: 10,
      expiresInSeconds: 60,
    });
    const answer = await raw(
      'PUT',
      pathOf(url),
      { 'content-type': 'image/png', 'content-length': 10_000_000 },
      (request) => request.write(randomBytes(10)),
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).errors[0].message).toContain('Content-Length says 10000000');
  });

  test('other methods are answered 405, a missing object 404, an unsigned URL 403', async () => {
    const url = await harness.storage.presignGet('never/written', { expiresInSeconds: 60 });
    expect((await fetch(url)).status).toBe(404);
    const deleted = await fetch(url, { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toBe('GET, PUT');
    expect((await fetch(url.slice(0, url.indexOf('?')))).status).toBe(403);
  });

  test('a GET with a Range header gets those bytes (206), as video players ask', async () => {
    await harness.storage.write('r/video', Buffer.from('0123456789'), 'video/mp4');
    const url = await harness.storage.presignGet('r/video', { expiresInSeconds: 60 });
    const partial = await fetch(url, { headers: { range: 'bytes=2-5' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await partial.text()).toBe('2345');
    expect((await fetch(url, { headers: { range: 'bytes=20-' } })).status).toBe(416);
  });

  test('served files may run no script on the gateway origin', async () => {
    await harness.storage.write('h/page', Buffer.from('<script>alert(1)</script>'), 'text/html');
    const response = await fetch(await harness.storage.presignGet('h/page', { expiresInSeconds: 60 }));
    expect(response.headers.get('content-security-policy')).toContain('sandbox');
  });

  test('browsers of the configured origins may upload across origins (CORS), others may not', async () => {
    const storage = createLocalStorage({
      dir: harness.dir,
      baseUrl: 'http://127.0.0.1',
      secret: harness.secret,
      routePath: ROUTE,
      corsOrigins: ['https://app.example'],
    });
    const server = createServer((request, response) => void storage.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ROUTE}/cors/original`;
    const preflight = (origin: string) =>
      fetch(at, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' },
      });
    try {
      const allowed = await preflight('https://app.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, PUT');
      const other = await preflight('https://evil.example');
      expect(other.status).toBe(405);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a short secret or a bad route path is refused at creation', () => {
    const options = { dir: harness.dir, baseUrl: 'http://127.0.0.1', secret: harness.secret, routePath: ROUTE };
    expect(() => createLocalStorage({ ...options, secret: 'short' })).toThrow(/at least 32 characters/);
    expect(() => createLocalStorage({ ...options, routePath: 'files/' })).toThrow(/routePath/);
    expect(() => createLocalStorage({ ...options, baseUrl: 'not a url' })).toThrow(/baseUrl/);
  });

  test('list orders keys by their bytes, as S3 does, not folder by folder', async () => {
    // s3rver walks its folders instead, so this is checked here only: '-' (0x2d) < '/' (0x2f).
    for (const key of ['order/a/1', 'order/a-b', 'order/a.c', 'order/a0']) {
      await harness.storage.write(key, Buffer.from(key), 'text/plain');
    }
    expect((await all(harness.storage.list('order/'))).map((object) => object.key)).toEqual([
      'order/a-b',
      'order/a.c',
      'order/a/1',
      'order/a0',
    ]);
  });

  test('a key that is also a folder of other keys is refused with a clear error', async () => {
    await harness.storage.write('nested/a/b', Buffer.from('x'), 'text/plain');
    await expect(harness.storage.write('nested/a', Buffer.from('x'), 'text/plain')).rejects.toThrow(
      /cannot store "nested\/a" .*a key cannot also be the folder of other keys/i,
    );
    expect(await temporaryFiles()).toEqual([]);
  });
});
