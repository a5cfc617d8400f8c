/**
 * One pubsub subscription per room and topic on this instance, relayed to every local follower:
 * 100 followers of a room cost one Redis channel subscription, not 100. A follower gets the
 * room's current state first, then the changes, with nothing falling between the two (it
 * listens before the state is read).
 */
import { EventEmitter, on } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PubSub, Topic } from '../../gateway/pubsub.ts';

interface Relay {
  followers: number;
  ready: Promise<void>;
  stop(): void;
}

export interface FeedHooks<T> {
  /** Sees each event relayed for a room (before followers do). */
  onEvent?(roomId: string, event: T): void;
  /** The room's last follower left. */
  onIdle?(roomId: string): void;
}

export class RoomFeed<T> {
  private readonly hub = new EventEmitter();
  private readonly relays = new Map<string, Relay>();
  private readonly pubsub: PubSub;
  private readonly topic: Topic<T>;
  private readonly hooks: FeedHooks<T>;

  constructor(pubsub: PubSub, topic: Topic<T>, hooks: FeedHooks<T> = {}) {
    this.pubsub = pubsub;
    this.topic = topic;
    this.hooks = hooks;
    this.hub.setMaxListeners(0);
  }

  /** Rooms this instance relays now. */
  get rooms(): number {
    return this.relays.size;
  }

  /** Hands an event to the room's local followers only (e.g. a typing expiry each instance works out). */
  emitLocal(roomId: string, event: T): void {
    this.hub.emit(roomId, event);
  }

  /** The room's current state, then its events, until the consumer stops. */
  async *follow(roomId: string, current: () => Promise<T[]> | T[]): AsyncGenerator<T> {
    const relay = this.acquire(roomId);
    const stop = new AbortController();
    try {
      await relay.ready;
      const events = on(this.hub, roomId, { signal: stop.signal }) as AsyncIterableIterator<[T]>;
      for (const event of await current()) yield event;
      for await (const [event] of events) yield event;
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      stop.abort();
      this.release(roomId);
    }
  }

  private acquire(roomId: string): Relay {
    let relay = this.relays.get(roomId);
    if (!relay) {
      const source = this.pubsub.subscribe(this.topic, roomId);
      const pump = (async () => {
        for await (const event of source) {
          this.hooks.onEvent?.(roomId, event);
          this.hub.emit(roomId, event);
        }
      })();
      pump.catch(() => {});
      relay = {
        followers: 0,
        // The pump's first next() subscribes; ready() then waits until Redis confirms it.
        ready: nextTurn().then(() => this.pubsub.ready()),
        stop: () => void source.return?.(),
      };
      this.relays.set(roomId, relay);
    }
    relay.followers++;
    return relay;
  }

  private release(roomId: string): void {
    const relay = this.relays.get(roomId);
    if (!relay || --relay.followers > 0) return;
    this.relays.delete(roomId);
    relay.stop();
    this.hooks.onIdle?.(roomId);
  }

  close(): void {
    for (const [roomId, relay] of this.relays) {
      relay.stop();
      this.hooks.onIdle?.(roomId);
    }
    this.relays.clear();
  }
}
