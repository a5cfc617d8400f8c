/**
 * Resumable uploads (plugins/files/tus.ts) with the real tus client, tus-js-client, against an
 * in-process HTTP server whose session comes from an `x-test-user` header, on both stores: a
 * temporary directory, and S3. The S3 peer is moto's server (moto_server, in the machine image):
 * s3rver 3.7 answers ListParts and AbortMultipartUpload with MethodNotAllowed, and @tus/s3-store
 * lists the parts on every PATCH and HEAD.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DetailedError, type PreviousUpload, Upload, type UploadOptions, type UrlStorage } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { startMotoServer } from './support/moto-server.ts';
import { InputError, type PluginErrors, type Session } from '../gateway/sdk.ts';
import { createTusUploads, type TusHooks, type TusStorage, type TusUploads } from '../plugins/files/tus.ts';

const MiB = 1024 * 1024;
const MAX_SIZE = 8 * MiB;
const PATH = '/files/tus';
const META = { filename: 'holiday.png', filetype: 'image/png' };
// As plugins/files/index.ts declares them.
const FILES_ERRORS: PluginErrors = {
  FILES_TOO_LARGE: { status: 413, description: 'a file over FILES_MAX_SIZE' },
  FILES_TYPE_NOT_ALLOWED: { status: 415, description: 'a type not in FILES_ALLOWED_TYPES' },
  FILES_TOO_MANY_UPLOADS: { status: 429, description: 'too many uploads started and not completed' },
};

/** A store as the test sees it: its objects, read without going through tus. */
interface Backend {
  storage: TusStorage;
  /** The bytes at a key, or null. */
  read(key: string): Promise<Buffer | null>;
  /** Every object (file) key, and for S3 the keys of multipart uploads in progress. */
  objects(): Promise<string[]>;
  inProgress(): Promise<string[]>;
  close(): Promise<void>;
}

async function localBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'plugboard-tus-'));
  return {
    storage: { kind: 'local', dir },
    read: (key) => readFile(join(dir, key)).catch(() => null),
    objects: async () =>
      (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1)),
    inProgress: async () => [],
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** moto's S3 (test/support/moto-server.ts), with one bucket. */
async function s3Backend(): Promise<Backend> {
  const moto = await startMotoServer();
  const { s3, bucket } = moto;
  return {
    storage: {
      kind: 's3',
      s3: {
        endpoint: moto.endpoint,
        region: moto.region,
        bucket,
        accessKeyId: moto.accessKeyId,
        secretAccessKey: moto.secretAccessKey,
        forcePathStyle: true,
      },
    },
    async read(key) {
      try {
        return Buffer.from(await (await s3.getObject({ Bucket: bucket, Key: key })).Body!.transformToByteArray());
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') return null;
        throw error;
      }
    },
    objects: async () => ((await s3.listObjectsV2({ Bucket: bucket })).Contents ?? []).map((o) => o.Key!),
    inProgress: async () => ((await s3.listMultipartUploads({ Bucket: bucket })).Uploads ?? []).map((u) => u.Key!),
    close: () => moto.close(),
  };
}

/** The plugin's side, in memory: who owns which upload, what was created and finished. */
class MemoryHooks implements TusHooks {
  readonly owners = new Map<string, string>();
  readonly created: { name: string; contentType: string; size: number }[] = [];
  readonly finishedCalls: { id: string; key: string }[] = [];
  createError: Error | null = null;
  finishError: Error | null = null;

  async create(session: Session, file: { name: string; contentType: string; size: number }) {
    if (this.createError) throw this.createError;
    this.created.push(file);
    const id = randomUUID();
    this.owners.set(id, session.userId ?? 'admin');
    return { id, key: `uploads/${id}` };
  }
  async owns(session: Session, id: string) {
    return session.role === 'admin' || this.owners.get(id) === session.userId;
  }
  async finished(id: string, key: string) {
    this.finishedCalls.push({ id, key });
    if (this.finishError) throw this.finishError;
  }
}

function sessionOf(user: string): Session {
  const role = user === 'admin' || user === 'anonymous' ? user : 'user';
  return { role, userId: role === 'user' ? user : null, allowedRoles: [role], variables: {}, via: 'jwt' };
}

