import { sqlFolder } from '../../gateway/sdk.ts';
import type { ObjectResource } from './resources.ts';

export const stripeSql = sqlFolder(new URL('./sql/', import.meta.url));

/** A statement over one resource table, `{table}` filled in (a name from RESOURCES, never input). */
export const tableSql = (name: string, table: ObjectResource) => stripeSql(name).replaceAll('{table}', table);
