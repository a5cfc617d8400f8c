/**
 * Image processing with sharp: thumbnails, an optimized WebP (and AVIF) copy, the metadata worth
 * keeping, and the original without its metadata. Every derivative is re-encoded without EXIF,
 * GPS, XMP or IPTC (sharp writes none unless told to keep them) and with the EXIF orientation
 * applied, so it displays upright without the tag. The pixel cap is checked on the header before
 * anything is decoded (decompression bombs), and again by libvips while decoding.
 */
import exifr from 'exifr';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { FileRejectedError, MediaErrorCode } from './media-errors.ts';

export type ImageInput = Buffer | string;

export interface ImageSize {
  width: number;
  height: number;
}

export interface ImageInfo {
  /** sharp's name of the format: jpeg, png, webp, gif, heif (AVIF/HEIC), tiff… */
  format: string;
  /** As displayed: after the EXIF orientation. */
  width: number;
  height: number;
  /** The EXIF orientation (1–8); 1 when the image has none. */
  orientation: number;
  /** Frames of an animated GIF or WebP; 1 for a still image. */
  pages: number;
  hasAlpha: boolean;
  /** The raw EXIF block, when the image has one. */
  exif: Buffer | null;
}

/** An encoded image: a derivative, or the original without its metadata. */
export interface EncodedImage {
  data: Buffer;
  /** sharp's format name: webp, avif, jpeg, png… */
  format: string;
  mime: string;
  width: number;
  height: number;
  /** Bytes. */
  size: number;
}

export interface Thumbnail extends EncodedImage {
  /** The box it was made for (one of FILES_THUMBNAIL_SIZES); the image fits inside it. */
  box: ImageSize;
}

/** What is kept about an image. GPS is read by nobody and stored nowhere. */
export interface ImageMetadata {
  format: string;
  /** As displayed: after the EXIF orientation. */
  width: number;
  height: number;
  pages: number;
  hasAlpha: boolean;
  cameraMake: string | null;
  cameraModel: string | null;
  /**
   * When the photo was taken (EXIF DateTimeOriginal), as ISO 8601 `YYYY-MM-DDTHH:MM:SS`: the
   * camera's wall clock, with the offset appended (`+02:00`) only when the EXIF records it.
   */
  takenAt: string | null;
}

export interface ImageEncoding {
  /** WebP quality, 1–100. @default 80 */
  webpQuality?: number;
  /** WebP effort, 0 (fastest) – 6; 2 is about twice as fast as libwebp's 4 for ~3 % more bytes. @default 2 */
  webpEffort?: number;
  /** AVIF quality, 1–100. @default 50 */
  avifQuality?: number;
  /** AVIF effort, 0–9; a 12 MP photo takes ~7 s at 2 and ~24 s at 4 on one core. @default 2 */
  avifEffort?: number;
}

export interface ProcessImageOptions {
  /** Boxes to fit thumbnails inside; an image smaller than a box is not enlarged. */
  sizes: readonly ImageSize[];
  /** Also make an AVIF copy (FILES_AVIF). */
  avif: boolean;
  /** Images whose header claims more pixels are refused (FILES_TOO_MANY_PIXELS). */
  maxPixels: number;
  encoding?: ImageEncoding;
}

export interface ProcessedImage {
  metadata: ImageMetadata;
  /** In the order of `options.sizes`. */
  thumbnails: Thumbnail[];
  /** The whole image re-encoded, full size (the WebP animated when the original is). */
  optimized: { webp: EncodedImage; avif: EncodedImage | null };
}

const MIME_BY_FORMAT: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  tiff: 'image/tiff',
};

/** Camera names longer than this are cut: they come from the file and go to the database. */
const MAX_TEXT_LENGTH = 128;

/**
 * The header of an image, read without decoding it; refuses one that claims more than `maxPixels`
 * pixels (a frame's width × height), or that sharp cannot read.
 */
