import { sqlFolder } from '../../gateway/sdk.ts';

/** The plugin's SQL, by file name (plugins/files/sql/*.sql). */
export const filesSql = sqlFolder(new URL('./sql/', import.meta.url));
