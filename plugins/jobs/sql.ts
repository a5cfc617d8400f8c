import { sqlFolder } from '../../gateway/sql.ts';

export const jobsSql = sqlFolder(new URL('./sql/', import.meta.url));
