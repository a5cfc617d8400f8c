import { sqlFolder } from '../../gateway/sql.ts';

export const realtimeSql = sqlFolder(new URL('./sql/', import.meta.url));
