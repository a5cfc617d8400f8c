/**
 * SQL lives in .sql files next to the code that runs it. `sqlFolder(url)` returns a reader that
 * loads `<folder>/<name>.sql` once and keeps it; `inTransaction` runs statements in one transaction.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

export function sqlFolder(folder: URL): (name: string) => string {
  const cache = new Map<string, string>();
  return (name) => {
    let text = cache.get(name);
    if (text === undefined) {
      // Whole-line comments document the file; they need not travel with every query.
      text = readFileSync(new URL(`${name}.sql`, folder), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('--'))
        .join('\n')
        .trim();
      cache.set(name, text);
    }
    return text;
  };
}

export const gatewaySql = sqlFolder(new URL('./sql/', import.meta.url));

/**
 * Prepared-statement names for statement texts, so each pooled connection parses and plans a
 * statement once: the first `max` distinct texts are named `<prefix>_<n>`, later ones run unnamed
 * (undefined), so endless distinct texts cannot fill the server's memory. One per pool and prefix.
 */
export function statementNames(prefix: string, max: number): (text: string) => string | undefined {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (name === undefined && names.size < max) {
      name = `${prefix}_${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
}

/**
 * Runs `work` in one transaction on a pooled client: committed when it resolves, rolled back when it
 * throws. `begin` may set the transaction up in the same round trip (`BEGIN; SET LOCAL …`).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  // A connection lost between two statements arrives as an 'error' event on the checked-out
  // client (the pool only listens to idle ones); the next statement fails with it anyway, so the
  // event is kept here instead of crashing the process, and the client is destroyed, not reused.
  let lost: Error | undefined;
  const onLost = (error: Error) => (lost = error);
  client.on('error', onLost);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackFailed: Error) => (lost ??= rollbackFailed));
    throw error;
  } finally {
    client.off('error', onLost);
    client.release(lost);
  }
}
