import { sqlFolder } from '../../gateway/sql.ts';
import type { ObjectResource } from './resources.ts';

export const stripeSql = sqlFolder(new URL('./sql/', import.meta.url));

/** A statement over one resource table (table names come from RESOURCES, never from input). */
export const tableSql = (name: string, table: ObjectResource) => stripeSql(name).replaceAll('{table}', table);
