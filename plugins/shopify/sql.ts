import { sqlFolder } from '../../gateway/sdk.ts';

export const shopifySql = sqlFolder(new URL('./sql/', import.meta.url));
