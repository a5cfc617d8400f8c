import type { QueryConfig } from 'pg';
import { sqlFolder } from '../../gateway/sdk.ts';

/** The plugin's SQL, by file name (plugins/files/sql/*.sql). */
export const filesSql = sqlFolder(new URL('./sql/', import.meta.url));

/**
 * A statement every upload runs, named: each pooled connection parses it once and Postgres keeps
 * its plan, instead of parsing and planning it on every request.
 */
export const namedFilesSql = (name: string, values: unknown[]): QueryConfig => ({
  name: `files_${name.replaceAll('-', '_')}`,
  text: filesSql(name),
  values,
});
