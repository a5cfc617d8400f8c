/**
 * The files plugin end to end, as a browser and a worker use it: createUpload, a PUT to the URL
 * it hands out, completeUpload, processing on the gateway's queue (sharp, ffmpeg, pdf.js) and a
 * real clamd scanning every file; on the local disk (the embedded default) and on an S3-compatible
 * server (moto's, which also speaks the multipart calls tus needs) reached by the AWS SDK.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { Upload } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClamd, startClamd, TEST_MARKER, TEST_SIGNATURES, type TestClamd } from './support/clamd.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { CAMERA, elfExecutable, pdfWithPages, photo, pngHeaderClaiming, tenSecondVideo } from './support/media.ts';
import { runCli } from './support/processes.ts';
import { type MotoServer, startMotoServer } from './support/moto-server.ts';
import { ADMIN_SECRET, signToken } from './support/tokens.ts';
import { connectWs, nextWithin, type TestWsClient } from './support/ws-client.ts';

const admin = { 'x-hasura-admin-secret': ADMIN_SECRET };
const asUser = async (userId: string) => ({ authorization: `Bearer ${await signToken({ userId })}` });
const MAX_SIZE = 8_000_000;
const MAX_PENDING = 4;

interface Gateways {
  local: TestGateway;
  s3: TestGateway;
}
let dbs: TestDatabase[];
let gateways: Gateways;
let clamd: TestClamd;
let s3: MotoServer;
let localDir: string;
let work: string;
const sockets: TestWsClient[] = [];

interface FileBody {
  id: string;
  name: string;
  contentType: string;
  size: string;
  sha256: string | null;
  status: string;
  error: string | null;
  url: string | null;
  thumbnails: { kind: string; format: string; width: number; height: number; url: string | null }[];
  metadata: {
    format: string | null;
    width: number | null;
    height: number | null;
    cameraMake: string | null;
    cameraModel: string | null;
    takenAt: string | null;
    durationSeconds: number | null;
    videoCodec: string | null;
    pageCount: number | null;
  } | null;
  scan: { engine: string; result: string; signatureName: string | null; signatureVersion: string | null } | null;
}
const FILE_FIELDS = `id name contentType size sha256 status error url
  thumbnails { kind format width height url }
  metadata { format width height cameraMake cameraModel takenAt durationSeconds videoCodec pageCount }
  scan { engine result signatureName signatureVersion }`;

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
const gql = async (gateway: TestGateway, headers: Record<string, string>, query: string, variables = {}) =>
  (await gateway.gql(query, { variables, headers })).body as Body;
async function ok<T>(gateway: TestGateway, headers: Record<string, string>, query: string, variables = {}) {
  const body = await gql(gateway, headers, query, variables);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}
const codeOf = (body: Body) => body.errors?.[0]?.extensions?.code;

/** A URL the plugin handed out: local storage's are paths relative to the gateway. */
const absolute = (gateway: TestGateway, url: string) => new URL(url, gateway.url).toString();

/** createUpload, then a PUT of the bytes to its URL, as a browser does; returns the file id. */
async function put(
  gateway: TestGateway,
  headers: Record<string, string>,
  file: { name: string; type: string; bytes: Buffer },
): Promise<string> {
  const { createUpload } = await ok<{
    createUpload: { file: { id: string }; url: string; headers: Record<string, string> };
  }>(
    gateway,
    headers,
    'mutation($n: String!, $t: String!, $s: Int!) { createUpload(filename: $n, contentType: $t, size: $s) { file { id } url headers } }',
    { n: file.name, t: file.type, s: file.bytes.length },
  );
  const response = await fetch(absolute(gateway, createUpload.url), {
    method: 'PUT',
    headers: createUpload.headers,
    body: new Uint8Array(file.bytes),
  });
  expect(response.status).toBe(200);
  return createUpload.file.id;
}

