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

/**
 * Replaces each placeholder `pattern` matches with its value, in one pass (inserted values are
 * never scanned again). A placeholder without a value is a mistake in the code or its SQL, not in
 * any input: it throws, naming the statement and the placeholder.
 */
export function fillPlaceholders(
  text: string,
  pattern: RegExp,
  values: Readonly<Record<string, string | undefined>>,
  statement: string,
): string {
  return text.replace(pattern, (placeholder, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${statement}.sql needs ${placeholder}`);
    return value;
  });
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
    // Only the names' placeholders: a view statement's own ({columns}, …) are the planner's.
    text = fillPlaceholders(read(name), /\{(schema|table|version|parent|id_type)\}/g, values, name);
    filled.set(key, text);
  }
  return text;
}
