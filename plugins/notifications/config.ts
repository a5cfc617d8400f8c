import { ConfigError, type ConfigProblem, type ConfigValues } from '../../gateway/sdk.ts';
import { parsePushHosts, type PushHostRule } from './push-endpoints.ts';

export const CHANNELS = ['EMAIL', 'PUSH', 'SMS', 'IN_APP'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface SmtpProviderConfig {
  name: string;
  /** An smtp:// or smtps:// URL, or nodemailer's host/port/auth options. */
  transport: string | { host: string; port: number; secure: boolean; auth?: { user: string; pass: string } };
}

export interface NotificationsConfig {
  email: { providers: SmtpProviderConfig[]; from: string; poolSize: number; rateLimit: number } | null;
  push: { vapid: { publicKey: string; privateKey: string; subject: string }; rateLimit: number } | null;
  sms: { accountSid: string; authToken: string; from: string; apiUrl: string; rateLimit: number } | null;
  queueBackend: 'auto' | 'redis' | 'postgres';
  batchIntervalSeconds: number;
  /** Days settled notifications, emptied batches and requests are kept; 0 keeps them forever. */
  retentionDays: number;
  maxAttempts: number;
  retryDelayMs: number;
  concurrency: number;
  /** Lost delivery jobs: how often each gateway looks for them, and how old a row must be. */
  sweep: { intervalSeconds: number; afterSeconds: number };
  recipientsTable: string;
  /** Bounds of one template render (subject, body and html together). */
  templateLimits: { renderMs: number; memory: number; parseLength: number };
  /** Push services subscriptions may point at, and how many a user may have. */
  pushEndpoints: { allowed: PushHostRule[]; maxPerUser: number };
}

const OWNER = 'notifications';

/** The variables a channel needs once its provider is chosen, all or none. */
function needAll(values: ConfigValues, because: string, keys: string[], problems: ConfigProblem[]): boolean {
  const missing = keys.filter((key) => !values.has(key));
  for (const key of missing) problems.push({ variable: key, owner: OWNER, message: `is required when ${because}` });
  return missing.length === 0;
}

export function readNotificationsConfig(values: ConfigValues): NotificationsConfig {
  const problems: ConfigProblem[] = [];

  const smtp: SmtpProviderConfig[] = [];
  const smtpUrl = values.optionalString('NOTIFICATIONS_SMTP_URL');
  const host = values.optionalString('NOTIFICATIONS_EMAIL_HOST');
  if (smtpUrl && host) {
    problems.push({
      variable: 'NOTIFICATIONS_EMAIL_HOST',
      owner: OWNER,
      message: 'set either NOTIFICATIONS_SMTP_URL or NOTIFICATIONS_EMAIL_HOST (with _PORT, _USER, _PASS), not both',
    });
  } else if (smtpUrl) {
    smtp.push({ name: 'smtp', transport: smtpUrl });
  } else if (host) {
    const user = values.optionalString('NOTIFICATIONS_EMAIL_USER');
    const pass = values.optionalString('NOTIFICATIONS_EMAIL_PASS');
    if ((user === undefined) !== (pass === undefined)) {
      problems.push({
        variable: user === undefined ? 'NOTIFICATIONS_EMAIL_USER' : 'NOTIFICATIONS_EMAIL_PASS',
        owner: OWNER,
        message: 'SMTP user and password go together',
      });
    }
    smtp.push({
      name: 'smtp',
      transport: {
        host,
        port: values.number('NOTIFICATIONS_EMAIL_PORT'),
        secure: values.boolean('NOTIFICATIONS_EMAIL_SECURE'),
        ...(user && pass ? { auth: { user, pass } } : {}),
      },
    });
  }
  const backupUrl = values.optionalString('NOTIFICATIONS_SMTP_BACKUP_URL');
  if (backupUrl) {
    if (smtp.length === 0)
      problems.push({
        variable: 'NOTIFICATIONS_SMTP_BACKUP_URL',
        owner: OWNER,
        message: 'is a backup: set NOTIFICATIONS_SMTP_URL (or NOTIFICATIONS_EMAIL_HOST) too',
      });
    smtp.push({ name: 'smtp-backup', transport: backupUrl });
  }

  let push: NotificationsConfig['push'] = null;
  if (values.optionalString('NOTIFICATIONS_PUSH_PROVIDER') === 'webpush') {
    const keys = ['NOTIFICATIONS_VAPID_PUBLIC_KEY', 'NOTIFICATIONS_VAPID_PRIVATE_KEY', 'NOTIFICATIONS_VAPID_SUBJECT'];
    if (needAll(values, 'NOTIFICATIONS_PUSH_PROVIDER is webpush', keys, problems)) {
      push = {
        vapid: {
          publicKey: values.string(keys[0]!),
          privateKey: values.string(keys[1]!),
          subject: values.string(keys[2]!),
        },
        rateLimit: values.number('NOTIFICATIONS_PUSH_RATE_LIMIT'),
      };
    }
  }

  let sms: NotificationsConfig['sms'] = null;
  if (values.optionalString('NOTIFICATIONS_SMS_PROVIDER') === 'twilio') {
    const keys = ['NOTIFICATIONS_SMS_ACCOUNT_SID', 'NOTIFICATIONS_SMS_AUTH_TOKEN', 'NOTIFICATIONS_SMS_FROM'];
    if (needAll(values, 'NOTIFICATIONS_SMS_PROVIDER is twilio', keys, problems)) {
      sms = {
        accountSid: values.string(keys[0]!),
        authToken: values.string(keys[1]!),
        from: values.string(keys[2]!),
        apiUrl: values.string('NOTIFICATIONS_TWILIO_API_URL'),
        rateLimit: values.number('NOTIFICATIONS_SMS_RATE_LIMIT'),
      };
    }
  }

  const pushHosts = parsePushHosts(values.string('NOTIFICATIONS_PUSH_ALLOWED_HOSTS'));
  for (const entry of pushHosts.invalid) {
    problems.push({
      variable: 'NOTIFICATIONS_PUSH_ALLOWED_HOSTS',
      owner: OWNER,
      message: `${JSON.stringify(entry)} is not a host, host:port, *.domain or IP address (IPv6 in brackets)`,
    });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    email:
      smtp.length > 0
        ? {
            providers: smtp,
            from: values.string('NOTIFICATIONS_EMAIL_FROM'),
            poolSize: values.number('NOTIFICATIONS_EMAIL_POOL_SIZE'),
            rateLimit: values.number('NOTIFICATIONS_EMAIL_RATE_LIMIT'),
          }
        : null,
    push,
    sms,
    queueBackend: values.string('NOTIFICATIONS_QUEUE_BACKEND') as NotificationsConfig['queueBackend'],
    batchIntervalSeconds: values.number('NOTIFICATIONS_BATCH_INTERVAL'),
    retentionDays: values.number('NOTIFICATIONS_RETENTION_DAYS'),
    maxAttempts: values.number('NOTIFICATIONS_MAX_ATTEMPTS'),
    retryDelayMs: values.number('NOTIFICATIONS_RETRY_DELAY_MS'),
    concurrency: values.number('NOTIFICATIONS_CONCURRENCY'),
    sweep: {
      intervalSeconds: values.number('NOTIFICATIONS_SWEEP_INTERVAL'),
      afterSeconds: values.number('NOTIFICATIONS_SWEEP_AFTER'),
    },
    recipientsTable: values.string('NOTIFICATIONS_RECIPIENTS_TABLE'),
    templateLimits: {
      renderMs: values.number('NOTIFICATIONS_TEMPLATE_RENDER_LIMIT_MS'),
      memory: values.number('NOTIFICATIONS_TEMPLATE_MEMORY_LIMIT'),
      parseLength: values.number('NOTIFICATIONS_TEMPLATE_PARSE_LIMIT'),
    },
    pushEndpoints: { allowed: pushHosts.rules, maxPerUser: values.number('NOTIFICATIONS_PUSH_MAX_SUBSCRIPTIONS') },
  };
}
