import { sqlFolder } from '../../gateway/sdk.ts';

export const githubSql = sqlFolder(new URL('./sql/', import.meta.url));
