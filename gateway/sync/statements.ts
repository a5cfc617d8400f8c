/**
 * The sync core's SQL (gateway/sync/sql/*.sql) for one plugin's schema and table. Placeholders:
 * `{schema}`, `{table}`, `{version}` and `{parent}` (column names) are quoted identifiers;
 * `{id_type}` is `text` or `bigint`. Every name comes from a plugin's descriptors, never input.
 */
import { escapeIdentifier } from 'pg';
import { sqlFolder } from '../sql.ts';

const read = sqlFolder(new URL('./sql/', import.meta.url));
const filled = new Map<string, string>();

export interface StatementNames {
  schema: string;
  table?: string;
  version?: string;
  parent?: string;
  idType?: 'text' | 'bigint';
}

export function syncStatement(name: string, names: StatementNames): string {
  const key = `${name}\n${names.schema}\n${names.table}\n${names.version}\n${names.parent}\n${names.idType}`;
  let text = filled.get(key);
  if (text === undefined) {
    const values: Record<string, string | undefined> = {
      schema: escapeIdentifier(names.schema),
      table: names.table && escapeIdentifier(names.table),
      version: names.version && escapeIdentifier(names.version),
      parent: names.parent && escapeIdentifier(names.parent),
      id_type: names.idType ?? 'text',
    };
    text = read(name).replace(/\{(schema|table|version|parent|id_type)\}/g, (placeholder, field: string) => {
      const value = values[field];
      if (value === undefined) throw new Error(`${name}.sql needs ${placeholder}`);
      return value;
    });
    filled.set(key, text);
  }
  return text;
}
