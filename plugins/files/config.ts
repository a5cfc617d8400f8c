import { ConfigError, type ConfigValues } from '../../gateway/sdk.ts';

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export interface FilesConfig {
  /** S3 when a bucket is configured, else the local disk. */
  s3: S3Settings | null;
  localDir: string;
  publicUrl: string | null;
  localSecret: string | null;
  maxSize: number;
  allowedTypes: string[];
  maxPixels: number;
  thumbnailSizes: { width: number; height: number }[];
  avif: boolean;
  stripOriginalMetadata: boolean;
  virusScan: { host: string; port: number; socket: string | undefined } | null;
  /** Told with the owner when a file is quarantined. */
  alertUsers: string[];
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  uploadUrlTtl: number;
  downloadUrlTtl: number;
  maxPendingUploads: number;
  maxAttempts: number;
  concurrency: number;
}

const problem = (variable: string, message: string) => new ConfigError([{ variable, owner: 'files', message }]);

export function readFilesConfig(values: ConfigValues): FilesConfig {
  const bucket = values.optionalString('FILES_S3_BUCKET');
  let s3: S3Settings | null = null;
  if (bucket) {
    const accessKeyId = values.optionalString('FILES_S3_ACCESS_KEY_ID');
    const secretAccessKey = values.optionalString('FILES_S3_SECRET_ACCESS_KEY');
    if (!accessKeyId) throw problem('FILES_S3_ACCESS_KEY_ID', 'must be set with FILES_S3_BUCKET');
    if (!secretAccessKey) throw problem('FILES_S3_SECRET_ACCESS_KEY', 'must be set with FILES_S3_BUCKET');
    s3 = {
      endpoint: values.optionalString('FILES_S3_ENDPOINT'),
      region: values.string('FILES_S3_REGION'),
      bucket,
      accessKeyId,
      secretAccessKey,
      forcePathStyle: values.boolean('FILES_S3_FORCE_PATH_STYLE'),
    };
  }
  const thumbnailSizes = values
    .string('FILES_THUMBNAIL_SIZES')
    .split(',')
    .map((box) => {
      const [width, height] = box.split('x').map(Number) as [number, number];
      if (width < 1 || height < 1 || width > 10_000 || height > 10_000)
        throw problem('FILES_THUMBNAIL_SIZES', `${box}: each side must be 1–10000 pixels`);
      return { width, height };
    });
  return {
    s3,
    localDir: values.string('FILES_LOCAL_DIR'),
    publicUrl: values.optionalString('FILES_PUBLIC_URL')?.replace(/\/+$/, '') ?? null,
    localSecret: values.optionalString('FILES_LOCAL_SECRET') ?? null,
    maxSize: values.number('FILES_MAX_SIZE'),
    allowedTypes: values.string('FILES_ALLOWED_TYPES').split(','),
    maxPixels: values.number('FILES_MAX_PIXELS'),
    thumbnailSizes,
    avif: values.boolean('FILES_AVIF'),
    stripOriginalMetadata: values.boolean('FILES_STRIP_ORIGINAL_METADATA'),
    virusScan: values.boolean('FILES_VIRUS_SCAN')
      ? {
          host: values.string('FILES_CLAMD_HOST'),
          port: values.number('FILES_CLAMD_PORT'),
          socket: values.optionalString('FILES_CLAMD_SOCKET'),
        }
      : null,
    alertUsers: values.optionalString('FILES_ALERT_USERS')?.split(',') ?? [],
    ffmpegPath: values.optionalString('FILES_FFMPEG_PATH'),
    ffprobePath: values.optionalString('FILES_FFPROBE_PATH'),
    uploadUrlTtl: values.number('FILES_UPLOAD_URL_TTL'),
    downloadUrlTtl: values.number('FILES_DOWNLOAD_URL_TTL'),
    maxPendingUploads: values.number('FILES_MAX_PENDING_UPLOADS'),
    maxAttempts: values.number('FILES_MAX_ATTEMPTS'),
    concurrency: values.number('FILES_CONCURRENCY'),
  };
}
