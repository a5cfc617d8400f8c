import { type ConfigValues, readSyncedRetention, type SyncedRetention } from '../../gateway/sdk.ts';

export interface StripeConfig {
  apiKey: string;
  webhookSecret: string;
  apiVersion: string | undefined;
  /** Minutes; 0 = no periodic sync. */
  syncInterval: number;
  webhookPath: string;
  apiBaseUrl: URL;
  webhookTolerance: number;
  webhookMaxAttempts: number;
  retention: SyncedRetention;
  /** Roles besides admin that may query the synced tables. */
  readRoles: string[];
}

export function stripeConfig(values: ConfigValues): StripeConfig {
  return {
    apiKey: values.string('STRIPE_API_KEY'),
    webhookSecret: values.string('STRIPE_WEBHOOK_SECRET'),
    apiVersion: values.optionalString('STRIPE_API_VERSION'),
    syncInterval: values.number('STRIPE_SYNC_INTERVAL'),
    webhookPath: values.string('STRIPE_WEBHOOK_PATH'),
    apiBaseUrl: new URL(values.string('STRIPE_API_BASE_URL')),
    webhookTolerance: values.number('STRIPE_WEBHOOK_TOLERANCE'),
    webhookMaxAttempts: values.number('STRIPE_WEBHOOK_MAX_ATTEMPTS'),
    retention: readSyncedRetention(values, 'STRIPE'),
    readRoles: (values.optionalString('STRIPE_READ_ROLES') ?? '')
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean),
  };
}