/** tus-js-client's record of uploads to resume, kept in memory (the browser keeps it in localStorage). */
class MemoryUrlStorage implements UrlStorage {
  private readonly uploads = new Map<string, PreviousUpload & { fingerprint: string }>();
  async findAllUploads() {
    return [...this.uploads.values()];
  }
  async findUploadsByFingerprint(fingerprint: string) {
    return [...this.uploads.values()].filter((u) => u.fingerprint === fingerprint);
  }
  async removeUpload(key: string) {
    this.uploads.delete(key);
  }
  async addUpload(fingerprint: string, upload: PreviousUpload) {
    const key = `tus::${fingerprint}::${randomUUID()}`;
    this.uploads.set(key, { ...upload, fingerprint, urlStorageKey: key });
    return key;
  }
}

const backends: [string, () => Promise<Backend>][] = [
  ['the local disk', localBackend],
  ['S3', s3Backend],
];

describe.each(backends)('tus uploads to %s', (_name, openBackend) => {
  let backend: Backend;
  let uploads: TusUploads;
  let server: Server;
  let base: string;
  const hooks = new MemoryHooks();
  const logged: string[] = [];
  /** Every PATCH that reached the server: its URL, Upload-Offset and Content-Length. */
  const patches: { url: string; offset: number; bytes: number }[] = [];

  beforeAll(async () => {
    backend = await openBackend();
    uploads = createTusUploads({
      path: PATH,
      maxSize: MAX_SIZE,
      storage: backend.storage,
      hooks,
      errors: FILES_ERRORS,
      log: pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }),
    });
    server = createServer((request, response) => {
      const user = request.headers['x-test-user'];
      if (request.method === 'PATCH')
        patches.push({
          url: request.url!,
          offset: Number(request.headers['upload-offset']),
          bytes: Number(request.headers['content-length']),
        });
      void uploads.handle(request, response, typeof user === 'string' ? sessionOf(user) : null);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await backend?.close();
  });

  function tusOptions(user: string | null, options: UploadOptions = {}): UploadOptions {
    return {
      endpoint: `${base}${PATH}`,
      chunkSize: MiB,
      retryDelays: null,
      metadata: META,
      headers: user === null ? {} : { 'x-test-user': user },
      ...options,
    };
  }

  /** Runs an upload to its end; resolves with its URL, rejects with the client's DetailedError. */
  function send(data: Buffer, options: UploadOptions): Promise<string> {
    return new Promise((resolve, reject) => {
      const upload = new Upload(data, { ...options, onSuccess: () => resolve(upload.url!), onError: reject });
      upload.start();
    });
  }

  /** The status and JSON error code of a failed upload. */
  async function refusal(data: Buffer, options: UploadOptions) {
    const error = await send(data, options).then(
      () => expect.fail('the upload succeeded'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DetailedError);
    const response = (error as DetailedError).originalResponse!;
    const body = response.getBody();
    expect(body).not.toMatch(/\n\s+at /);
    return { status: response.getStatus(), body, code: JSON.parse(body).errors[0].extensions.code as string };
  }

  const keyOf = (url: string) => new URL(url).pathname.slice(PATH.length + 1);
  const idOf = (url: string) => keyOf(url).split('/')[1]!;
  const tus = (user: string | null, headers: Record<string, string> = {}) => ({
    'tus-resumable': '1.0.0',
    ...(user === null ? {} : { 'x-test-user': user }),
    ...headers,
  });

  /** Creates an upload with no bytes yet; returns its absolute URL. */
  async function begin(user: string, size = MiB): Promise<string> {
    const response = await fetch(`${base}${PATH}`, {
      method: 'POST',
      headers: tus(user, {
        'upload-length': String(size),
        'upload-metadata': `filename ${btoa(META.filename)},filetype ${btoa(META.filetype)}`,
      }),
    });
    expect(response.status).toBe(201);
    return new URL(response.headers.get('location')!, base).href;
  }

  /** What the stores hold for one upload (the object, tus's records, an S3 multipart upload). */
  async function leftovers(id: string): Promise<string[]> {
    return [...(await backend.objects()), ...(await backend.inProgress()).map((k) => `multipart ${k}`)].filter((k) =>
      k.includes(id),
    );
  }

  test('a 5 MiB upload in 1 MiB chunks arrives byte-exact at its key; finished is called once; nothing else is left', async () => {
    const data = randomBytes(5 * MiB);
    const url = await send(data, tusOptions('alice'));
    const key = keyOf(url);
    const id = idOf(url);
    expect(key).toBe(`uploads/${id}`);
    expect(hooks.owners.get(id)).toBe('alice');
    expect(hooks.finishedCalls.filter((call) => call.id === id)).toEqual([{ id, key }]);
    expect((await backend.read(key))?.equals(data)).toBe(true);
    expect(patches.filter((p) => p.url.endsWith(key)).map((p) => [p.offset / MiB, p.bytes / MiB])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    // No .info/.json record, no pending part, no multipart upload: only the file.
    expect(await leftovers(id)).toEqual([key]);
    // tus has forgotten it: the URL no longer answers.
    expect((await fetch(url, { method: 'HEAD', headers: tus('alice') })).status).toBe(404);
  });

  test('a file sent with its creation (creation-with-upload) is finished by that one POST', async () => {
    const data = randomBytes(300 * 1024);
    const calls = hooks.finishedCalls.length;
    const patched = patches.length;
    const url = await send(data, tusOptions('alice', { uploadDataDuringCreation: true }));
    const id = idOf(url);
    expect(patches.length).toBe(patched);
    expect(hooks.finishedCalls.slice(calls)).toEqual([{ id, key: keyOf(url) }]);
    expect((await backend.read(keyOf(url)))?.equals(data)).toBe(true);
    expect(await leftovers(id)).toEqual([keyOf(url)]);
  });

  test('an interrupted upload resumes where it stopped, and the server receives each byte once', async () => {
    const data = randomBytes(5 * MiB);
    const urlStorage = new MemoryUrlStorage();
    const first = await new Promise<Upload>((resolve, reject) => {
      const upload: Upload = new Upload(data, {
        ...tusOptions('alice', { urlStorage }),
        onChunkComplete: (_chunk, accepted) => {
          if (accepted === 2 * MiB) void upload.abort().then(() => resolve(upload));
        },
        onError: reject,
      });
      upload.start();
    });
    const key = keyOf(first.url!);
    const id = idOf(first.url!);
    expect(hooks.finishedCalls.some((call) => call.id === id)).toBe(false);
    expect((await fetch(first.url!, { method: 'HEAD', headers: tus('alice') })).headers.get('upload-offset')).toBe(
      String(2 * MiB),
    );

    const url = await new Promise<string>((resolve, reject) => {
      const second: Upload = new Upload(data, {
        ...tusOptions('alice', { urlStorage }),
        onSuccess: () => resolve(second.url!),
        onError: reject,
      });
      void second.findPreviousUploads().then((previous) => {
        expect(previous).toHaveLength(1);
        second.resumeFromPreviousUpload(previous[0]!);
        second.start();
      });
    });
    expect(url).toBe(first.url);
    expect((await backend.read(key))?.equals(data)).toBe(true);
    const sent = patches.filter((p) => p.url.endsWith(key));
    expect(sent.map((p) => p.offset / MiB)).toEqual([0, 1, 2, 3, 4]);
    expect(sent.reduce((total, p) => total + p.bytes, 0)).toBe(data.length);
    expect(hooks.finishedCalls.filter((call) => call.id === id)).toEqual([{ id, key }]);
    expect(await leftovers(id)).toEqual([key]);
  });

  test('a PATCH cut off mid-body keeps what arrived, and the client resumes from the offset the server has', async () => {
    const data = randomBytes(3 * MiB);
    const url = await begin('alice', data.length);
    const key = keyOf(url);
    const cut = request(url, {
      method: 'PATCH',
      headers: tus('alice', {
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'content-length': String(2 * MiB),
      }),
    });
    cut.on('error', () => {});
    cut.write(data.subarray(0, MiB));
    await vi.waitFor(() => expect(patches.some((p) => p.url.endsWith(key))).toBe(true));
    cut.destroy();
    // HEAD waits for the cut PATCH's lock, so a non-zero offset is the one it settled on.
    let kept = 0;
    await vi.waitFor(async () => {
      kept = Number((await fetch(url, { method: 'HEAD', headers: tus('alice') })).headers.get('upload-offset'));
      expect(kept).toBeGreaterThan(0);
    });
    expect(kept).toBeLessThanOrEqual(MiB);

    const resumedFrom = patches.length;
    await send(data, tusOptions('alice', { uploadUrl: url }));
    expect((await backend.read(key))?.equals(data)).toBe(true);
    const resumed = patches.slice(resumedFrom).filter((p) => p.url.endsWith(key));
    expect(resumed[0]!.offset).toBe(kept);
    expect(resumed.reduce((total, p) => total + p.bytes, 0)).toBe(data.length - kept);
  });

  test('anonymous callers get 401 on every tus method but OPTIONS, which answers the CORS preflight', async () => {
    const url = await begin('alice');
    const created = hooks.created.length;
    for (const user of [null, 'anonymous']) {
      expect((await refusal(randomBytes(1000), tusOptions(user))).status).toBe(401);
      for (const method of ['HEAD', 'DELETE', 'PATCH']) {
        const response = await fetch(url, {
          method,
          headers: tus(user, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }),
          ...(method === 'PATCH' ? { body: randomBytes(1000) } : {}),
        });
        expect(response.status, `${method} as ${user}`).toBe(401);
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
      }
    }
    expect(hooks.created.length).toBe(created);

    const preflight = await fetch(`${base}${PATH}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('tus-version')).toBe('1.0.0');
    expect(preflight.headers.get('tus-max-size')).toBe(String(MAX_SIZE));
    expect(preflight.headers.get('tus-extension')).toBe('creation,creation-with-upload,termination');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Upload-Metadata');
  });

  test("another user's HEAD, PATCH and DELETE get 403; the owner and an admin may; unknown uploads are 404", async () => {
    const url = await begin('alice');
    const offset = { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' };
    expect((await fetch(url, { method: 'HEAD', headers: tus('bob') })).status).toBe(403);
    const patch = await fetch(url, { method: 'PATCH', headers: tus('bob', offset), body: randomBytes(1000) });
    expect(patch.status).toBe(403);
    expect((await patch.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await fetch(url, { method: 'DELETE', headers: tus('bob') })).status).toBe(403);

    for (const user of ['alice', 'admin']) {
      const head = await fetch(url, { method: 'HEAD', headers: tus(user) });
      expect(head.status, user).toBe(200);
      expect(head.headers.get('upload-offset')).toBe('0');
    }
    const unknown = [`${base}${PATH}/uploads/${randomUUID()}`, `${base}${PATH}/..%2Fsecrets`, `${base}${PATH}/tus/x`];
    for (const target of unknown) {
      expect((await fetch(target, { method: 'HEAD', headers: tus('alice') })).status, target).toBe(404);
      expect((await fetch(target, { method: 'PATCH', headers: tus('alice', offset), body: 'x' })).status).toBe(404);
    }
  });

  test('an upload over maxSize is refused with 413 before anything is stored or reserved', async () => {
    const before = [await backend.objects(), await backend.inProgress()];
    const created = hooks.created.length;
    const refused = await refusal(randomBytes(MAX_SIZE + 1), tusOptions('alice'));
    expect(refused).toMatchObject({ status: 413, code: 'FILES_TOO_LARGE' });
    expect(refused.body).toContain(String(MAX_SIZE));
    expect(hooks.created.length).toBe(created);
    expect([await backend.objects(), await backend.inProgress()]).toEqual(before);
  });

  test.each([
    ['filename', { filetype: 'image/png' }],
    ['filetype', { filename: 'holiday.png' }],
    ['filename and filetype', {}],
  ])('an upload without %s in its metadata is refused with 400', async (_missing, metadata) => {
    const created = hooks.created.length;
    const refused = await refusal(randomBytes(1000), tusOptions('alice', { metadata }));
    expect(refused).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(refused.body).toContain('filename and filetype');
    expect(hooks.created.length).toBe(created);
  });

  test.each([
    ['FILES_TOO_LARGE', 413],
    ['FILES_TYPE_NOT_ALLOWED', 415],
    ['FILES_TOO_MANY_UPLOADS', 429],
    ['BAD_USER_INPUT', 400],
    ['FILES_SOMETHING_NEW', 400],
  ])('create refusing with %s answers %i with its code and message', async (code, status) => {
    hooks.createError = new InputError(`refused: ${code}`, code);
    try {
      const refused = await refusal(randomBytes(1000), tusOptions('alice'));
      expect(refused).toMatchObject({ status, code });
      expect(JSON.parse(refused.body).errors[0].message).toBe(`refused: ${code}`);
    } finally {
      hooks.createError = null;
    }
  });

  test('an unexpected failure in create is a 500 without its details, which go to the log', async () => {
    hooks.createError = new Error('connection to db-7.internal:5432 refused');
    try {
      const refused = await refusal(randomBytes(1000), tusOptions('alice'));
      expect(refused).toMatchObject({ status: 500, code: 'INTERNAL_SERVER_ERROR' });
      expect(refused.body).not.toContain('db-7');
      expect(logged.some((line) => line.includes('db-7.internal'))).toBe(true);
    } finally {
      hooks.createError = null;
    }
  });

  test.each([
    ['a refusal', new InputError('the bytes are not a PNG', 'FILES_TYPE_NOT_ALLOWED'), 415, 'FILES_TYPE_NOT_ALLOWED'],
    ['a failure', new Error('queue at redis-3.internal is down'), 500, 'INTERNAL_SERVER_ERROR'],
  ])(
    'finished throwing %s answers the last PATCH with an error, called once all the same',
    async (_kind, error, status, code) => {
      const calls = hooks.finishedCalls.length;
      hooks.finishError = error;
      try {
        const refused = await refusal(randomBytes(2 * MiB), tusOptions('alice'));
        expect(refused).toMatchObject({ status, code });
        expect(refused.body).not.toContain('redis-3');
      } finally {
        hooks.finishError = null;
      }
      expect(hooks.finishedCalls.length).toBe(calls + 1);
      const { id, key } = hooks.finishedCalls.at(-1)!;
      expect(key).toBe(`uploads/${id}`);
      // The bytes are all there and tus's records are gone either way: what follows is the plugin's call.
      expect(await leftovers(id)).toEqual([key]);
    },
  );

  test('the owner can terminate an unfinished upload, and discard() removes an abandoned one', async () => {
    const terminated = await begin('alice', 3 * MiB);
    const abandoned = await begin('alice', 3 * MiB);
    for (const url of [terminated, abandoned]) {
      const patch = await fetch(url, {
        method: 'PATCH',
        headers: tus('alice', { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }),
        body: randomBytes(MiB),
      });
      expect(patch.status).toBe(204);
      expect(await leftovers(idOf(url))).not.toEqual([]);
    }

    expect((await fetch(terminated, { method: 'DELETE', headers: tus('alice') })).status).toBe(204);
    expect(await uploads.discard(keyOf(abandoned))).toBe(true);
    expect(await uploads.discard(keyOf(abandoned))).toBe(false);
    for (const url of [terminated, abandoned]) {
      expect(await leftovers(idOf(url))).toEqual([]);
      expect((await fetch(url, { method: 'HEAD', headers: tus('alice') })).status).toBe(404);
    }
    expect(hooks.finishedCalls.some((call) => [terminated, abandoned].map(idOf).includes(call.id))).toBe(false);
  });

  test('GET, and POST anywhere but the collection, are refused', async () => {
    const url = await begin('alice');
    expect((await fetch(url, { headers: tus('alice') })).status).toBe(405);
    expect((await fetch(url, { headers: { 'x-test-user': 'alice' } })).status).toBe(405);
    // A tus request without Tus-Resumable gets @tus/server's 412.
    expect((await fetch(url, { method: 'HEAD', headers: { 'x-test-user': 'alice' } })).status).toBe(412);
    const post = await fetch(url, { method: 'POST', headers: tus('alice', { 'x-http-method-override': 'PATCH' }) });
    expect(post.status).toBe(405);
  });
});
