import { sqlFolder } from '../../gateway/sdk.ts';

export const shopifySql = sqlFolder(new URL('./sql/', import.meta.url));

/**
 * A statement with its table names filled in: `{table}` and `{parent}` as quoted identifiers,
 * `{id_type}` as is. The names come from the plugin's own lists, never from input.
 */
export const shopifyStatement = (name: string, names: Record<string, string>): string =>
  shopifySql(name).replace(/\{(table|parent|id_type)\}/g, (_, key: string) =>
    key === 'id_type' ? names[key]! : `"${names[key]!}"`,
  );