export async function imageInfo(input: ImageInput, maxPixels: number): Promise<ImageInfo> {
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) {
    throw new RangeError(`maxPixels must be a positive integer, got ${maxPixels}`);
  }
  // The limit is checked here, from the header, so that the refusal can name the dimensions;
  // reading a header decodes no pixel whatever it claims.
  const header = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch((error: unknown) => {
      throw unreadable(error);
    });
  const { width, height } = header;
  if (!width || !height) {
    throw new FileRejectedError(MediaErrorCode.IMAGE_UNREADABLE, `the ${header.format} image has no dimensions`);
  }
  if (width * height > maxPixels) {
    throw new FileRejectedError(
      MediaErrorCode.TOO_MANY_PIXELS,
      `the image is ${width} × ${height} pixels (${width * height}), over the limit of ${maxPixels}`,
    );
  }
  const orientation = header.orientation ?? 1;
  return {
    format: header.format,
    width: header.autoOrient?.width ?? width,
    height: header.autoOrient?.height ?? height,
    orientation,
    pages: header.pages ?? 1,
    hasAlpha: header.hasAlpha,
    exif: header.exif ?? null,
  };
}

/**
 * Thumbnails, the optimized copy (WebP, and AVIF when asked) and the metadata of one image. The
 * derivatives are made concurrently from clones of one pipeline (sharp runs each in its own libuv
 * thread, and JPEG's shrink-on-load keeps the small ones' decodes cheap); none carries metadata.
 */
export async function processImage(input: ImageInput, options: ProcessImageOptions): Promise<ProcessedImage> {
  for (const box of options.sizes) {
    if (!Number.isSafeInteger(box.width) || !Number.isSafeInteger(box.height) || box.width < 1 || box.height < 1) {
      throw new RangeError(`thumbnail sizes must be positive integers, got ${box.width}x${box.height}`);
    }
  }
  const info = await imageInfo(input, options.maxPixels);
  const encoding = options.encoding ?? {};
  const webp = { quality: encoding.webpQuality ?? 80, effort: encoding.webpEffort ?? 2 };
  const avif = { quality: encoding.avifQuality ?? 50, effort: encoding.avifEffort ?? 2 };

  const still = open(input, options.maxPixels).rotate();
  const full = keepsAnimation(info, options.maxPixels) ? open(input, options.maxPixels, { animated: true }) : still;

  const [thumbnails, optimizedWebp, optimizedAvif, camera] = await Promise.all([
    Promise.all(
      options.sizes.map(async (box) => ({
        ...(await encode(
          still
            .clone()
            .resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: true })
            .webp(webp),
        )),
        box: { width: box.width, height: box.height },
      })),
    ),
    encode(full.clone().webp(webp)),
    // libheif writes a multi-page image as one tall frame, so AVIF is always made from a still.
    options.avif ? encode(still.clone().avif(avif)) : null,
    readCamera(info.exif),
  ]);
  return {
    metadata: {
      format: info.format,
      width: info.width,
      height: info.height,
      pages: info.pages,
      hasAlpha: info.hasAlpha,
      ...camera,
    },
    thumbnails,
    optimized: { webp: optimizedWebp, avif: optimizedAvif },
  };
}

/**
 * The original re-encoded in its own format, upright, without EXIF/GPS/XMP/IPTC (for
 * FILES_STRIP_ORIGINAL_METADATA). The ICC profile stays, so colours do not change; JPEG and WebP
 * are re-encoded at quality 90, GIF to its palette again, PNG and TIFF (deflate) losslessly.
 */
