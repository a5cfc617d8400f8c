/**
 * The realtime plugin: rooms, presence and typing as GraphQL subscriptions over the gateway's
 * graphql-ws endpoint, one consistent view across instances sharing Postgres (connections,
 * presence, rooms) and Redis (pubsub, typing).
 */
import { definePlugin, type PluginRuntime } from '../../gateway/plugin.ts';
import { addRealtimeCommands } from './cli.ts';
import { readRealtimeConfig, type RealtimeConfig } from './config.ts';
import { EventLog } from './events-log.ts';
import { RoomFeed } from './feed.ts';
import manifest from './plugin.json' with { type: 'json' };
import { PresenceTracker } from './presence.ts';
import { Rooms } from './rooms.ts';
import { addRealtimeSchema, type RealtimeServices } from './schema.ts';
import { PRESENCE, ROOM_EVENTS } from './topics.ts';
import { TypingIndicators } from './typing.ts';

interface Running extends RealtimeServices {
  events: EventLog;
}

const running = new WeakMap<PluginRuntime<RealtimeConfig>, Running>();
/** The services of a started plugin; made on first use, as the runtime's services arrive at start. */
const servicesOf = (runtime: PluginRuntime<RealtimeConfig>): Running => {
  let services = running.get(runtime);
  if (!services) {
    const events = new EventLog(() => runtime.db, runtime.log);
    services = {
      events,
      rooms: new Rooms(runtime, events),
      presence: new PresenceTracker(runtime, events),
      typing: new TypingIndicators(runtime.pubsub, runtime.connections.redisUrl, runtime.config.typingTtlMs, runtime.log),
      presenceFeed: new RoomFeed(runtime.pubsub, PRESENCE),
      roomEventsFeed: new RoomFeed(runtime.pubsub, ROOM_EVENTS),
    };
    running.set(runtime, services);
  }
  return services;
};

export default definePlugin<RealtimeConfig>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: readRealtimeConfig,
  schema: (builder, runtime) => addRealtimeSchema(builder, runtime, () => servicesOf(runtime)),
  commands: addRealtimeCommands,
  sockets: (runtime) => ({
    opened: (connection) => servicesOf(runtime).presence.opened(connection),
    closed: (connection) => servicesOf(runtime).presence.closed(connection),
    keepAlive: { intervalMs: runtime.config.pingIntervalMs, timeoutMs: runtime.config.pingTimeoutMs },
  }),
  async start(runtime) {
    await servicesOf(runtime).presence.start();
  },
  async stop(runtime) {
    const services = running.get(runtime);
    if (!services) return;
    services.presenceFeed.close();
    services.roomEventsFeed.close();
    await services.typing.close();
    await services.presence.stop();
    await services.events.flush();
  },
});
