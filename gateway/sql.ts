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

/** Runs `work` in one transaction on a pooled client: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
