/**
 * Resumable uploads over the tus protocol (tus.io, 1.0.0: creation, creation-with-upload,
 * termination) with @tus/server, into the same bucket or directory as the rest of the plugin.
 *
 * The upload's tus id is its storage key (e.g. `uploads/<uuid>`), so the bytes land where the
 * plugin looks for them with no copy: @tus/s3-store's multipart upload is created at that key and
 * completed there, @tus/file-store writes the file at `<dir>/<key>`. Its URL is `<path>/<key>`.
 * What tus keeps beside an unfinished upload (S3: `<key>.info` and the pending `<key>.part`; the
 * disk: `<key>.json`) lives under `tus/` instead, out of the plugin's `uploads/` listing, and is
 * deleted when the last byte has arrived, before `finished` runs.
 *
 * Every request except OPTIONS (CORS preflight, answered by @tus/server) needs a signed-in caller;
 * a creation is checked here (length, metadata) and by `hooks.create` before tus stores anything,
 * and every other request on an upload by `hooks.owns`. GET is refused: downloads go through the
 * plugin, after its checks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { FileStore } from '@tus/file-store';
import { S3Store } from '@tus/s3-store';
import {
  type DataStore,
  EXPOSED_HEADERS,
  type KvStore,
  Metadata,
  Server,
  ERRORS as TUS_ERRORS,
  TUS_RESUMABLE,
  type Upload,
} from '@tus/server';
import { ERRORS, InputError, type PluginErrors, type Session, sendError } from '../../gateway/sdk.ts';

export interface TusHooks {
  /**
   * Called on upload creation (POST) with the caller's session and the announced file; returns
   * the new file's id and its storage key, or throws an InputError (or a GraphQL error with a
   * `code`), answered with its code's status in `errors`.
   */
  create(
    session: Session,
    file: { name: string; contentType: string; size: number },
  ): Promise<{ id: string; key: string }>;
  /** Whether this session may touch upload `id` (its owner, or an admin). */
  owns(session: Session, id: string): Promise<boolean>;
  /** The upload `id` has all its bytes at storage key `key`: the plugin checks and queues it. */
  finished(id: string, key: string): Promise<void>;
}

