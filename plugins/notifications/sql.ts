import { sqlFolder } from '../../gateway/sdk.ts';

const read = sqlFolder(new URL('./sql/', import.meta.url));

/**
 * The plugin's SQL by file name. `{{recipients}}` stands for NOTIFICATIONS_RECIPIENTS_TABLE, which
 * the manifest restricts to `schema.table` of lower-case identifiers, then quoted here.
 */
export function notificationsSql(name: string, recipientsTable = 'notifications.recipients'): string {
  const quoted = recipientsTable
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
  return read(name).replaceAll('{{recipients}}', quoted);
}
