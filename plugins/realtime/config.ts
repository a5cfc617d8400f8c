import { ConfigError, type ConfigValues } from '../../gateway/sdk.ts';

export interface RealtimeConfig {
  maxConnections: number;
  /** Of maxConnections, how many may be anonymous: the rest stays free for signed-in users. */
  maxAnonymousConnections: number;
  maxConnectionsPerIp: number;
  maxConnectionsPerUser: number;
  presenceGraceMs: number;
  typingTtlMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reaperIntervalMs: number;
  rateLimit: number;
  /** Days the analytics events are kept; 0 keeps them forever. */
  eventsRetentionDays: number;
}

export function readRealtimeConfig(values: ConfigValues): RealtimeConfig {
  const maxConnections = values.number('REALTIME_MAX_CONNECTIONS');
  const maxAnonymousConnections =
    values.optionalNumber('REALTIME_MAX_ANONYMOUS_CONNECTIONS') ?? Math.floor(maxConnections / 10);
  if (maxAnonymousConnections >= maxConnections) {
    throw new ConfigError([
      {
        variable: 'REALTIME_MAX_ANONYMOUS_CONNECTIONS',
        owner: 'realtime',
        message: `must be below REALTIME_MAX_CONNECTIONS (${maxConnections}), or anonymous sockets could take every place and lock signed-in users out`,
      },
    ]);
  }
  return {
    maxConnections,
    maxAnonymousConnections,
    maxConnectionsPerIp: values.number('REALTIME_MAX_CONNECTIONS_PER_IP'),
    maxConnectionsPerUser: values.number('REALTIME_MAX_CONNECTIONS_PER_USER'),
    presenceGraceMs: values.number('REALTIME_PRESENCE_GRACE_MS'),
    typingTtlMs: values.number('REALTIME_TYPING_TTL_MS'),
    pingIntervalMs: values.number('REALTIME_PING_INTERVAL'),
    pingTimeoutMs: values.number('REALTIME_PING_TIMEOUT'),
    reaperIntervalMs: values.number('REALTIME_REAPER_INTERVAL_MS'),
    rateLimit: values.number('REALTIME_RATE_LIMIT'),
    eventsRetentionDays: values.number('REALTIME_EVENTS_RETENTION_DAYS'),
  };
}
