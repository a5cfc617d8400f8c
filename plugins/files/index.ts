/**
 * The files plugin: uploads straight from the browser to S3-compatible storage (or, with no
 * bucket, to the local disk through the gateway's signed route), checked on their content, then
 * processed on the job queue: thumbnails and optimized copies without EXIF or GPS, video posters,
 * PDF previews, and ClamAV scans that quarantine what is infected.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  definePlugin,
  ErrorCode,
  InputError,
  PermanentJobError,
  type PluginErrors,
  type PluginRuntime,
} from '../../gateway/sdk.ts';
import { addFilesCommands } from './cli.ts';
import { type FilesConfig, readFilesConfig } from './config.ts';
import manifest from './plugin.json' with { type: 'json' };
import { MEDIA_ERRORS } from './media-errors.ts';
import type { FileProcessor } from './processing.ts';
import { addFilesSchema } from './schema.ts';
import { FilesErrorCode, FilesService, mayRead, PROCESS_JOB, QUEUE } from './service.ts';
import { filesSql } from './sql.ts';
import type { FileStorage } from './storage.ts';
import { createLocalStorage, type LocalFileStorage } from './storage-local.ts';
import { FILE_PROCESSED } from './topics.ts';
import type { TusUploads } from './tus.ts';

export const LOCAL_ROUTE = '/files/local';
export const TUS_ROUTE = '/files/tus';

/** The plugin's error codes: its own, and the media processing's. */
const FILES_ERRORS = {
  ...MEDIA_ERRORS,
  [FilesErrorCode.TOO_LARGE]: { status: 413, description: 'a file over `FILES_MAX_SIZE`' },
  [FilesErrorCode.TYPE_NOT_ALLOWED]: {
    status: 415,
    description:
      'a file whose type (announced, or found in its bytes) is not in `FILES_ALLOWED_TYPES`, or whose bytes are not the type announced',
  },
  [FilesErrorCode.UPLOAD_INCOMPLETE]: {
    status: 409,
    description: 'completeUpload before the bytes were PUT, or with another size than announced',
  },
  [FilesErrorCode.TOO_MANY_UPLOADS]: {
    status: 429,
    description: 'a user with `FILES_MAX_PENDING_UPLOADS` uploads started and not completed',
  },
} satisfies PluginErrors;

/** What the plugin works with once started (the local signing key may live in Postgres). */
interface OpenedFiles {
  storage: FileStorage;
  /** The local storage, whose signed route the gateway serves; null with S3. */
  local: LocalFileStorage | null;
  service: FilesService;
  processor: FileProcessor;
  /** Resumable uploads (tus) into the same storage. */
  tus: TusUploads;
}

interface FilesInstance {
  opening: Promise<OpenedFiles> | null;
  opened: OpenedFiles | null;
}

async function openFiles(runtime: PluginRuntime<FilesConfig>): Promise<OpenedFiles> {
  const { config } = runtime;
  // The media tools (sharp, pdf.js), tus and the S3 client load here, when the plugin opens, not
  // with every CLI command.
  const [{ FileProcessor }, { createTusUploads }] = await Promise.all([import('./processing.ts'), import('./tus.ts')]);
  let local: LocalFileStorage | null = null;
  let storage: FileStorage;
  if (config.s3) storage = (await import('./storage-s3.ts')).createS3Storage(config.s3);
  else {
    const secret =
      config.localSecret ??
      (await runtime.db.query<{ secret: string }>(filesSql('signing-key'), [randomBytes(32).toString('base64url')]))
        .rows[0]!.secret;
    local = createLocalStorage({
      dir: config.localDir,
      baseUrl: config.publicUrl ?? '',
      secret,
      routePath: LOCAL_ROUTE,
    });
    storage = local;
  }
  const scanner = config.virusScan
    ? (await import('./scan.ts')).createClamdScanner({ ...config.virusScan, maxBytes: config.maxSize })
    : null;
  const service = new FilesService(runtime, storage);
  const tus = createTusUploads({
    path: TUS_ROUTE,
    maxSize: config.maxSize,
    storage: config.s3 ? { kind: 's3', s3: config.s3 } : { kind: 'local', dir: join(config.localDir, 'objects') },
    errors: FILES_ERRORS,
    log: runtime.log,
    hooks: {
      create: async (session, file) => {
        if (!session.userId) throw new InputError('uploads need a signed-in user', ErrorCode.UNAUTHENTICATED);
        const { id, key } = await service.reserve(session.userId, file);
        return { id, key };
      },
      owns: async (session, id) => {
        const file = await service.view(id);
        return file !== null && mayRead(session, file);
      },
      finished: async (id) => {
        await service.completeStored(id);
      },
    },
  });
  return { storage, local, service, processor: new FileProcessor(runtime, storage, scanner), tus };
}

/** Opens the plugin's services once, whoever asks first (start, a job, a route, a CLI command). */
function open(runtime: PluginRuntime<FilesConfig>, instance: FilesInstance): Promise<OpenedFiles> {
  instance.opening ??= openFiles(runtime).then((opened) => {
    instance.opened = opened;
    return opened;
  });
  return instance.opening;
}

export default definePlugin<FilesConfig, FilesInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  topics: [FILE_PROCESSED],
  config: readFilesConfig,
  setup: () => ({ opening: null, opened: null }),
  schema: (builder, runtime, instance) =>
    addFilesSchema(builder, runtime, () => {
      const { opened } = instance();
      if (!opened) throw new Error('the files plugin has not started');
      return opened.service;
    }),
  routes: (runtime, instance) => [
    {
      method: 'ANY',
      path: TUS_ROUTE,
      prefix: true,
      access: 'session',
      handler: async (request, response, session) =>
        (await open(runtime, instance())).tus.handle(request, response, session),
    },
    {
      method: 'ANY',
      path: LOCAL_ROUTE,
      prefix: true,
      access: 'public',
      handler: async (request, response) => {
        const { local } = await open(runtime, instance());
        if (!local) {
          response.writeHead(404).end();
          return;
        }
        await local.handle(request, response);
      },
    },
  ],
  hasura: {
    actions: {
      createUpload: { kind: 'synchronous', roles: ['user'] },
      completeUpload: { kind: 'synchronous', roles: ['user'] },
    },
  },
  jobs: (runtime, instance) => ({
    [QUEUE]: {
      get concurrency() {
        return runtime.config.concurrency;
      },
      timeoutMs: 300_000,
      handlers: {
        [PROCESS_JOB]: async (data, job) => {
          const id = (data as { id?: unknown } | null)?.id;
          if (typeof id !== 'string') throw new PermanentJobError('process needs { id }');
          const { processor } = await open(runtime, instance());
          return { status: await processor.process(id, job.attempt >= job.maxAttempts) };
        },
      },
    },
  }),
  commands: (command, openPlugin) =>
    addFilesCommands(command, async () => {
      const { runtime, instance } = await openPlugin();
      return { runtime, ...(await open(runtime, instance)) };
    }),
  errors: FILES_ERRORS,
  async start(runtime, instance) {
    const { storage } = await open(runtime, instance);
    await storage.check();
  },
  async stop(_runtime, instance) {
    (await instance.opening)?.storage.close();
  },
});
