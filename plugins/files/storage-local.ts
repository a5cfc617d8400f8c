/**
 * The storage port on the local disk (the embedded default: uploads with no S3 service). Objects
 * live under `<dir>/objects/<key>`, their content type in `<dir>/meta/<sha256 of the key>.json`
 * (named by hash, so no key's sidecar can clash with another key's folder); writes land in
 * `<dir>/tmp` first and are renamed into place, so a reader never sees half a file.
 *
 * Presigned URLs point at the gateway route this module serves (`handle`), mounted by the plugin
 * at `routePath` (method ANY, prefix, public: the signature is the authorization):
 *
 *   PUT <baseUrl><routePath>/<key>?expires=<epoch s>&size=<bytes>&type=<content type>&signature=<hex>
 *   GET <baseUrl><routePath>/<key>?expires=<epoch s>[&name=<file name>]&signature=<hex>
 *
 * The signature is an HMAC-SHA256 over the method, key, expiry and (PUT) the type and size or
 * (GET) the download name, so none of them can be changed; a PUT must carry exactly that
 * Content-Type and that many bytes, as a presigned S3 PUT must.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { constants, createWriteStream, type Dirent } from 'node:fs';
import {
  access,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ERRORS, sendError } from '../../gateway/sdk.ts';
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

export interface LocalStorageOptions {
  /** Where the files are kept (created when missing). */
  dir: string;
  /**
   * The gateway's public URL (scheme, host, port and any path prefix), which presigned URLs start
   * with; empty: URLs are paths, relative to the gateway that handed them out.
   */
  baseUrl: string;
  /** The HMAC key presigned URLs are signed with: at least 32 characters, kept secret. */
  secret: string;
  /** Where the plugin mounts `handle`, e.g. `/files/local`. */
  routePath: string;
  /** Browser origins (or `*`) that may PUT and GET across origins; none by default. */
  corsOrigins?: readonly string[];
  /** The clock URLs are signed and checked with. @default () => new Date() */
  now?: () => Date;
}

export interface LocalFileStorage extends FileStorage {
  readonly kind: 'local';
  readonly dir: string;
  /** The gateway route for presigned URLs: GET streams an object, PUT stores one. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

const MIN_SECRET_LENGTH = 32;
/** Errors of a path that names no file: missing, or a file or folder where the key expects the other. */
const NO_SUCH_FILE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

class BodyTooLong extends Error {}
class ClientGone extends Error {}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;
const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');
/** Directory entries in the order of their keys' bytes (a folder sorts as its name and a slash, like S3). */
const byKeyOrder = (a: Dirent, b: Dirent) =>
  Buffer.compare(
    Buffer.from(a.isDirectory() ? `${a.name}/` : a.name),
    Buffer.from(b.isDirectory() ? `${b.name}/` : b.name),
  );

export function createLocalStorage(options: LocalStorageOptions): LocalFileStorage {
  const { secret } = options;
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH)
    throw new TypeError(`The local storage secret must be at least ${MIN_SECRET_LENGTH} characters`);
  if (!options.routePath.startsWith('/') || options.routePath.endsWith('/'))
    throw new TypeError(
      `routePath must start with "/" and not end with one (got ${JSON.stringify(options.routePath)})`,
    );
  if (options.baseUrl !== '' && !URL.canParse(options.baseUrl))
    throw new TypeError(`baseUrl ${JSON.stringify(options.baseUrl)} is not a URL`);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const routePath = options.routePath;
  const now = options.now ?? (() => new Date());
  const corsOrigins = new Set(options.corsOrigins ?? []);
  const dir = resolve(options.dir);
  const objectsDir = join(dir, 'objects');
  const metaDir = join(dir, 'meta');
  const tmpDir = join(dir, 'tmp');
  const where = `local storage ${dir}`;
  let folders: Promise<unknown> | undefined;
  const ready = () => {
    folders ??= Promise.all([objectsDir, metaDir, tmpDir].map((path) => mkdir(path, { recursive: true }))).catch(
      (error: unknown) => {
        folders = undefined;
        throw new Error(`Cannot create the folders of ${where}: ${(error as Error).message}`, { cause: error });
      },
    );
    return folders;
  };

  /** The file of a key, checked again to be inside the objects folder (assertKey already ensures it). */
  function objectPath(key: string): string {
    assertKey(key);
    const path = resolve(objectsDir, ...key.split('/'));
    if (!path.startsWith(objectsDir + sep))
      throw new Error(`Key ${JSON.stringify(key)} resolves outside ${objectsDir}`);
    return path;
  }
  const metaPath = (key: string) => {
    assertKey(key);
    return join(metaDir, `${createHash('sha256').update(key).digest('hex')}.json`);
  };

