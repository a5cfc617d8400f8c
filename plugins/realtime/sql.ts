import { sqlFolder } from '../../gateway/sdk.ts';

export const realtimeSql = sqlFolder(new URL('./sql/', import.meta.url));
