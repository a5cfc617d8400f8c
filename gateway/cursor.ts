/**
 * Keyset cursors for Relay connections ordered newest first by (timestamp, id): opaque to
 * clients, and a bad one is a BAD_USER_INPUT error rather than a crash.
 */
import { resolveCursorConnection, type DefaultConnectionArguments } from '@pothos/plugin-relay';
import { badUserInput } from './errors.ts';

export function encodeCursor(at: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([at instanceof Date ? at.toISOString() : at, id])).toString('base64url');
}

/** A cursor's time as encodeCursor writes it: ISO 8601 from a Date, or Postgres' timestamptz text. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]\d{2}(:\d{2}){0,2})$/;

/** Whether `at` is a time Postgres will take: anything else would fail in SQL as an internal error. */
function isTimestamp(at: string): boolean {
  const match = TIMESTAMP.exec(at);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && typeof id === 'string' && isTimestamp(at)) return { at, id };
  } catch {
    // fall through
  }
  throw badUserInput('Invalid cursor');
}

/** Rows a forward-only connection pages over: `cursor_at` is the row's time as the query sent it. */
export interface KeysetRow {
  id: string;
  cursor_at: string;
}

/**
 * A Relay connection paged forward only (first/after), newest first: `fetch` reads at most
 * `limit` rows after the cursor (null for the first page). `name` goes into the error for
 * last/before.
 */
export function forwardConnection<Row extends KeysetRow>(
  name: string,
  args: DefaultConnectionArguments,
  fetch: (after: { at: string; id: string } | null, limit: number) => Promise<Row[]>,
  { defaultSize = 20, maxSize = 100 } = {},
) {
  if (args.before || args.last) throw badUserInput(`${name} pages forward only: use first and after`);
  return resolveCursorConnection<Promise<Row[]>>(
    {
      args: { ...args, first: Math.min(args.first ?? defaultSize, maxSize) },
      toCursor: (row: Row) => encodeCursor(row.cursor_at, row.id),
    },
    ({ after, limit }) => fetch(after ? decodeCursor(after) : null, limit),
  );
}