const complete = (gateway: TestGateway, headers: Record<string, string>, id: string) =>
  gql(gateway, headers, `mutation($id: ID!) { completeUpload(id: $id) { ${FILE_FIELDS} } }`, { id });

const fileOf = async (gateway: TestGateway, headers: Record<string, string>, id: string) =>
  (
    await ok<{ file: FileBody | null }>(gateway, headers, `query($id: ID!) { file(id: $id) { ${FILE_FIELDS} } }`, {
      id,
    })
  ).file;

/** Uploads and completes a file, then waits until its processing ended. */
async function upload(
  gateway: TestGateway,
  headers: Record<string, string>,
  file: { name: string; type: string; bytes: Buffer },
): Promise<FileBody> {
  const id = await put(gateway, headers, file);
  expect((await complete(gateway, headers, id)).errors).toBeUndefined();
  return settled(gateway, headers, id);
}

async function settled(gateway: TestGateway, headers: Record<string, string>, id: string): Promise<FileBody> {
  await expect
    .poll(async () => (await fileOf(gateway, headers, id))?.status, { timeout: 30_000, interval: 100 })
    .toMatch(/^(READY|FAILED|INFECTED)$/);
  return (await fileOf(gateway, headers, id))!;
}

const download = async (gateway: TestGateway, url: string) => {
  const response = await fetch(absolute(gateway, url));
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
};