export interface S3StorageSettings {
  endpoint?: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export type TusStorage = { kind: 's3'; s3: S3StorageSettings } | { kind: 'local'; dir: string };

export interface TusUploadsOptions {
  /** Where the routes live: POST `path` creates, HEAD/PATCH/DELETE `path/<key>` act on an upload. */
  path: string;
  /** The largest Upload-Length accepted (FILES_MAX_SIZE). */
  maxSize: number;
  storage: TusStorage;
  hooks: TusHooks;
  /** The plugin's error catalog: a hook's error is answered with its code's status there. */
  errors: PluginErrors;
  /** Where unexpected failures go (their details never reach the client). */
  log: { error(details: { err: unknown }, message: string): void };
  /**
   * S3 part size: what one part buffers in a temporary file before it is sent (S3's minimum is
   * 5 MiB; @tus/s3-store raises it for uploads that would need more than 10,000 parts).
   * @default 8 MiB
   */
  partSize?: number;
  /**
   * Parts sent to S3 at once by this process, over all uploads: with `partSize`, bounds the
   * temporary disk space the uploads in flight take.
   * @default 8
   */
  maxConcurrentPartUploads?: number;
}

export interface TusUploads {
  handle(request: IncomingMessage, response: ServerResponse, session: Session | null): Promise<void>;
  /**
   * Deletes an unfinished upload at `key`: its bytes and what tus keeps beside them (S3: aborts
   * the multipart upload). False when tus has no unfinished upload there. For uploads abandoned
   * before their last byte.
   */
  discard(key: string): Promise<boolean>;
}

const MiB = 1024 * 1024;
/** Where tus's own records of unfinished uploads live, beside the plugin's prefixes. */
const STATE_PREFIX = 'tus/';
/** A storage key, as it appears in an upload URL: path segments of safe characters, none starting with a dot. */
const KEY = /^[\w-][\w.-]*(?:\/[\w-][\w.-]*)*$/;
const MAX_KEY_LENGTH = 512;
/** tus-js-client's names for the file's name and media type. */
const NAME = 'filename';
const TYPE = 'filetype';
/** The file id, kept in the upload's tus metadata so that each request can be checked with `owns`. */
const FILE_ID = 'fileId';
/** The plugin's code for a file over FILES_MAX_SIZE (FilesErrorCode.TOO_LARGE in service.ts). */
const TOO_LARGE = 'FILES_TOO_LARGE';
/** What this route answers (GET is not offered: downloads go through the plugin's checks). */
const METHODS = 'OPTIONS, POST, HEAD, PATCH, DELETE';

/** What tus keeps for one store, and the two things done with it beside the protocol. */
interface UploadStore {
  store: DataStore;
  /** The file id of the unfinished upload at `key`, or null when there is none. */
  fileIdOf(key: string): Promise<string | null>;
  /** Drops tus's records of an upload whose bytes are all at `key` (the bytes stay). */
  forget(key: string): Promise<void>;
}

const isKey = (key: string): boolean => key.length <= MAX_KEY_LENGTH && KEY.test(key) && !key.startsWith(STATE_PREFIX);

export function createTusUploads(options: TusUploadsOptions): TusUploads {
  const { path, maxSize, hooks, log } = options;
  const uploads = openStore(options);
  // What handle() learned of a creation, for @tus/server's callbacks within the same request.
  const creations = new AsyncLocalStorage<{ id: string; key: string }>();

  const statusOf = (code: string): number =>
    options.errors[code]?.status ??
    (ERRORS as Record<string, { status: number }>)[code]?.status ??
    ERRORS.BAD_USER_INPUT.status;

  /** A hook's refusal as [status, code, message], or null for a failure that is no client's doing. */
  function refusal(error: unknown): [number, string, string] | null {
    if (error instanceof InputError) return [statusOf(error.code), error.code, error.message];
    const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
    if (error instanceof Error && typeof code === 'string' && code !== ERRORS.INTERNAL_SERVER_ERROR.code)
      return [statusOf(code), code, error.message];
    return null;
  }

  const server = new Server({
    path,
    datastore: uploads.store,
    maxSize,
    relativeLocation: true,
    namingFunction: () => {
      const created = creations.getStore();
      if (!created) throw new Error('tus creation outside handle()');
      return created.key;
    },
    getFileIdFromRequest: (request) => keyOf(new URL(request.url).pathname) ?? undefined,
    // Only what the plugin reads is kept: other keys could set headers on the S3 object.
    onUploadCreate: async (_request, upload) => ({
      metadata: {
        [NAME]: upload.metadata?.[NAME] ?? null,
        [TYPE]: upload.metadata?.[TYPE] ?? null,
        contentType: upload.metadata?.[TYPE] ?? null,
        [FILE_ID]: creations.getStore()!.id,
      },
    }),
    onUploadFinish: async (_request, upload) => {
      const id = upload.metadata?.[FILE_ID];
      try {
        if (!id) throw new Error(`tus upload ${upload.id} has no file id`);
        await uploads.forget(upload.id);
        await hooks.finished(id, upload.id);
        return {};
      } catch (error) {
        const refused = refusal(error);
        if (!refused) log.error({ err: error }, `files: upload ${upload.id} could not be finished`);
        const [status, code, message] = refused ?? [
          500,
          ERRORS.INTERNAL_SERVER_ERROR.code,
          'The upload could not be finished',
        ];
        return {
          status_code: status,
          headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
          body: errorBody(code, message),
        };
      }
    },
    // tus's own protocol errors keep their status and text; anything else is logged and masked.
    onResponseError: (_request, error) => {
      if ('status_code' in error) return undefined;
      log.error({ err: error }, 'files: tus request failed');
      return { status_code: 500, body: TUS_ERRORS.UNKNOWN_ERROR.body };
    },
  });

  /** The key in an upload URL's path, or null when the path names none. */
  function keyOf(pathname: string): string | null {
    if (!pathname.startsWith(`${path}/`)) return null;
    let key: string;
    try {
      key = decodeURIComponent(pathname.slice(path.length + 1));
    } catch {
      return null;
    }
    return isKey(key) ? key : null;
  }

  /** Checks a creation before tus stores anything, and reserves the file with `hooks.create`. */
  async function create(request: IncomingMessage, response: ServerResponse, session: Session): Promise<void> {
    const header = (name: string) => request.headers[name] as string | undefined;
    const bad = (message: string) => refuse(response, 400, ERRORS.BAD_REQUEST.code, message);
    if (header('upload-concat') !== undefined) return bad('Parallel uploads (Upload-Concat) are not supported');
    const length = header('upload-length');
    if (length === undefined || header('upload-defer-length') !== undefined)
      return bad('Upload-Length is required (a deferred length is not supported)');
    if (!/^\d{1,16}$/.test(length) || Number(length) < 1)
      return bad('Upload-Length must be a whole number of bytes, at least 1');
    const size = Number(length);
    if (size > maxSize)
      return refuse(response, 413, TOO_LARGE, `Upload-Length ${size} is over the limit of ${maxSize} bytes`);
    let metadata: Record<string, string | null> = {};
    try {
      const raw = header('upload-metadata');
      if (raw !== undefined) metadata = Metadata.parse(raw);
    } catch {
      return bad('Upload-Metadata is malformed (comma-separated keys, each with a base64 value)');
    }
    const name = metadata[NAME];
    const contentType = metadata[TYPE];
    if (!name || !contentType) return bad(`Upload-Metadata must carry ${NAME} and ${TYPE}`);

    let created: { id: string; key: string };
    try {
      created = await hooks.create(session, { name, contentType, size });
    } catch (error) {
      const refused = refusal(error);
      if (refused) return refuse(response, ...refused);
      log.error({ err: error }, 'files: tus upload could not be created');
      return refuse(response, 500, ERRORS.INTERNAL_SERVER_ERROR.code, 'The upload could not be created');
    }
    if (!isKey(created.key)) throw new Error(`hooks.create returned a storage key tus cannot address: ${created.key}`);
    await creations.run(created, () => server.handle(request, response));
  }

  /** Lets the owner (or an admin) act on an existing upload. */
  async function onUpload(request: IncomingMessage, response: ServerResponse, session: Session, key: string) {
    const id = await uploads.fileIdOf(key);
    if (id === null) return refuse(response, 404, ERRORS.NOT_FOUND.code, 'No unfinished upload at this URL');
    if (!(await hooks.owns(session, id)))
      return refuse(response, 403, ERRORS.FORBIDDEN.code, 'This upload is not yours');
    await server.handle(request, response);
  }

  return {
    async handle(request, response, session) {
      const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (pathname !== path && !pathname.startsWith(`${path}/`))
        return refuse(response, 404, ERRORS.NOT_FOUND.code, `No tus route at ${pathname}`);
      const { method } = request;
      if (method === 'OPTIONS') return server.handle(request, response);
      if (!session || (!session.userId && session.role !== 'admin'))
        return refuse(response, 401, ERRORS.UNAUTHENTICATED.code, 'Uploads need a signed-in user');
      const creation = method === 'POST' && pathname === path;
      if (!creation && method !== 'HEAD' && method !== 'PATCH' && method !== 'DELETE')
        return refuse(response, 405, ERRORS.BAD_REQUEST.code, `${method} ${pathname} is not a tus request`, {
          allow: METHODS,
        });
      // Without Tus-Resumable, @tus/server answers 412 before anything else happens.
      if (request.headers['tus-resumable'] === undefined) return server.handle(request, response);
      try {
        if (creation) return await create(request, response, session);
        const key = keyOf(pathname);
        if (key === null) return refuse(response, 404, ERRORS.NOT_FOUND.code, 'No upload at this URL');
        return await onUpload(request, response, session, key);
      } catch (error) {
        log.error({ err: error }, 'files: tus request failed');
        if (!response.headersSent)
          refuse(response, 500, ERRORS.INTERNAL_SERVER_ERROR.code, 'The upload request failed');
        else response.destroy();
      }
    },

    async discard(key) {
      if (!isKey(key) || (await uploads.fileIdOf(key)) === null) return false;
      await uploads.store.remove(key);
      return true;
    },
  };
}

function errorBody(code: string, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

/** An answer of this module's own, with what a browser's tus client needs to read it. */
function refuse(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendError(response, { code, status }, message, {
    headers: {
      'tus-resumable': TUS_RESUMABLE,
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSED_HEADERS,
      ...headers,
    },
  });
}

function openStore(options: TusUploadsOptions): UploadStore {
  const { storage } = options;
  const extensions = ['creation', 'creation-with-upload', 'termination'];
  if (storage.kind === 'local') {
    // FileStore creates its directory in the background and throws from a callback on failure.
    mkdirSync(storage.dir, { recursive: true });
    const records = new UploadRecords(join(storage.dir, STATE_PREFIX));
    const store = new FileStore({ directory: storage.dir, configstore: records });
    // Neither a deferred length nor expiry is offered: OPTIONS says what is.
    store.extensions = extensions;
    return {
      store,
      fileIdOf: async (key) => (await records.get(key))?.metadata?.[FILE_ID] ?? null,
      forget: (key) => records.delete(key),
    };
  }
  const { s3 } = storage;
  const store = new TusS3Store({
    partSize: options.partSize ?? 8 * MiB,
    maxConcurrentPartUploads: options.maxConcurrentPartUploads ?? 8,
    cache: new BoundedCache(1000),
    s3ClientConfig: {
      bucket: s3.bucket,
      region: s3.region,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3.forcePathStyle,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    },
  });
  store.extensions = extensions;
  return { store, fileIdOf: (key) => store.fileIdOf(key), forget: (key) => store.forget(key) };
}

/** @tus/s3-store with its records under `tus/` (the store's own hooks for that) and a way to drop them. */
class TusS3Store extends S3Store {
  protected override infoKey(id: string): string {
    return `${STATE_PREFIX}${id}.info`;
  }

  protected override partKey(id: string, isIncomplete = false): string {
    return isIncomplete ? `${STATE_PREFIX}${id}.part` : id;
  }

  async fileIdOf(key: string): Promise<string | null> {
    try {
      return (await this.getMetadata(key)).file.metadata?.[FILE_ID] ?? null;
    } catch (error) {
      if ((error as { name?: unknown }).name === 'NoSuchKey') return null;
      throw error;
    }
  }

  async forget(key: string): Promise<void> {
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: this.infoKey(key) }, { Key: this.partKey(key, true) }] },
    });
    await this.clearCache(key);
  }

  // The store's remove leaves a pending incomplete part behind.
  override async remove(id: string): Promise<void> {
    await super.remove(id);
    await this.client.deleteObject({ Bucket: this.bucket, Key: this.partKey(id, true) });
  }
}

/** @tus/s3-store caches each upload's record; a Map with a ceiling keeps abandoned ones from piling up. */
class BoundedCache<T> implements KvStore<T> {
  private readonly entries = new Map<string, T>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  async get(key: string): Promise<T | undefined> {
    return this.entries.get(key);
  }
  async set(key: string, value: T): Promise<void> {
    this.entries.delete(key);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

/**
 * @tus/file-store's records, one JSON file per upload at `<dir>/<key>.json`. Its own FileKvStore
 * writes beside the bytes and creates no folders, so `uploads/<id>` would not fit in it.
 */
class UploadRecords implements KvStore<Upload> {
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  private file(key: string): string {
    if (!isKey(key)) throw TUS_ERRORS.FILE_NOT_FOUND;
    return join(this.dir, `${key}.json`);
  }
  async get(key: string): Promise<Upload | undefined> {
    try {
      return JSON.parse(await readFile(this.file(key), 'utf8')) as Upload;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  async set(key: string, value: Upload): Promise<void> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}
