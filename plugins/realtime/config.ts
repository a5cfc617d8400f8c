import type { ConfigValues } from '../../gateway/config.ts';

export interface RealtimeConfig {
  maxConnections: number;
  presenceGraceMs: number;
  typingTtlMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reaperIntervalMs: number;
  rateLimit: number;
}

export function readRealtimeConfig(values: ConfigValues): RealtimeConfig {
  return {
    maxConnections: values.number('REALTIME_MAX_CONNECTIONS'),
    presenceGraceMs: values.number('REALTIME_PRESENCE_GRACE_MS'),
    typingTtlMs: values.number('REALTIME_TYPING_TTL_MS'),
    pingIntervalMs: values.number('REALTIME_PING_INTERVAL'),
    pingTimeoutMs: values.number('REALTIME_PING_TIMEOUT'),
    reaperIntervalMs: values.number('REALTIME_REAPER_INTERVAL_MS'),
    rateLimit: values.number('REALTIME_RATE_LIMIT'),
  };
}