beforeAll(async () => {
  const binary = await findClamd();
  if (!binary) throw new Error('clamd is not installed: .ci/run installs clamav-daemon');
  work = await mkdtemp(join(tmpdir(), 'plugboard-files-test-'));
  localDir = join(work, 'storage');
  [dbs, clamd, s3] = await Promise.all([
    Promise.all([createTestDatabase(), createTestDatabase()]),
    startClamd(binary),
    startMotoServer(),
  ]);
  const common = {
    FILES_VIRUS_SCAN: 'true',
    FILES_CLAMD_HOST: clamd.host,
    FILES_CLAMD_PORT: String(clamd.port),
    FILES_MAX_SIZE: String(MAX_SIZE),
    FILES_MAX_PENDING_UPLOADS: String(MAX_PENDING),
    FILES_MAX_PIXELS: '50000000',
    FILES_ALERT_USERS: 'security-admin',
    // Text too, so that the EICAR test file (68 bytes of ASCII) reaches the scanner.
    FILES_ALLOWED_TYPES: 'image/*,video/*,application/pdf,text/plain',
  };
  const [local, remote] = await Promise.all([
    startTestGateway({ databaseUrl: dbs[0]!.url, env: { ...common, FILES_LOCAL_DIR: localDir } }),
    startTestGateway({
      databaseUrl: dbs[1]!.url,
      env: {
        ...common,
        FILES_S3_ENDPOINT: s3.endpoint,
        FILES_S3_REGION: s3.region,
        FILES_S3_BUCKET: s3.bucket,
        FILES_S3_ACCESS_KEY_ID: s3.accessKeyId,
        FILES_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        FILES_S3_FORCE_PATH_STYLE: 'true',
      },
    }),
  ]);
  gateways = { local, s3: remote };
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) await socket.client.dispose();
  await Promise.all([gateways?.local.close(), gateways?.s3.close()]);
  await Promise.all([...(dbs ?? []).map((db) => db.drop()), clamd?.close(), s3?.close()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(['local', 's3'] as const)('a photo uploaded to %s storage', (storage) => {
  it('is scanned, gets thumbnails and a WebP copy without EXIF or GPS, and keeps camera and time', async () => {
    const gateway = gateways[storage];
    const user = await asUser(`photographer-${storage}`);
    const bytes = await photo({ width: 1600, height: 1200, format: 'jpeg' });
    const file = await upload(gateway, user, { name: 'Holiday.JPG', type: 'image/jpeg', bytes });
    expect(file).toMatchObject({
      status: 'READY',
      contentType: 'image/jpeg',
      size: String(bytes.length),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      metadata: {
        format: 'jpeg',
        width: 1600,
        height: 1200,
        cameraMake: CAMERA.make,
        cameraModel: CAMERA.model,
      },
      scan: { result: 'clean', signatureName: null, engine: expect.stringMatching(/^ClamAV /) },
    });
    expect(file.metadata!.takenAt).not.toBeNull();
    // Fit inside each box, never upscaled: 100x100 → 100×75, 400x400 → 400×300, 1200x1200 → 1200×900.
    expect(file.thumbnails.map((t) => [t.kind, t.format, t.width, t.height])).toEqual(
      expect.arrayContaining([
        ['thumbnail', expect.any(String), 100, 75],
        ['thumbnail', expect.any(String), 400, 300],
        ['thumbnail', expect.any(String), 1200, 900],
        ['optimized', 'webp', 1600, 1200],
      ]),
    );
    expect(file.thumbnails).toHaveLength(4);
    for (const derivative of file.thumbnails) {
      const derived = await download(gateway, derivative.url!);
      expect((await sharp(derived).metadata()).width).toBe(derivative.width);
      // No EXIF, GPS or XMP made it into a derivative.
      expect(await exifr.parse(derived, { gps: true, xmp: true, tiff: true }).catch(() => undefined)).toBeUndefined();
    }
    // The original is downloadable as uploaded.
    const original = await fetch(absolute(gateway, file.url!));
    expect(Buffer.from(await original.arrayBuffer()).equals(bytes)).toBe(true);
    // Under its own name: S3 answers with the disposition the URL carries (moto does not apply it).
    const disposition =
      storage === 'local'
        ? original.headers.get('content-disposition')
        : new URL(file.url!).searchParams.get('response-content-disposition');
    expect(disposition).toContain('Holiday.JPG');
  });
});

// The standard 68-byte EICAR test file (eicar.org), put together here so that this source file
// itself does not match the signature.
const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));

describe.each(['local', 's3'] as const)('the EICAR test file uploaded to %s storage', (storage) => {
  it('is quarantined: infected, no URL, no derivatives, the object under quarantine/', async () => {
    const gateway = gateways[storage];
    const user = await asUser(`eicar-${storage}`);
    expect(EICAR.length).toBe(68);
    const file = await upload(gateway, user, { name: 'eicar.com.txt', type: 'text/plain', bytes: EICAR });
    expect(file).toMatchObject({
      status: 'INFECTED',
      contentType: 'text/plain',
      url: null,
      thumbnails: [],
      scan: { result: 'infected', signatureName: TEST_SIGNATURES.eicar },
    });
    const quarantined = `quarantine/${file.id}`;
    const db = dbs[storage === 'local' ? 0 : 1]!;
    const { rows } = await db.pool.query<{ key: string }>('SELECT key FROM files.files WHERE id = $1', [file.id]);
    expect(rows).toEqual([{ key: quarantined }]);
    if (storage === 'local') {
      expect(existsSync(join(localDir, 'objects', quarantined))).toBe(true);
      expect(existsSync(join(localDir, 'objects', 'uploads', file.id))).toBe(false);
    } else {
      const held = await s3.s3.headObject({ Bucket: s3.bucket, Key: quarantined });
      expect(held.ContentLength).toBe(68);
      await expect(s3.s3.headObject({ Bucket: s3.bucket, Key: `uploads/${file.id}` })).rejects.toMatchObject({
        name: 'NotFound',
      });
    }
  });
});

describe.each(['local', 's3'] as const)('a resumable upload (tus) to %s storage', (storage) => {
  it("arrives in chunks with the caller's token, is processed like any upload, and refuses anonymous callers", async () => {
    const gateway = gateways[storage];
    const user = await asUser(`tus-${storage}`);
    const bytes = await photo({ width: 2400, height: 1600, format: 'png' });
    const send = (headers: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const upload = new Upload(bytes, {
          endpoint: `${gateway.url}/files/tus`,
          chunkSize: 256 * 1024,
          headers,
          metadata: { filename: 'big.png', filetype: 'image/png' },
          retryDelays: [],
          onSuccess: () => resolve(upload.url!),
          onError: reject,
        });
        upload.start();
      });
    await expect(send({})).rejects.toThrow(/401/);
    const url = await send(user);
    const id = /uploads\/([0-9a-f-]{36})$/.exec(url)![1]!;
    const file = await settled(gateway, user, id);
    expect(file).toMatchObject({ status: 'READY', size: String(bytes.length), name: 'big.png' });
    expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(file.thumbnails.length).toBeGreaterThan(0);
  });
});

