/**
 * What a file is, from its bytes. The name and the declared content type are the uploader's to
 * choose, so neither decides: `detectType` reads the magic bytes (`file-type`) and `isAllowed`
 * holds the result against FILES_ALLOWED_TYPES.
 */
import { fileTypeFromBuffer } from 'file-type';

/**
 * How much of a file's head `detectType` reads (file-type's own "reasonable detection size");
 * bytes past it are ignored, so a file read whole from disk and one read by range from S3 are
 * detected alike.
 */
export const DETECTION_HEAD_BYTES = 4100;

export interface DetectedType {
  /** The media type the content says, e.g. `image/jpeg`. */
  mime: string;
  /** The usual extension for it, without the dot, e.g. `jpg`. */
  ext: string;
}

/** The type the first bytes of a file say, or null when they match no known format (e.g. plain text). */
export async function detectType(head: Uint8Array): Promise<DetectedType | null> {
  const found = await fileTypeFromBuffer(head.subarray(0, DETECTION_HEAD_BYTES));
  return found ? { mime: found.mime, ext: found.ext } : null;
}

/**
 * Whether `mime` is one of `allowed`: an exact type (`application/pdf`) or a whole top-level type
 * (`image/*`). Case-insensitive; parameters (`; charset=…`) on `mime` are ignored.
 */
export function isAllowed(mime: string, allowed: readonly string[]): boolean {
  const type = mime.split(';', 1)[0]!.trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0 || slash === type.length - 1 || type.indexOf('/', slash + 1) !== -1) return false;
  const topLevel = type.slice(0, slash);
  return allowed.some((entry) => {
    const pattern = entry.trim().toLowerCase();
    return pattern === type || pattern === `${topLevel}/*`;
  });
}
