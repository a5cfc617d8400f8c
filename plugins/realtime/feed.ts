/**
 * One pubsub subscription per room and topic on this instance, relayed to every local follower:
 * 100 followers of a room cost one Redis channel subscription, not 100. A follower gets the
 * room's current state first, then the changes, with nothing falling between the two (it
 * listens before the state is read, and holds what arrives meanwhile).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type PubSub, PUSH, type PushReceiver, type PushStream, type Topic } from '../../gateway/sdk.ts';

interface Relay<T> {
  /** The room's id, one string that every follower of the room keeps. */
  roomId: string;
  followers: Set<Follower<T>>;
  ready: Promise<void>;
  stop(): void;
}

export interface FeedHooks<T> {
  /**
   * The room's current state when it is the same for every follower: read once for all the
   * followers that start in one turn of the event loop (10,000 sockets subscribing at once in 100
   * rooms read it about 100 times, not 10,000).
   */
  state?(roomId: string): Promise<T[]> | T[];
  /** Sees each event relayed for a room (before followers do). */
  onEvent?(roomId: string, event: T): void;
  /** The room's last follower left. */
  onIdle?(roomId: string): void;
}

/**
 * One follower of a room: an async iterator fed by pushes (a value waits in a buffer until asked
 * for, an ask waits until a value comes), or a push stream handing each event on. Lighter per
 * event than a generator over `events.on`, which matters when one event goes to thousands of
 * followers; and one object, listener included, since ten thousand sockets follow two rooms each.
 */
class Follower<T> implements AsyncIterableIterator<T>, PushStream<T> {
  /** Values not asked for yet (made with the first). */
  private buffer: T[] | undefined;
  private pushTo: PushReceiver<T> | undefined;
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;
  private ended = false;
  private readonly feed: RoomFeed<T>;
  readonly roomId: string;
  /** Events relayed while the room's current state is read: they follow it. */
  private held: T[] | undefined = [];

  constructor(feed: RoomFeed<T>, roomId: string) {
    this.feed = feed;
    this.roomId = roomId;
  }

  /** An event relayed for the room. */
  accept(event: T): void {
    if (this.held) this.held.push(event);
    else this.push(event);
  }

  /** The room's current state, then what was held while it was read. */
  started(state: T[]): void {
    for (const event of state) this.push(event);
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.push(event);
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.pushTo) {
      this.pushTo.deliver(value);
      return;
    }
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting.resolve({ value, done: false });
    } else if (this.buffer) {
      this.buffer.push(value);
    } else {
      this.buffer = [value];
    }
  }

  /** Delivers to the receiver from now on (what is buffered first). */
  [PUSH](receiver: PushReceiver<T>): void {
    this.pushTo = receiver;
    const buffered = this.buffer ?? [];
    this.buffer = undefined;
    for (const value of buffered) receiver.deliver(value);
    if (this.ended) receiver.end(this.failure);
  }

  fail(error: unknown): void {
    this.failure = error;
    this.pushTo?.end(error);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(error);
    void this.return();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer?.length) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.buffer = undefined;
      this.waiting?.resolve({ value: undefined, done: true });
      this.waiting = undefined;
      this.pushTo?.end(this.failure);
      this.feed.unfollow(this);
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

export class RoomFeed<T> {
  private readonly relays = new Map<string, Relay<T>>();
  private readonly pubsub: PubSub;
  private readonly topic: Topic<T>;
  private readonly hooks: FeedHooks<T>;
  /** State reads to be made next turn, by room, each for the followers that asked this turn. */
  private readonly stateReads = new Map<string, Promise<T[]>>();

  constructor(pubsub: PubSub, topic: Topic<T>, hooks: FeedHooks<T> = {}) {
    this.pubsub = pubsub;
    this.topic = topic;
    this.hooks = hooks;
  }

  /** Hands an event to the room's local followers only (e.g. a typing expiry each instance works out). */
  emitLocal(roomId: string, event: T): void {
    for (const follower of this.relays.get(roomId)?.followers ?? []) follower.accept(event);
  }

  /**
   * The room's current state (`current`, or else the feed's shared `state`), then its events,
   * until the consumer stops.
   */
  follow(roomId: string, current?: () => Promise<T[]> | T[]): AsyncIterableIterator<T> {
    const read = current ?? (() => this.sharedState(roomId));
    const relay = this.acquire(roomId);
    const follower = new Follower(this, relay.roomId);
    relay.followers.add(follower);
    void (async () => {
      await relay.ready;
      follower.started(await read());
    })().catch((error: unknown) => follower.fail(error));
    return follower;
  }

  /** A follower ended. */
  unfollow(follower: Follower<T>): void {
    this.relays.get(follower.roomId)?.followers.delete(follower);
    this.release(follower.roomId);
  }

  /**
   * Each follower asks after it listens, and the read is made in the next turn, so it comes after
   * every listener it serves was added: nothing published meanwhile falls between state and events.
   */
  private sharedState(roomId: string): Promise<T[]> {
    const state = this.hooks.state;
    if (!state) throw new Error('RoomFeed.follow needs the current state: pass it, or give the feed a state hook');
    let pending = this.stateReads.get(roomId);
    if (!pending) {
      pending = nextTurn().then(() => {
        this.stateReads.delete(roomId);
        return state(roomId);
      });
      this.stateReads.set(roomId, pending);
    }
    return pending;
  }

  private acquire(roomId: string): Relay<T> {
    let relay = this.relays.get(roomId);
    if (!relay) {
      const followers = new Set<Follower<T>>();
      const source = this.pubsub.subscribe(this.topic, roomId);
      const pump = (async () => {
        for await (const event of source) {
          this.hooks.onEvent?.(roomId, event);
          for (const follower of followers) follower.accept(event);
        }
      })();
      pump.catch(() => {});
      relay = {
        roomId,
        followers,
        // The pump's first next() subscribes; ready() then waits until Redis confirms it.
        ready: nextTurn().then(() => this.pubsub.ready()),
        stop: () => void source.return?.(),
      };
      this.relays.set(roomId, relay);
    }
    return relay;
  }

  private release(roomId: string): void {
    const relay = this.relays.get(roomId);
    if (!relay || relay.followers.size > 0) return;
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
