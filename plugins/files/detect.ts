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

/**
 * The type the first bytes of a file say: a known binary format, else `text/plain` when they read
 * as UTF-8 text, else null (no known format: refused, whatever FILES_ALLOWED_TYPES says).
 */
export async function detectType(head: Uint8Array): Promise<DetectedType | null> {
  const start = head.subarray(0, DETECTION_HEAD_BYTES);
  const found = await fileTypeFromBuffer(start);
  if (found) return { mime: found.mime, ext: found.ext };
  return isText(start) ? { mime: 'text/plain', ext: 'txt' } : null;
}

// Tab, line feed, form feed and carriage return are the only control characters text carries.
const TEXT_CONTROLS = new Set([0x09, 0x0a, 0x0c, 0x0d]);

/** Whether `bytes` (possibly cut mid-character at the end) are non-empty UTF-8 text with no other control characters. */
function isText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (const byte of bytes) if ((byte < 0x20 && !TEXT_CONTROLS.has(byte)) || byte === 0x7f) return false;
  try {
    // `stream` tolerates a character the head's end cut in two.
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
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
