import { sqlFolder } from '../../gateway/sdk.ts';

/** The plugin's SQL, by file name (plugins/idme/sql/*.sql). */
export const idmeSql = sqlFolder(new URL('./sql/', import.meta.url));
