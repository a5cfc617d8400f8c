/**
 * The image work of the files plugin done with raw sharp, as anyone would write it: the header's
 * metadata, a WebP thumbnail fitting each box (never enlarged) and the whole image as WebP, all
 * upright (EXIF orientation applied), made concurrently from clones of one pipeline. The encoder
 * settings are plugins/files/images.ts's defaults; bench/files-images.ts checks, before it
 * measures, that this makes the very bytes the plugin's `processImage` makes.
 */
import sharp, { type Metadata } from 'sharp';

/** plugins/files/images.ts: `webpQuality` 80, `webpEffort` 2 (its defaults, which the plugin uses). */
export const WEBP = { quality: 80, effort: 2 } as const;

export interface Box {
  width: number;
  height: number;
}

export interface RawImageWork {
  metadata: Metadata;
  thumbnails: Buffer[];
  webp: Buffer;
}

export async function rawImageWork(input: Buffer, boxes: readonly Box[]): Promise<RawImageWork> {
  const upright = sharp(input).rotate();
  const [metadata, webp, ...thumbnails] = await Promise.all([
    sharp(input).metadata(),
    upright.clone().webp(WEBP).toBuffer(),
    ...boxes.map((box) =>
      upright
        .clone()
        .resize({ width: box.width, height: box.height, fit: 'inside', withoutEnlargement: true })
        .webp(WEBP)
        .toBuffer(),
    ),
  ]);
  return { metadata, thumbnails, webp };
}

/** FILES_THUMBNAIL_SIZES's format: `100x100,400x400`. */
export const parseBoxes = (sizes: string): Box[] =>
  sizes.split(',').map((box) => {
    const [width, height] = box.split('x').map(Number) as [number, number];
    return { width, height };
  });
