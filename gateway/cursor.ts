/**
 * Keyset cursors for Relay connections ordered newest first by (timestamp, id): opaque to
 * clients, and a bad one is a BAD_USER_INPUT error rather than a crash.
 */
import { badUserInput } from './errors.ts';

export function encodeCursor(at: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([at instanceof Date ? at.toISOString() : at, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && typeof id === 'string') return { at, id };
  } catch {
    // fall through
  }
  throw badUserInput('Invalid cursor');
}
