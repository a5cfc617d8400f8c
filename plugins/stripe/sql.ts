import { sqlFolder } from '../../gateway/sdk.ts';
import type { ObjectResource } from './resources.ts';

export const stripeSql = sqlFolder(new URL('./sql/', import.meta.url));

/**
 * A statement over one resource table with `{table}` and each `{key}` of `fill` replaced by its
 * value (table and column names come from RESOURCES and views.ts, never from input).
 */
export const tableSql = (name: string, table: ObjectResource, fill: Record<string, string> = {}) =>
  Object.entries({ table, ...fill }).reduce(
    (text, [key, value]) => text.replaceAll(`{${key}}`, value),
    stripeSql(name),
  );
