/** The gateway's own configuration (gateway/config/settings.json), read like any plugin's. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CronExpressionParser } from 'cron-parser';
import type { Level } from 'pino';
import { parseTrustedProxies, type TrustedProxies } from '../http/client-ip.ts';
import { parseRedisUrl, type RedisTarget } from '../redis.ts';
import { ConfigError, readConfig, type ConfigValues, type ConfigurationSpec, type Env } from './variables.ts';
import type { DocumentsMode } from '../http/trusted-documents.ts';
import settingsSpec from './settings.json' with { type: 'json' };

/** The codegen'd client's manifest (`npm run codegen`), trusted when PLUGBOARD_TRUSTED_DOCUMENTS is unset. */
const CLIENT_DOCUMENTS = fileURLToPath(new URL('../../client/generated/persisted-documents.json', import.meta.url));

export const gatewaySettingsSpec = settingsSpec as ConfigurationSpec;

export interface GatewaySettings {
  production: boolean;
  development: boolean;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** REDIS_URL (with REDIS_CLUSTER): pubsub and plugins' Redis; unset keeps pubsub in-process. */
  redis: RedisTarget | undefined;
  /** Redis for the job queue: JOBS_REDIS_URL, else REDIS_URL; unset means the Postgres queue. */
  queueRedis: RedisTarget | undefined;
  workers: boolean;
  /** How long a dead worker's job waits before another worker runs it (lock / heartbeat lapse). */
  jobStallSeconds: number;
  /** PLUGBOARD_RETENTION_CRON; null when `off`. */
  retentionCron: string | null;
  adminSecret: string | undefined;
  /** Shared secret of Hasura's action and event-trigger calls. */
  hasuraActionSecret: string | undefined;
  jwtSecret: string | undefined;
  jwksUrl: string | undefined;
  jwtIssuer: string | undefined;
  jwtAudience: string | undefined;
  /** Accept JWTs without `exp` (PLUGBOARD_JWT_ALLOW_NO_EXP). */
  jwtAllowNoExp: boolean;
  allowAnonymous: boolean;
  anonymousRole: string;
  dataDir: string;
  embeddedPgPort: number | undefined;
  bodyLimit: number;
  limits: { depth: number; aliases: number; tokens: number; cost: number; directives: number };
  introspection: boolean;
  corsOrigins: string[] | undefined;
  /** Peers whose X-Forwarded-For names the client (PLUGBOARD_TRUSTED_PROXIES). */
  trustedProxies: TrustedProxies;
  /** Who may send a document's text rather than a trusted document's id (PLUGBOARD_DOCUMENTS). */
  documentsMode: DocumentsMode;
  /** The trusted-document manifests, files or URLs (PLUGBOARD_TRUSTED_DOCUMENTS). */
  trustedDocuments: string[];
  /** How long a console sign-in lasts (PLUGBOARD_CONSOLE_SESSION_HOURS), in seconds. */
  consoleSessionSeconds: number;
  /** Operations one graphql-ws socket may have in flight. */
  maxOperationsPerSocket: number;
  /** Bytes a graphql-ws socket may have waiting to be sent before it is closed (PLUGBOARD_WS_MAX_BUFFER). */
  wsMaxBuffer: number;
  /** Event-loop lag past which sheddable mutations are refused (PLUGBOARD_SHED_LAG_MS; 0: never). */
  shedLagMs: number;
  /** Sheddable mutations under way at once past which more are refused (PLUGBOARD_SHED_IN_FLIGHT; 0: no cap). */
  shedInFlight: number;
  /** On SIGTERM: how long to keep serving, /readyz at 503, before closing (PLUGBOARD_SHUTDOWN_DELAY_MS). */
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  /** Timeouts and the connection cap of the HTTP servers. */
  server: ServerLimits;
  /** A second port serving /metrics and /readyz's checks without credentials; null when unset. */
  metricsPort: number | null;
  metricsHost: string;
  /** Who may read /metrics and /readyz's checks on the main port. */
  metricsAccess: 'public' | 'admin';
  logLevel: Level | 'silent';
  /** The validated values, for `plugboard plugin info`-style displays (secrets masked there). */
  values: ConfigValues;
}

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

