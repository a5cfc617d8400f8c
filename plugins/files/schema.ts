/**
 * GraphQL of the files plugin. A signed-in user uploads (createUpload, PUT, completeUpload), lists
 * and reads their own files and deletes them; admins see and delete every file and reprocess one.
 * URLs are presigned and short-lived, and never handed out for a quarantined file.
 */
import {
  type Builder,
  ErrorCode,
  InputError,
  type KeysetRow,
  type PluginRuntime,
  type Session,
  forwardConnection,
  signedInUser,
} from '../../gateway/sdk.ts';
import type { FilesConfig } from './config.ts';
import { type Derivative, type FilesService, type FileStatus, type FileView, isUuid, mayRead } from './service.ts';
import { filesSql } from './sql.ts';
import { FILE_PROCESSED, type FileProcessedEvent } from './topics.ts';

export function addFilesSchema(
  builder: Builder,
  runtime: PluginRuntime<FilesConfig>,
  service: () => FilesService,
): void {
  const StatusEnum = builder.enumType('FileStatus', {
    description: 'Where a file is in its life.',
    values: {
      UPLOADING: { value: 'uploading', description: 'Created; its bytes are not confirmed yet (completeUpload).' },
      PROCESSING: { value: 'processing', description: 'Uploaded and checked; being processed.' },
      PENDING_SCAN: {
        value: 'pending_scan',
        description: 'Waiting for the virus scanner, which was unreachable; retried.',
      },
      READY: { value: 'ready', description: 'Processed: derivatives and metadata are there.' },
      FAILED: { value: 'failed', description: 'Refused or could not be processed; `error` says why.' },
      INFECTED: { value: 'infected', description: 'The scanner found a virus: quarantined, never downloadable.' },
    } as const satisfies Record<string, { value: FileStatus; description: string }>,
  });

  const DerivativeType = builder.objectRef<{ file: FileView; derivative: Derivative }>('FileThumbnail').implement({
    description: 'A derivative of a file: a thumbnail, an optimized copy, a video poster or a PDF preview.',
    fields: (t) => ({
      kind: t.string({
        description: 'thumbnail, optimized, poster or preview',
        resolve: ({ derivative }) => derivative.kind,
      }),
      format: t.string({ resolve: ({ derivative }) => derivative.format }),
      width: t.int({ resolve: ({ derivative }) => derivative.width }),
      height: t.int({ resolve: ({ derivative }) => derivative.height }),
      size: t.string({ description: 'Bytes.', resolve: ({ derivative }) => String(derivative.size) }),
      url: t.string({
        nullable: true,
        description: 'A short-lived download URL.',
        resolve: ({ file, derivative }) => service().derivativeUrl(file, derivative),
      }),
    }),
  });

  const MetadataType = builder.objectRef<NonNullable<FileView['meta']>>('FileMetadata').implement({
    description: 'What a file is. GPS positions are never kept.',
    fields: (t) => ({
      format: t.exposeString('format', { nullable: true }),
      width: t.exposeInt('width', { nullable: true }),
      height: t.exposeInt('height', { nullable: true }),
      cameraMake: t.exposeString('camera_make', { nullable: true }),
      cameraModel: t.exposeString('camera_model', { nullable: true }),
      takenAt: t.exposeString('taken_at', {
        nullable: true,
        description:
          "When the photo was taken, as the camera's clock said (ISO 8601; with an offset only when the camera recorded one).",
      }),
      durationSeconds: t.exposeFloat('duration_seconds', { nullable: true }),
      videoCodec: t.exposeString('video_codec', { nullable: true }),
      audioCodec: t.exposeString('audio_codec', { nullable: true }),
      pageCount: t.exposeInt('page_count', { nullable: true }),
    }),
  });

  const ScanType = builder.objectRef<NonNullable<FileView['scan']>>('FileScan').implement({
    description: 'The newest virus scan of a file.',
    fields: (t) => ({
      engine: t.exposeString('engine'),
      signatureVersion: t.exposeString('signature_version', { nullable: true }),
      result: t.exposeString('result', { description: 'clean or infected' }),
      signatureName: t.exposeString('signature_name', { nullable: true }),
      scannedAt: t.field({ type: 'DateTime', resolve: (s) => new Date(s.scanned_at) }),
    }),
  });

  const FileType = builder.objectRef<FileView>('File').implement({
    description: 'An uploaded file.',
    fields: (t) => ({
      id: t.exposeID('id'),
      ownerId: t.exposeString('owner_id'),
      name: t.exposeString('name'),
      contentType: t.string({
        description: 'The type its bytes are (once uploaded), else the announced one.',
        resolve: (f) => f.detected_type ?? f.declared_type,
      }),
      size: t.string({ description: 'Bytes.', resolve: (f) => String(f.size) }),
      sha256: t.exposeString('sha256', { nullable: true }),
      status: t.field({ type: StatusEnum, resolve: (f) => f.status }),
      error: t.exposeString('error', { nullable: true }),
      createdAt: t.field({ type: 'DateTime', resolve: (f) => new Date(f.created_at) }),
      processedAt: t.field({
        type: 'DateTime',
        nullable: true,
        resolve: (f) => (f.processed_at ? new Date(f.processed_at) : null),
      }),
      url: t.string({
        nullable: true,
        description:
          'A short-lived download URL of the original; null until uploaded, and for a refused or infected file.',
        resolve: (f) => service().originalUrl(f),
      }),
      thumbnails: t.field({
        type: [DerivativeType],
        resolve: (f) => (f.status === 'infected' ? [] : f.derivatives.map((derivative) => ({ file: f, derivative }))),
      }),
      metadata: t.field({ type: MetadataType, nullable: true, resolve: (f) => f.meta }),
      scan: t.field({ type: ScanType, nullable: true, resolve: (f) => f.scan }),
    }),
  });

  const UploadType = builder
    .objectRef<{ file: FileView; url: string; headers: Record<string, string>; expiresAt: Date }>('FileUpload')
    .implement({
      description: 'Where to PUT the bytes of a new file, then call completeUpload.',
      fields: (t) => ({
        file: t.field({ type: FileType, resolve: (u) => u.file }),
        url: t.exposeString('url', { description: 'PUT the bytes here, with the headers below.' }),
        method: t.string({ resolve: () => 'PUT' }),
        headers: t.field({ type: 'JSON', description: 'Headers the PUT must carry.', resolve: (u) => u.headers }),
        expiresAt: t.field({ type: 'DateTime', resolve: (u) => u.expiresAt }),
      }),
    });

  const FilterInput = builder.inputType('FilesFilter', {
    fields: (t) => ({
      status: t.field({ type: StatusEnum }),
      type: t.string({ description: 'Media types starting with this (image/, video/mp4).' }),
    }),
  });

  const OrderEnum = builder.enumType('FilesOrder', {
    values: {
      NEWEST_FIRST: { value: 'files-page', description: 'By upload time, newest first (the default).' },
      OLDEST_FIRST: { value: 'files-page-oldest', description: 'By upload time, oldest first.' },
    } as const,
  });

  builder.queryFields((t) => ({
    files: t.connection({
      type: FileType,
      description: "The caller's files, newest first (an admin's: every file).",
      authScopes: { loggedIn: true, admin: true },
      args: {
        filter: t.arg({ type: FilterInput }),
        orderBy: t.arg({ type: OrderEnum, defaultValue: 'files-page' }),
      },
      resolve: (_root, args, context) => {
        const owner = context.session.role === 'admin' ? null : signedInUser(context.session);
        const type = args.filter?.type ?? null;
        if (type !== null && (type.length > 100 || !/^[a-z0-9.+/-]*$/.test(type)))
          throw new InputError('filter.type must be a media type or its start (image/)');
        return forwardConnection('files', args, async (after, limit) => {
          const { rows } = await runtime.db.query<FileView & KeysetRow>(filesSql(args.orderBy ?? 'files-page'), [
            owner,
            limit,
            after?.at ?? null,
            after?.id ?? null,
            args.filter?.status ?? null,
            type,
          ]);
          return rows;
        });
      },
    }),
    file: t.field({
      type: FileType,
      nullable: true,
      description: 'One of the caller’s files (any file for an admin); null when there is none the caller may see.',
      authScopes: { loggedIn: true, admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: async (_root, { id }, context) => {
        const file = await service().view(String(id));
        return file && mayRead(context.session, file) ? file : null;
      },
    }),
  }));

  builder.mutationFields((t) => ({
    createUpload: t.field({
      type: UploadType,
      description:
        'Starts an upload: returns the file and a URL to PUT its bytes to (valid FILES_UPLOAD_URL_TTL seconds). At most FILES_MAX_PENDING_UPLOADS uploads per user may wait for completeUpload.',
      authScopes: { loggedIn: true },
      args: {
        filename: t.arg.string({ required: true }),
        contentType: t.arg.string({ required: true }),
        size: t.arg.int({ required: true, description: 'Bytes.' }),
      },
      resolve: (_root, args, context) =>
        service().createUpload(signedInUser(context.session), {
          name: args.filename,
          contentType: args.contentType,
          size: args.size,
        }),
    }),
    completeUpload: t.field({
      type: FileType,
      description: 'Confirms the bytes were PUT: checks their size and type (by content) and queues the processing.',
      authScopes: { loggedIn: true, admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, context) => service().completeUpload(context.session, String(id)),
    }),
    deleteFile: t.boolean({
      description: 'Deletes a file, its object and its derivatives (its owner, or an admin).',
      authScopes: { loggedIn: true, admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, context) => service().delete(context.session, String(id)),
    }),
    reprocessFile: t.field({
      type: FileType,
      nullable: true,
      description: 'Processes a file again (admins).',
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }) => service().reprocess(String(id)),
    }),
  }));

  const ProcessedType = builder.objectRef<FileProcessedEvent>('FileProcessedEvent').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      status: t.string({ description: 'ready, failed, infected, pending_scan or deleted', resolve: (e) => e.status }),
    }),
  });

  builder.subscriptionFields((t) => ({
    fileProcessed: t.field({
      type: ProcessedType,
      description: 'When the processing of one of the caller’s files ends (or it is deleted).',
      authScopes: { loggedIn: true, admin: true },
      args: { id: t.arg.id({ required: true }) },
      subscribe: async (_root, { id }, context) => {
        await visibleTo(context.session, String(id));
        return runtime.pubsub.subscribe(FILE_PROCESSED, String(id));
      },
      resolve: (event) => event,
    }),
  }));

  async function visibleTo(session: Session, id: string): Promise<void> {
    if (!isUuid(id)) throw new InputError(`no file ${id}`, ErrorCode.NOT_FOUND);
    await service().visible(session, id);
  }
}