export async function stripMetadata(input: ImageInput, maxPixels: number): Promise<EncodedImage> {
  const info = await imageInfo(input, maxPixels);
  const source = keepsAnimation(info, maxPixels)
    ? open(input, maxPixels, { animated: true })
    : open(input, maxPixels).rotate();
  const pipeline = source.keepIccProfile();
  switch (info.format) {
    case 'jpeg':
      return encode(pipeline.jpeg({ quality: 90 }));
    case 'png':
      return encode(pipeline.png());
    case 'webp':
      return encode(pipeline.webp({ quality: 90 }));
    case 'gif':
      return encode(pipeline.gif());
    case 'tiff':
      return encode(pipeline.tiff({ compression: 'deflate' }));
    case 'heif':
      return encode(pipeline.avif({ quality: 70 }));
    default:
      throw new FileRejectedError(
        MediaErrorCode.IMAGE_UNREADABLE,
        `a ${info.format} image cannot be re-encoded without its metadata`,
      );
  }
}

function open(input: ImageInput, maxPixels: number, extra: SharpOptions = {}): Sharp {
  return sharp(input, { limitInputPixels: maxPixels, failOn: 'error', ...extra });
}

/**
 * An animated original keeps its animation in the copies when all its frames together fit the
 * pixel cap and it needs no rotation (libvips turns a multi-page image only by 180°); otherwise
 * its first frame stands for it.
 */
function keepsAnimation(info: ImageInfo, maxPixels: number): boolean {
  return info.pages > 1 && info.orientation === 1 && info.width * info.height * info.pages <= maxPixels;
}

async function encode(pipeline: Sharp): Promise<EncodedImage> {
  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    // libvips names AVIF output by its container, heif.
    const format = info.format === 'heif' ? 'avif' : info.format;
    return {
      data,
      format,
      mime: MIME_BY_FORMAT[format] ?? `image/${format}`,
      width: info.width,
      // An animated output's height is that of the whole strip of frames.
      height: info.pageHeight ?? info.height,
      size: data.length,
    };
  } catch (error) {
    throw unreadable(error);
  }
}

function unreadable(error: unknown): FileRejectedError {
  const reason = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(reason)) {
    return new FileRejectedError(MediaErrorCode.TOO_MANY_PIXELS, `the image is over the pixel limit: ${reason}`, {
      cause: error,
    });
  }
  return new FileRejectedError(MediaErrorCode.IMAGE_UNREADABLE, `the image cannot be read: ${reason}`, {
    cause: error,
  });
}

/** Make, model and taken-at from the EXIF block; a block exifr cannot parse yields none of them. */
async function readCamera(exif: Buffer | null): Promise<Pick<ImageMetadata, 'cameraMake' | 'cameraModel' | 'takenAt'>> {
  const none = { cameraMake: null, cameraModel: null, takenAt: null };
  if (!exif) return none;
  // libvips hands the APP1 payload ("Exif\0\0" then TIFF); exifr reads the TIFF structure itself.
  const tiff = exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? exif.subarray(6) : exif;
  let tags: unknown;
  try {
    tags = await exifr.parse(tiff, {
      pick: ['Make', 'Model', 'DateTimeOriginal', 'OffsetTimeOriginal'],
      reviveValues: false,
      translateValues: false,
    });
  } catch {
    return none;
  }
  if (typeof tags !== 'object' || tags === null) return none;
  const record = tags as Record<string, unknown>;
  return {
    cameraMake: cleanText(record['Make']),
    cameraModel: cleanText(record['Model']),
    takenAt: exifDateTime(record['DateTimeOriginal'], record['OffsetTimeOriginal']),
  };
}

function cleanText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value
    .replace(/\p{Cc}/gu, '')
    .trim()
    .slice(0, MAX_TEXT_LENGTH)
    .trim();
  return text || null;
}

const EXIF_DATE_TIME = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/;
const EXIF_OFFSET = /^[+-](0\d|1[0-4]):[0-5]\d$/;

/** EXIF's `YYYY:MM:DD HH:MM:SS` as ISO 8601; cameras write `0000:00:00 00:00:00` when unset. */
export function exifDateTime(value: unknown, offset: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = EXIF_DATE_TIME.exec(value.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const valid =
    year >= 1800 &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60;
  if (!valid) return null;
  const zone = typeof offset === 'string' && EXIF_OFFSET.test(offset.trim()) ? offset.trim() : '';
  return `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}${zone}`;
}
