/**
 * The realtime plugin: rooms, presence and typing as GraphQL subscriptions over the gateway's
 * graphql-ws endpoint, one consistent view across instances sharing Postgres (connections,
 * presence, rooms) and Redis (pubsub, typing).
 */
import { batchedRule, definePlugin } from '../../gateway/sdk.ts';
import { addRealtimeCommands } from './cli.ts';
import { readRealtimeConfig, type RealtimeConfig } from './config.ts';
import { EventLog } from './events-log.ts';
import { RoomFeed } from './feed.ts';
import manifest from './plugin.json' with { type: 'json' };
import { PresenceTracker } from './presence.ts';
import { Rooms } from './rooms.ts';
import { realtimeSql } from './sql.ts';
import { addRealtimeAdminSchema } from './admin-schema.ts';
import { addRealtimeSchema, type RealtimeServices } from './schema.ts';
import { MEMBERSHIP_ENDED, PRESENCE, ROOM_EVENTS, TYPING } from './topics.ts';
import { TypingIndicators } from './typing.ts';

/** The realtime plugin's instance: its services, made when the runtime's services have arrived. */
interface RealtimeInstance extends RealtimeServices {
  events: EventLog;
}

export default definePlugin<RealtimeConfig, RealtimeInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  topics: [PRESENCE, TYPING, ROOM_EVENTS, MEMBERSHIP_ENDED],
  config: readRealtimeConfig,
  setup(runtime) {
    const events = new EventLog(() => runtime.db, runtime.log);
    const presence = new PresenceTracker(runtime, events);
    return {
      events,
      rooms: new Rooms(runtime, events),
      presence,
      typing: new TypingIndicators(runtime.pubsub, runtime.connections.redis, runtime.config.typingTtlMs, runtime.log),
      presenceFeed: new RoomFeed(runtime.pubsub, PRESENCE, { state: (roomId) => presence.onlineIn(roomId) }),
      roomEventsFeed: new RoomFeed(runtime.pubsub, ROOM_EVENTS),
    };
  },
  schema: (builder, runtime, services) => {
    addRealtimeSchema(builder, runtime, services);
    addRealtimeAdminSchema(builder, runtime);
  },
  commands: addRealtimeCommands,
  retention: (runtime) => [
    batchedRule({
      name: 'realtime.events',
      days: runtime.config.eventsRetentionDays,
      sql: realtimeSql('events-prune'),
    }),
  ],
  sockets: (runtime, instance) => ({
    opened: (connection) => instance().presence.opened(connection),
    closed: (connection) => instance().presence.closed(connection),
    keepAlive: { intervalMs: runtime.config.pingIntervalMs, timeoutMs: runtime.config.pingTimeoutMs },
  }),
  async start(_runtime, instance) {
    instance.rooms.start();
    await instance.presence.start();
  },
  async stop(_runtime, instance) {
    instance.rooms.stop();
    instance.presenceFeed.close();
    instance.roomEventsFeed.close();
    await instance.typing.close();
    await instance.presence.stop();
    await instance.events.flush();
  },
});
