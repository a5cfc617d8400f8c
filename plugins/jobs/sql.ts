import { sqlFolder } from '../../gateway/sdk.ts';

export const jobsSql = sqlFolder(new URL('./sql/', import.meta.url));
