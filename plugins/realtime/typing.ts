/**
 * Typing indicators: ephemeral, never a row. Who types where lives in Redis (a hash per room,
 * field per user holding the expiry, the key itself expiring) when the gateway has Redis, else
 * in memory (one instance). startTyping publishes `isTyping: true` with its expiry; a refresh
 * inside the TTL publishes the later expiry. Expiry is worked out where it is delivered: each
 * instance relaying a room keeps a timer per typing user and hands `isTyping: false` to its own
 * followers when the expiry passes without a refresh — nothing crosses Redis for it.
 */
import type { Logger } from 'pino';
import { createRedisClient, type PubSub, type RedisTarget } from '../../gateway/sdk.ts';
import { RoomFeed } from './feed.ts';
import { TYPING, type TypingPayload } from './topics.ts';

/** Who is typing in a room: user id → expiry (epoch ms). */
interface TypingStore {
  set(roomId: string, userId: string, expiresAt: number): Promise<void>;
  clear(roomId: string, userId: string): Promise<void>;
  current(roomId: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

function memoryStore(): TypingStore {
  const rooms = new Map<string, Map<string, number>>();
  return {
    async set(roomId, userId, expiresAt) {
      let room = rooms.get(roomId);
      if (!room) {
        room = new Map();
        rooms.set(roomId, room);
      }
      room.set(userId, expiresAt);
    },
    async clear(roomId, userId) {
      const room = rooms.get(roomId);
      room?.delete(userId);
      if (room?.size === 0) rooms.delete(roomId);
    },
    async current(roomId) {
      const now = Date.now();
      const room = rooms.get(roomId) ?? new Map<string, number>();
      for (const [userId, expiresAt] of room) if (expiresAt <= now) room.delete(userId);
      return new Map(room);
    },
    async close() {},
  };
}

function redisStore(target: RedisTarget, ttlMs: number, log: Logger): TypingStore {
  const redis = createRedisClient(target, { connectionName: 'plugboard-realtime-typing', maxRetriesPerRequest: 3 });
  // ioredis reconnects by itself; an error is worth a warning (commands meanwhile fail loudly).
  redis.on('error', (error: Error) => log.warn({ err: error }, 'realtime typing store: Redis connection error'));
  const key = (roomId: string) => `plugboard:realtime:typing:${roomId}`;
  return {
    async set(roomId, userId, expiresAt) {
      // The hash outlives its newest entry by one TTL, so an idle room's hash goes away by itself.
      // One key, so one slot: the MULTI works on a cluster too.
      await redis
        .multi()
        .hset(key(roomId), userId, String(expiresAt))
        .pexpire(key(roomId), 2 * ttlMs)
        .exec();
    },
    async clear(roomId, userId) {
      await redis.hdel(key(roomId), userId);
    },
    async current(roomId) {
      const now = Date.now();
      const entries = Object.entries(await redis.hgetall(key(roomId)));
      return new Map(entries.map(([userId, at]) => [userId, Number(at)] as const).filter(([, at]) => at > now));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

interface Typer {
  expiresAt: number;
  timer: NodeJS.Timeout;
}

export class TypingIndicators {
  private readonly store: TypingStore;
  private readonly feed: RoomFeed<TypingPayload>;
  /** Per room this instance relays: who types, with the timer that lapses it. */
  private readonly rooms = new Map<string, Map<string, Typer>>();
  /** Relayed rooms whose typers were read from the store (once, by their first followers). */
  private readonly known = new Set<string>();
  private readonly pubsub: PubSub;
  private readonly ttlMs: number;

  constructor(pubsub: PubSub, redis: RedisTarget | undefined, ttlMs: number, log: Logger) {
    this.pubsub = pubsub;
    this.ttlMs = ttlMs;
    this.store = pubsub.transport === 'redis' && redis ? redisStore(redis, ttlMs, log) : memoryStore();
    this.feed = new RoomFeed(pubsub, TYPING, {
      state: (roomId) => this.current(roomId),
      onEvent: (roomId, event) => this.track(roomId, event.userId, event.isTyping ? Date.parse(event.expiresAt) : null),
      onIdle: (roomId) => {
        for (const typer of this.rooms.get(roomId)?.values() ?? []) clearTimeout(typer.timer);
        this.rooms.delete(roomId);
        this.known.delete(roomId);
      },
    });
  }

  async start(roomId: string, userId: string): Promise<TypingPayload> {
    const expiresAt = Date.now() + this.ttlMs;
    await this.store.set(roomId, userId, expiresAt);
    const event = { userId, isTyping: true, expiresAt: new Date(expiresAt).toISOString() };
    this.pubsub.publish(TYPING, event, roomId);
    return event;
  }

  async stop(roomId: string, userId: string): Promise<TypingPayload> {
    await this.store.clear(roomId, userId);
    const event = { userId, isTyping: false, expiresAt: new Date().toISOString() };
    this.pubsub.publish(TYPING, event, roomId);
    return event;
  }

  /** Who is typing in the room now, then every start, refresh, stop and expiry. */
  follow(roomId: string): AsyncIterableIterator<TypingPayload> {
    return this.feed.follow(roomId);
  }

  /** Who types in a relayed room; its first followers learn it from the store (events relayed meanwhile win if later). */
  private async current(roomId: string): Promise<TypingPayload[]> {
    if (!this.known.has(roomId)) {
      for (const [userId, expiresAt] of await this.store.current(roomId)) {
        if ((this.rooms.get(roomId)?.get(userId)?.expiresAt ?? 0) < expiresAt) this.track(roomId, userId, expiresAt);
      }
      this.known.add(roomId);
    }
    return [...(this.rooms.get(roomId) ?? [])].map(([userId, { expiresAt }]) => ({
      userId,
      isTyping: true,
      expiresAt: new Date(expiresAt).toISOString(),
    }));
  }

  /** Sets (expiry) or clears (null) a user's indicator in a relayed room. */
  private track(roomId: string, userId: string, expiresAt: number | null): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new Map();
      this.rooms.set(roomId, room);
    }
    const previous = room.get(userId);
    if (previous) clearTimeout(previous.timer);
    if (expiresAt === null) {
      room.delete(userId);
      return;
    }
    const timer = setTimeout(
      () => {
        room.delete(userId);
        this.feed.emitLocal(roomId, { userId, isTyping: false, expiresAt: new Date(expiresAt).toISOString() });
      },
      Math.max(0, expiresAt - Date.now()),
    );
    timer.unref();
    room.set(userId, { expiresAt, timer });
  }

  async close(): Promise<void> {
    this.feed.close();
    await this.store.close();
  }
}