describe('uploads on the local disk', () => {
  const gateway = () => gateways.local;

  it('tells a subscriber when a file is processed', async () => {
    const user = await asUser('subscriber');
    const bytes = await photo({ width: 300, height: 200, format: 'png' });
    const id = await put(gateway(), user, { name: 'pic.png', type: 'image/png', bytes });
    const socket = connectWs(gateway().wsUrl, { authorization: user.authorization });
    sockets.push(socket);
    const events = socket.subscribe<{ fileProcessed: { id: string; status: string } }>(
      'subscription($id: ID!) { fileProcessed(id: $id) { id status } }',
      { id },
    );
    await socket.connected;
    // A stranger may not follow it.
    const stranger = connectWs(gateway().wsUrl, { authorization: (await asUser('stranger')).authorization });
    sockets.push(stranger);
    const refused = stranger.subscribe('subscription($id: ID!) { fileProcessed(id: $id) { id status } }', { id });
    expect((await nextWithin(refused)).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    await expect.poll(async () => (await complete(gateway(), user, id)).errors).toBeUndefined();
    expect((await nextWithin(events, 30_000)).data?.fileProcessed).toEqual({ id, status: 'ready' });
    // A small image is not enlarged: the boxes it fits in give it at its own size, once.
    const file = await fileOf(gateway(), user, id);
    expect(file!.thumbnails.filter((t) => t.kind === 'thumbnail').map((t) => [t.width, t.height])).toEqual([
      [100, 67],
      [300, 200],
    ]);
  });

  it('makes a poster of a video and a preview of a PDF', async () => {
    const user = await asUser('media');
    const video = await readFile(await tenSecondVideo(work));
    const clip = await upload(gateway(), user, { name: 'clip.mp4', type: 'video/mp4', bytes: video });
    expect(clip).toMatchObject({ status: 'READY', metadata: { width: 320, height: 240, videoCodec: 'h264' } });
    expect(clip.metadata!.durationSeconds).toBeCloseTo(10, 0);
    const poster = clip.thumbnails.find((t) => t.kind === 'poster')!;
    expect(poster).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    expect((await sharp(await download(gateway(), poster.url!)).metadata()).format).toBe('jpeg');

    const pdf = await upload(gateway(), user, {
      name: 'report.pdf',
      type: 'application/pdf',
      bytes: pdfWithPages(['first page', 'second page']),
    });
    expect(pdf).toMatchObject({ status: 'READY', metadata: { pageCount: 2, format: 'pdf' } });
    const preview = pdf.thumbnails.find((t) => t.kind === 'preview')!;
    expect((await sharp(await download(gateway(), preview.url!)).metadata()).format).toBe('png');
  });

  it('quarantines an infected file: no URL, no derivatives, the object moved away', async () => {
    const user = await asUser('unlucky');
    const image = await photo({ width: 64, height: 64, format: 'png' });
    const bytes = Buffer.concat([image, Buffer.from(TEST_MARKER)]);
    const file = await upload(gateway(), user, { name: 'innocent.png', type: 'image/png', bytes });
    expect(file).toMatchObject({
      status: 'INFECTED',
      url: null,
      thumbnails: [],
      scan: { result: 'infected', signatureName: TEST_SIGNATURES.marker },
    });
    expect(existsSync(join(localDir, 'objects', 'quarantine', file.id))).toBe(true);
    expect(existsSync(join(localDir, 'objects', 'uploads', file.id))).toBe(false);
    // The owner and FILES_ALERT_USERS are told in-app, through the notifications plugin.
    await expect
      .poll(
        async () =>
          (
            await dbs[0]!.pool.query<{ user_id: string; status: string }>(
              'SELECT user_id, status FROM notifications.notifications WHERE idempotency_key LIKE $1 ORDER BY user_id',
              [`files:infected:${file.id}:%`],
            )
          ).rows,
      )
      .toEqual([
        { user_id: 'security-admin', status: 'delivered' },
        { user_id: 'unlucky', status: 'delivered' },
      ]);
    const inbox = await ok<{ notifications: { edges: { node: { subject: string; body: string } }[] } }>(
      gateway(),
      user,
      '{ notifications { edges { node { subject body } } } }',
    );
    expect(inbox.notifications.edges[0]!.node.body).toContain(TEST_SIGNATURES.marker);
  });

  it('keeps a file pending_scan while clamd is down, never clean, and finishes it once clamd is back', async () => {
    const user = await asUser('patient');
    const bytes = await photo({ width: 64, height: 64, format: 'png' });
    await clamd.stop();
    try {
      const id = await put(gateway(), user, { name: 'later.png', type: 'image/png', bytes });
      expect((await complete(gateway(), user, id)).errors).toBeUndefined();
      await expect
        .poll(async () => (await fileOf(gateway(), user, id))?.status, { timeout: 15_000 })
        .toBe('PENDING_SCAN');
      expect((await fileOf(gateway(), user, id))!.scan).toBeNull();
      await clamd.start();
      // The job's next attempt (exponential backoff from 2 s) scans it.
      const file = await settled(gateway(), user, id);
      expect(file).toMatchObject({ status: 'READY', scan: { result: 'clean' } });
    } finally {
      await clamd.start().catch(() => undefined);
    }
  }, 60_000);

  it('refuses by content: an executable named .jpg, a decompression bomb, and more bytes than announced', async () => {
    const user = await asUser('sneaky');
    const exe = await elfExecutable();
    const id = await put(gateway(), user, { name: 'cat.jpg', type: 'image/jpeg', bytes: exe });
    const refused = await complete(gateway(), user, id);
    expect(codeOf(refused)).toBe('FILES_TYPE_NOT_ALLOWED');
    expect(refused.errors![0]!.message).toMatch(/content/);
    expect(await fileOf(gateway(), user, id)).toMatchObject({ status: 'FAILED', url: null });
    expect(existsSync(join(localDir, 'objects', 'uploads', id))).toBe(false);

    // 20,000 × 20,000 in its header: refused without being decoded.
    const bomb = await upload(gateway(), user, {
      name: 'bomb.png',
      type: 'image/png',
      bytes: pngHeaderClaiming(20_000, 20_000),
    });
    expect(bomb).toMatchObject({ status: 'FAILED', thumbnails: [] });
    expect(bomb.error).toMatch(/pixels/);

    // The URL is signed for the announced size.
    const { createUpload } = await ok<{ createUpload: { url: string; headers: Record<string, string> } }>(
      gateway(),
      user,
      'mutation { createUpload(filename: "a.png", contentType: "image/png", size: 10) { url headers } }',
    );
    const tooMuch = await fetch(absolute(gateway(), createUpload.url), {
      method: 'PUT',
      headers: createUpload.headers,
      body: new Uint8Array(11),
    });
    expect([400, 403]).toContain(tooMuch.status);
  });

  it.each([
    [
      'a file over FILES_MAX_SIZE',
      { filename: 'big.png', contentType: 'image/png', size: MAX_SIZE + 1 },
      'FILES_TOO_LARGE',
    ],
    ['a type not allowed', { filename: 'a.zip', contentType: 'application/zip', size: 10 }, 'FILES_TYPE_NOT_ALLOWED'],
    ['a name with a slash', { filename: '../etc/passwd', contentType: 'image/png', size: 10 }, 'BAD_USER_INPUT'],
    ['an empty file', { filename: 'a.png', contentType: 'image/png', size: 0 }, 'BAD_USER_INPUT'],
  ])('refuses to start an upload of %s', async (_case, args, code) => {
    const body = await gql(
      gateway(),
      await asUser('careless'),
      'mutation($filename: String!, $contentType: String!, $size: Int!) { createUpload(filename: $filename, contentType: $contentType, size: $size) { url } }',
      args,
    );
    expect(codeOf(body)).toBe(code);
  });

  it(`bounds the uploads a user may leave open at ${MAX_PENDING}, and completeUpload needs the bytes`, async () => {
    const user = await asUser('hoarder');
    const start = () =>
      gql(
        gateway(),
        user,
        'mutation { createUpload(filename: "x.png", contentType: "image/png", size: 10) { file { id } } }',
      );
    const started = await Promise.all(Array.from({ length: MAX_PENDING }, start));
    expect(started.every((body) => body.errors === undefined)).toBe(true);
    expect(codeOf(await start())).toBe('FILES_TOO_MANY_UPLOADS');
    const id = (started[0]!.data as { createUpload: { file: { id: string } } }).createUpload.file.id;
    expect(codeOf(await complete(gateway(), user, id))).toBe('FILES_UPLOAD_INCOMPLETE');
  });

  it('shows a file only to its owner and admins; only they delete it, only admins reprocess', async () => {
    const owner = await asUser('owner');
    const other = await asUser('other');
    const file = await upload(gateway(), owner, {
      name: 'mine.png',
      type: 'image/png',
      bytes: await photo({ width: 120, height: 80, format: 'png' }),
    });
    expect(await fileOf(gateway(), other, file.id)).toBeNull();
    const theirs = await ok<{ files: { edges: { node: { id: string } }[] } }>(
      gateway(),
      other,
      '{ files(first: 50) { edges { node { id } } } }',
    );
    expect(theirs.files.edges.map((e) => e.node.id)).not.toContain(file.id);
    expect(codeOf(await complete(gateway(), other, file.id))).toBe('NOT_FOUND');
    expect(codeOf(await gql(gateway(), other, 'mutation($id: ID!) { deleteFile(id: $id) }', { id: file.id }))).toBe(
      'NOT_FOUND',
    );
    expect(
      codeOf(await gql(gateway(), owner, 'mutation($id: ID!) { reprocessFile(id: $id) { id } }', { id: file.id })),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(
        await gql(
          gateway(),
          {},
          'mutation { createUpload(filename: "a.png", contentType: "image/png", size: 1) { url } }',
        ),
      ),
    ).toBe('FORBIDDEN');
    // Admins see every file, filtered.
    const all = await ok<{ files: { edges: { node: { id: string } }[] } }>(
      gateway(),
      admin,
      '{ files(first: 100, filter: { status: READY, type: "image/" }) { edges { node { id } } } }',
    );
    expect(all.files.edges.map((e) => e.node.id)).toContain(file.id);
    // A download URL is short-lived: FILES_DOWNLOAD_URL_TTL (300 s by default) from now.
    const expires = Number(new URL(absolute(gateway(), file.url!)).searchParams.get('expires'));
    expect(expires - Date.now() / 1000).toBeGreaterThan(290);
    expect(expires - Date.now() / 1000).toBeLessThanOrEqual(300);

    const reprocessed = await ok<{ reprocessFile: { status: string } }>(
      gateway(),
      admin,
      'mutation($id: ID!) { reprocessFile(id: $id) { status } }',
      { id: file.id },
    );
    expect(reprocessed.reprocessFile.status).toBe('PROCESSING');
    expect((await settled(gateway(), owner, file.id)).status).toBe('READY');

    const keys = [
      join('uploads', file.id),
      ...(await fileOf(gateway(), owner, file.id))!.thumbnails.map((t) =>
        decodeURIComponent(new URL(absolute(gateway(), t.url!)).pathname.replace('/files/local/', '')),
      ),
    ];
    expect(keys.every((key) => existsSync(join(localDir, 'objects', key)))).toBe(true);
    expect(await ok(gateway(), owner, 'mutation($id: ID!) { deleteFile(id: $id) }', { id: file.id })).toEqual({
      deleteFile: true,
    });
    expect(keys.filter((key) => existsSync(join(localDir, 'objects', key)))).toEqual([]);
    expect(await fileOf(gateway(), owner, file.id)).toBeNull();
  });

  it("pages through the caller's files newest or oldest first, filtered by status", async () => {
    const user = await asUser('lister');
    const ids: string[] = [];
    for (const name of ['one.png', 'two.png', 'three.png']) {
      const { createUpload } = await ok<{ createUpload: { file: { id: string } } }>(
        gateway(),
        user,
        'mutation($n: String!) { createUpload(filename: $n, contentType: "image/png", size: 10) { file { id } } }',
        { n: name },
      );
      ids.push(createUpload.file.id);
    }
    type Page = { files: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string; hasNextPage: boolean } } };
    const page = (order: string, after: string | null) =>
      ok<Page>(
        gateway(),
        user,
        `query($after: String) { files(first: 2, after: $after, orderBy: ${order}, filter: { status: UPLOADING }) { edges { node { id } } pageInfo { endCursor hasNextPage } } }`,
        { after },
      );
    for (const [order, expected] of [
      ['NEWEST_FIRST', [...ids].reverse()],
      ['OLDEST_FIRST', ids],
    ] as const) {
      const first = await page(order, null);
      expect(first.files.pageInfo.hasNextPage).toBe(true);
      const second = await page(order, first.files.pageInfo.endCursor);
      expect([...first.files.edges, ...second.files.edges].map((e) => e.node.id)).toEqual(expected);
    }
    const ready = await ok<Page>(
      gateway(),
      user,
      '{ files(filter: { status: READY }) { edges { node { id } } pageInfo { endCursor hasNextPage } } }',
    );
    expect(ready.files.edges).toEqual([]);
  });

  it('cleans up abandoned uploads and objects no row names, and reports stats, from the CLI', async () => {
    const user = await asUser('forgetful');
    const { createUpload } = await ok<{ createUpload: { file: { id: string } } }>(
      gateway(),
      user,
      'mutation { createUpload(filename: "old.png", contentType: "image/png", size: 10) { file { id } } }',
    );
    await dbs[0]!.pool.query(`UPDATE files.files SET created_at = now() - interval '2 days' WHERE id = $1`, [
      createUpload.file.id,
    ]);
    await mkdir(join(localDir, 'objects', 'uploads'), { recursive: true });
    await writeFile(join(localDir, 'objects', 'uploads', 'stray-object'), 'left behind');
    const env = { DATABASE_URL: dbs[0]!.url, FILES_LOCAL_DIR: localDir };
    const dry = await runCli(['files', 'cleanup', '--dry-run'], env);
    expect(dry.stdout).toMatch(/would delete: 1 abandoned uploads, 1 objects, 0 rows/);
    expect(existsSync(join(localDir, 'objects', 'uploads', 'stray-object'))).toBe(true);
    const run = await runCli(['files', 'cleanup'], env);
    expect(run.stdout).toMatch(/deleted: 1 abandoned uploads, 1 objects, 0 rows/);
    expect(existsSync(join(localDir, 'objects', 'uploads', 'stray-object'))).toBe(false);
    expect(await fileOf(gateway(), user, createUpload.file.id)).toBeNull();
    const stats = await runCli(['files', 'stats'], env);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/ready\s+image/);
  });
});