/** Settings, or a ConfigError listing every problem. */
export function loadGatewaySettings(env: Env): GatewaySettings {
  const { values: v, problems } = readConfig(gatewaySettingsSpec, env, 'gateway');
  if (v.has('PLUGBOARD_JWT_SECRET') && v.has('PLUGBOARD_JWKS_URL')) {
    problems.push({
      variable: 'PLUGBOARD_JWKS_URL',
      owner: 'gateway',
      message: 'set either PLUGBOARD_JWT_SECRET (HS256) or PLUGBOARD_JWKS_URL, not both',
    });
  }
  // The headers are part of the request: an explicit headers timeout longer than the request
  // timeout is a mistake (the default one is shortened to it instead).
  const explicitHeadersTimeout =
    env['PLUGBOARD_HEADERS_TIMEOUT_MS']?.trim() &&
    v.has('PLUGBOARD_HEADERS_TIMEOUT_MS') &&
    v.has('PLUGBOARD_REQUEST_TIMEOUT_MS');
  if (explicitHeadersTimeout && v.number('PLUGBOARD_HEADERS_TIMEOUT_MS') > v.number('PLUGBOARD_REQUEST_TIMEOUT_MS')) {
    problems.push({
      variable: 'PLUGBOARD_HEADERS_TIMEOUT_MS',
      owner: 'gateway',
      message: `must not exceed PLUGBOARD_REQUEST_TIMEOUT_MS (${v.number('PLUGBOARD_REQUEST_TIMEOUT_MS')})`,
    });
  }
  let trustedProxies: TrustedProxies | undefined;
  try {
    trustedProxies = parseTrustedProxies(v.optionalString('PLUGBOARD_TRUSTED_PROXIES') ?? '');
  } catch (error) {
    problems.push({ variable: 'PLUGBOARD_TRUSTED_PROXIES', owner: 'gateway', message: (error as Error).message });
  }
  const redisSetting = (variable: string): RedisTarget | undefined => {
    const value = v.optionalString(variable);
    if (value === undefined) return undefined;
    try {
      return parseRedisUrl(value, { cluster: v.has('REDIS_CLUSTER') && v.boolean('REDIS_CLUSTER') });
    } catch (error) {
      problems.push({ variable, owner: 'gateway', message: (error as Error).message });
      return undefined;
    }
  };
  const redis = redisSetting('REDIS_URL');
  const queueRedis = v.has('JOBS_REDIS_URL') ? redisSetting('JOBS_REDIS_URL') : redis;
  const retentionCron = v.string('PLUGBOARD_RETENTION_CRON').trim();
  if (retentionCron !== 'off') {
    try {
      CronExpressionParser.parse(retentionCron, { tz: 'UTC' });
    } catch {
      problems.push({
        variable: 'PLUGBOARD_RETENTION_CRON',
        owner: 'gateway',
        message: `must be a cron expression (e.g. "17 * * * *") or off, got ${JSON.stringify(retentionCron)}`,
      });
    }
  }
  const nodeEnv = v.optionalString('NODE_ENV');
  const production = nodeEnv === 'production';
  const documentsMode = (v.optionalString('PLUGBOARD_DOCUMENTS') ?? (production ? 'trusted' : 'any')) as DocumentsMode;
  const trustedDocuments = v.has('PLUGBOARD_TRUSTED_DOCUMENTS')
    ? v
        .string('PLUGBOARD_TRUSTED_DOCUMENTS')
        .split(',')
        .map((source) => source.trim())
        .filter(Boolean)
    : existsSync(CLIENT_DOCUMENTS)
      ? [CLIENT_DOCUMENTS]
      : [];
  if (documentsMode !== 'any' && trustedDocuments.length === 0) {
    problems.push({
      variable: 'PLUGBOARD_TRUSTED_DOCUMENTS',
      owner: 'gateway',
      message: `PLUGBOARD_DOCUMENTS=${documentsMode}${v.has('PLUGBOARD_DOCUMENTS') ? '' : ' (the production default)'} needs the manifests of the trusted documents; or set PLUGBOARD_DOCUMENTS=any`,
    });
  }
  if (problems.length > 0 || !trustedProxies) throw new ConfigError(problems);
  const origins = v.optionalString('PLUGBOARD_CORS_ORIGINS');
  return {
    production,
    development: nodeEnv === 'development',
    port: v.number('PORT'),
    host: v.string('HOST'),
    databaseUrl: v.optionalString('DATABASE_URL'),
    redis,
    queueRedis,
    workers: v.boolean('PLUGBOARD_WORKERS'),
    jobStallSeconds: v.number('PLUGBOARD_JOB_STALL_SECONDS'),
    retentionCron: retentionCron === 'off' ? null : retentionCron,
    adminSecret: v.optionalString('PLUGBOARD_ADMIN_SECRET'),
    hasuraActionSecret: v.optionalString('HASURA_ACTION_SECRET'),
    jwtSecret: v.optionalString('PLUGBOARD_JWT_SECRET'),
    jwksUrl: v.optionalString('PLUGBOARD_JWKS_URL'),
    jwtIssuer: v.optionalString('PLUGBOARD_JWT_ISSUER'),
    jwtAudience: v.optionalString('PLUGBOARD_JWT_AUDIENCE'),
    jwtAllowNoExp: v.boolean('PLUGBOARD_JWT_ALLOW_NO_EXP'),
    allowAnonymous: v.boolean('PLUGBOARD_ALLOW_ANONYMOUS'),
    anonymousRole: v.string('PLUGBOARD_ANONYMOUS_ROLE'),
    dataDir: v.string('PLUGBOARD_DATA_DIR'),
    embeddedPgPort: v.optionalNumber('PLUGBOARD_EMBEDDED_PG_PORT'),
    bodyLimit: v.number('PLUGBOARD_BODY_LIMIT'),
    limits: {
      depth: v.number('PLUGBOARD_MAX_DEPTH'),
      aliases: v.number('PLUGBOARD_MAX_ALIASES'),
      tokens: v.number('PLUGBOARD_MAX_TOKENS'),
      cost: v.number('PLUGBOARD_MAX_COST'),
      directives: v.number('PLUGBOARD_MAX_DIRECTIVES'),
    },
    introspection: v.has('PLUGBOARD_INTROSPECTION') ? v.boolean('PLUGBOARD_INTROSPECTION') : !production,
    corsOrigins: origins
      ?.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    trustedProxies,
    documentsMode,
    trustedDocuments,
    consoleSessionSeconds: v.number('PLUGBOARD_CONSOLE_SESSION_HOURS') * 3600,
    maxOperationsPerSocket: v.number('PLUGBOARD_MAX_OPERATIONS_PER_SOCKET'),
    wsMaxBuffer: v.number('PLUGBOARD_WS_MAX_BUFFER'),
    shedLagMs: v.number('PLUGBOARD_SHED_LAG_MS'),
    shedInFlight: v.number('PLUGBOARD_SHED_IN_FLIGHT'),
    shutdownDelayMs: v.number('PLUGBOARD_SHUTDOWN_DELAY_MS'),
    shutdownTimeoutMs: v.number('PLUGBOARD_SHUTDOWN_TIMEOUT_MS'),
    server: {
      headersTimeoutMs: Math.min(v.number('PLUGBOARD_HEADERS_TIMEOUT_MS'), v.number('PLUGBOARD_REQUEST_TIMEOUT_MS')),
      requestTimeoutMs: v.number('PLUGBOARD_REQUEST_TIMEOUT_MS'),
      keepAliveTimeoutMs: v.number('PLUGBOARD_KEEP_ALIVE_TIMEOUT_MS'),
      maxConnections: v.number('PLUGBOARD_MAX_CONNECTIONS'),
    },
    metricsPort: v.optionalNumber('PLUGBOARD_METRICS_PORT') ?? null,
    metricsHost: v.optionalString('PLUGBOARD_METRICS_HOST') ?? v.string('HOST'),
    metricsAccess: (v.optionalString('PLUGBOARD_METRICS_ACCESS') ??
      (v.has('PLUGBOARD_METRICS_PORT') ? 'admin' : 'public')) as 'public' | 'admin',
    logLevel: v.string('LOG_LEVEL') as Level | 'silent',
    values: v,
  };
}