  const sign = (fields: readonly (string | number | null)[]) =>
    createHmac('sha256', secret).update(JSON.stringify(fields)).digest('hex');
  const expiry = (expiresInSeconds: number) => Math.floor(now().getTime() / 1000) + expiresInSeconds;

  /** Renames into place, making the folders on the way; a folder pruned meanwhile is made again. */
  async function place(from: string, to: string, key: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dirname(to), { recursive: true });
        await rename(from, to);
        return;
      } catch (error) {
        const code = codeOf(error);
        if (code === 'ENOENT' && attempt < 2) continue;
        if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY')
          throw new Error(
            `Cannot store ${JSON.stringify(key)} in ${where}: on disk a key cannot also be the folder of other keys (${code})`,
            { cause: error },
          );
        throw error;
      }
    }
  }

  /** Removes the folders a deleted key leaves empty, up to the root. */
  async function prune(path: string, root: string): Promise<void> {
    for (let folder = dirname(path); folder !== root && folder.startsWith(root + sep); folder = dirname(folder)) {
      try {
        await rmdir(folder);
      } catch {
        return; // not empty (or gone): the folders above are not empty either
      }
    }
  }

  /** Moves a finished temporary file in as `key`, its content type beside it. */
  async function commit(key: string, file: string, contentType: string): Promise<void> {
    const meta = `${file}.meta`;
    await writeFile(meta, JSON.stringify({ key, contentType }));
    try {
      await rename(meta, metaPath(key));
    } catch (error) {
      await unlink(meta).catch(() => {});
      throw error;
    }
    try {
      await place(file, objectPath(key), key);
    } catch (error) {
      // Only a key no object can have fails here (a folder of other keys), so no type was replaced.
      await unlink(metaPath(key)).catch(() => {});
      throw error;
    }
  }

  /** Writes `body` to a new temporary file, flushed to disk, and returns its path. */
  async function receive(body: Buffer | Readable): Promise<string> {
    await ready();
    const file = join(tmpDir, randomUUID());
    try {
      if (Buffer.isBuffer(body)) await writeFile(file, body, { flag: 'wx', flush: true });
      else await pipeline(body, createWriteStream(file, { flags: 'wx', flush: true }));
      return file;
    } catch (error) {
      await unlink(file).catch(() => {});
      throw error;
    }
  }

  async function openObject(key: string): Promise<FileHandle> {
    try {
      const handle = await open(objectPath(key), 'r');
      if ((await handle.stat()).isFile()) return handle;
      await handle.close();
    } catch (error) {
      if (!NO_SUCH_FILE.has(codeOf(error) ?? '')) throw error;
    }
    throw new ObjectNotFoundError(key, where);
  }

  async function contentTypeOf(key: string): Promise<string | undefined> {
    try {
      const meta: unknown = JSON.parse(await readFile(metaPath(key), 'utf8'));
      const contentType = (meta as { contentType?: unknown } | null)?.contentType;
      return typeof contentType === 'string' ? contentType : undefined;
    } catch (error) {
      if (NO_SUCH_FILE.has(codeOf(error) ?? '')) return undefined;
      throw error;
    }
  }

  async function* walk(folder: string, keyPrefix: string, prefix: string): AsyncGenerator<StoredObject> {
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (NO_SUCH_FILE.has(codeOf(error) ?? '')) return;
      throw error;
    }
    for (const entry of entries.sort(byKeyOrder)) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix)) yield* walk(join(folder, entry.name), `${key}/`, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const stats = await stat(join(folder, entry.name)).catch(() => null);
        if (stats) yield { key, size: stats.size, contentType: undefined, lastModified: stats.mtime };
      }
    }
  }

  // ---- the gateway route ----

  function refuse(response: ServerResponse, status: 400 | 403 | 404 | 405 | 416, message: string): void {
    const error = {
      400: ERRORS.BAD_REQUEST,
      403: ERRORS.FORBIDDEN,
      404: ERRORS.NOT_FOUND,
      405: ERRORS.BAD_REQUEST,
      416: ERRORS.BAD_REQUEST,
    }[status];
    // A refused upload's body is not read: the connection goes with the answer.
    response.setHeader('connection', 'close');
    sendError(response, error, message, {
      status,
      headers: status === 405 ? { allow: corsOrigins.size ? 'GET, PUT, OPTIONS' : 'GET, PUT' } : {},
    });
  }

  /** Whether the signature matches the fields and has not expired; answers 403 when not. */
  function admitted(response: ServerResponse, fields: (string | number | null)[], query: URLSearchParams): boolean {
    const expires = query.get('expires') ?? '';
    const signature = query.get('signature') ?? '';
    if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) {
      refuse(response, 403, 'This URL is not signed: expires and signature are missing or malformed');
      return false;
    }
    const expected = Buffer.from(sign([...fields, Number(expires)]), 'hex');
    if (!timingSafeEqual(Buffer.from(signature, 'hex'), expected)) {
      refuse(response, 403, 'The signature does not match this URL (was it changed?)');
      return false;
    }
    if (Number(expires) * 1000 < now().getTime()) {
      refuse(response, 403, `This URL expired at ${new Date(Number(expires) * 1000).toISOString()}`);
      return false;
    }
    return true;
  }

  async function serveGet(key: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse) {
    const name = query.get('name');
    if (!admitted(response, ['GET', key, name], query)) return;
    let handle: FileHandle;
    try {
      handle = await openObject(key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return refuse(response, 404, `No object ${JSON.stringify(key)}`);
      throw error;
    }
    let stream: Readable;
    try {
      const { size, mtime } = await handle.stat();
      const contentType = (await contentTypeOf(key)) ?? 'application/octet-stream';
      const range = byteRange(request.headers.range, size);
      if (range === 'unsatisfiable') {
        await handle.close();
        response.setHeader('content-range', `bytes */${size}`);
        return refuse(response, 416, `The range ${request.headers.range} is outside the object's ${size} bytes`);
      }
      const headers: Record<string, string | number> = {
        'content-type': contentType,
        'content-length': range ? range.end - range.start + 1 : size,
        'last-modified': mtime.toUTCString(),
        'accept-ranges': 'bytes',
        'cache-control': 'private',
      };
      if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
      if (name !== null) headers['content-disposition'] = attachmentDisposition(name);
      // Uploaded files are served from the gateway's origin: no script in one (HTML, SVG) may run
      // there. Chrome shows no PDF in a sandbox, and a PDF runs no script of the origin's.
      if (contentType !== 'application/pdf')
        headers['content-security-policy'] = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox";
      response.writeHead(range ? 206 : 200, headers);
      stream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (error) {
      await handle.close();
      throw error;
    }
    try {
      await pipeline(stream, response);
    } catch {
      response.destroy(); // the client went away mid-download
    }
  }

  async function receivePut(key: string, query: URLSearchParams, request: IncomingMessage, response: ServerResponse) {
    const type = query.get('type') ?? '';
    const sizeText = query.get('size') ?? '';
    if (!/^\d{1,15}$/.test(sizeText) || type === '')
      return refuse(response, 403, 'This upload URL is not signed: size and type are missing or malformed');
    const size = Number(sizeText);
    if (!admitted(response, ['PUT', key, type, size], query)) return;
    if (request.headers['content-type'] !== type)
      return refuse(response, 403, `The upload's Content-Type must be ${type}, as signed`);
    const declared = request.headers['content-length'];
    if (declared !== undefined && Number(declared) !== size)
      return refuse(
        response,
        400,
        `The upload must be exactly ${size} bytes, as signed; Content-Length says ${declared}`,
      );
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > size) return callback(new BodyTooLong());
        callback(null, chunk);
      },
    });
    // pipe(), not pipeline(): a body over the size stops being read but the request (and so the
    // socket) stays, to carry the 400; an aborted request fails the write.
    const aborted = () => {
      if (!request.complete) counted.destroy(new ClientGone('the client went away before sending the whole body'));
    };
    request.once('close', aborted).once('error', aborted);
    // The pipeline below reports every error of `counted`; pipe() would throw one it sees unheard.
    counted.on('error', () => {});
    request.pipe(counted);
    let file: string;
    try {
      file = await receive(counted);
    } catch (error) {
      if (error instanceof BodyTooLong) {
        request.unpipe(counted);
        return refuse(response, 400, `The upload must be exactly ${size} bytes, as signed; more were sent`);
      }
      if (error instanceof ClientGone) return void response.destroy();
      throw error;
    } finally {
      request.off('close', aborted).off('error', aborted);
    }
    if (received !== size) {
      await unlink(file).catch(() => {});
      return refuse(response, 400, `The upload must be exactly ${size} bytes, as signed; ${received} were sent`);
    }
    try {
      await commit(key, file, type);
    } catch (error) {
      await unlink(file).catch(() => {});
      throw error;
    }
    response.writeHead(200, { 'content-length': 0 });
    response.end();
  }

  return {
    kind: 'local',
    dir,

    async check() {
      await ready();
      try {
        await access(dir, constants.R_OK | constants.W_OK);
      } catch (error) {
        throw new Error(`Cannot read and write ${where}: ${(error as Error).message}`, { cause: error });
      }
    },

    async presignPut(key, { contentType, size, expiresInSeconds }) {
      assertKey(key);
      assertPresignOptions({ expiresInSeconds, contentType, size });
      const expires = expiry(expiresInSeconds);
      const query = new URLSearchParams({
        expires: String(expires),
        size: String(size),
        type: contentType,
        signature: sign(['PUT', key, contentType, size, expires]),
      });
      return `${baseUrl}${routePath}/${encodeKey(key)}?${query}`;
    },

    async presignGet(key, { expiresInSeconds, fileName }) {
      assertKey(key);
      assertPresignOptions({ expiresInSeconds });
      const expires = expiry(expiresInSeconds);
      const query = new URLSearchParams({ expires: String(expires) });
      if (fileName !== undefined) query.set('name', fileName);
      query.set('signature', sign(['GET', key, fileName ?? null, expires]));
      return `${baseUrl}${routePath}/${encodeKey(key)}?${query}`;
    },

    async head(key) {
      let stats: Awaited<ReturnType<typeof stat>>;
      try {
        stats = await stat(objectPath(key));
      } catch (error) {
        if (NO_SUCH_FILE.has(codeOf(error) ?? '')) return null;
        throw error;
      }
      if (!stats.isFile()) return null;
      return { key, size: stats.size, contentType: await contentTypeOf(key), lastModified: stats.mtime };
    },

    async readStart(key, length) {
      if (!Number.isSafeInteger(length) || length < 1) throw new RangeError('length must be a whole number, 1 or more');
      const handle = await openObject(key);
      try {
        const { size } = await handle.stat();
        const buffer = Buffer.alloc(Math.min(length, size));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return { bytes: buffer.subarray(0, filled), size };
      } finally {
        await handle.close();
      }
    },

    async read(key) {
      const handle = await openObject(key);
      return handle.createReadStream();
    },

    async write(key, body, contentType) {
      assertKey(key);
      assertContentType(contentType);
      const file = await receive(body);
      try {
        await commit(key, file, contentType);
      } catch (error) {
        await unlink(file).catch(() => {});
        throw error;
      }
    },

    async move(from, to) {
      const source = objectPath(from);
      const target = objectPath(to);
      if (from === to) return;
      try {
        if (!(await stat(source)).isFile()) throw new ObjectNotFoundError(from, where);
      } catch (error) {
        if (NO_SUCH_FILE.has(codeOf(error) ?? '')) throw new ObjectNotFoundError(from, where);
        throw error;
      }
      await place(source, target, to);
      await rename(metaPath(from), metaPath(to)).catch((error: unknown) => {
        if (codeOf(error) !== 'ENOENT') throw error;
      });
      await prune(source, objectsDir);
    },

    async delete(keys) {
      for (const key of keys) assertKey(key);
      for (const key of keys) {
        try {
          await unlink(objectPath(key));
          await prune(objectPath(key), objectsDir);
        } catch (error) {
          // No such object, or a folder (the key is only the start of others): nothing to delete.
          if (!NO_SUCH_FILE.has(codeOf(error) ?? '') && codeOf(error) !== 'EPERM') throw error;
        }
        await unlink(metaPath(key)).catch((error: unknown) => {
          if (codeOf(error) !== 'ENOENT') throw error;
        });
      }
    },

    async *list(prefix) {
      assertPrefix(prefix);
      const folderKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
      const folder = folderKey ? resolve(objectsDir, ...folderKey.slice(0, -1).split('/')) : objectsDir;
      yield* walk(folder, folderKey, prefix);
    },

    close() {},

    async handle(request, response) {
      // The raw path, not a URL's: `..` segments must reach assertKey (and be refused), not be resolved away.
      const target = request.url ?? '/';
      const mark = target.indexOf('?');
      const path = mark < 0 ? target : target.slice(0, mark);
      const query = new URLSearchParams(mark < 0 ? '' : target.slice(mark + 1));
      const origin = request.headers.origin;
      if (origin && (corsOrigins.has(origin) || corsOrigins.has('*'))) {
        response.setHeader('access-control-allow-origin', origin);
        response.setHeader('vary', 'Origin');
      }
      if (!path.startsWith(`${routePath}/`)) return refuse(response, 404, `No object path under ${routePath}`);
      let key: string;
      try {
        key = path
          .slice(routePath.length + 1)
          .split('/')
          .map((segment) => decodeURIComponent(segment))
          .join('/');
        assertKey(key);
      } catch (error) {
        return refuse(
          response,
          400,
          error instanceof URIError ? 'The object path is not valid percent-encoding' : (error as Error).message,
        );
      }
      if (request.method === 'GET') return serveGet(key, query, request, response);
      if (request.method === 'PUT') return receivePut(key, query, request, response);
      if (request.method === 'OPTIONS' && response.hasHeader('access-control-allow-origin')) {
        response.writeHead(204, {
          'access-control-allow-methods': 'GET, PUT',
          'access-control-allow-headers': 'content-type',
          'access-control-max-age': '600',
        });
        return void response.end();
      }
      refuse(response, 405, `${request.method} is not served here: GET downloads and PUT uploads`);
    },
  };
}

/**
 * The one byte range a `Range` header asks for (inclusive), null to send everything (no header,
 * or one this does not serve, such as several ranges), or 'unsatisfiable'.
 */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
