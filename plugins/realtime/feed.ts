/**
 * One pubsub subscription per room and topic on this instance, relayed to every local follower:
 * 100 followers of a room cost one Redis channel subscription, not 100. A follower gets the
 * room's current state first, then the changes, with nothing falling between the two (it
 * listens before the state is read, and holds what arrives meanwhile).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type PubSub, PUSH, type PushReceiver, type PushStream, type Topic } from '../../gateway/sdk.ts';

interface Relay<T> {
  listeners: Set<(event: T) => void>;
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
 * An async iterator fed by pushes: a value waits in a buffer until asked for, an ask waits until
 * a value comes. Lighter per event than a generator over `events.on`, which matters when one
 * event goes to thousands of followers.
 */
class Follower<T> implements AsyncIterableIterator<T>, PushStream<T> {
  private buffer: T[] = [];
  private pushTo: PushReceiver<T> | undefined;
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;
  private ended = false;
  private readonly onEnd: () => void;

  constructor(onEnd: () => void) {
    this.onEnd = onEnd;
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
    } else {
      this.buffer.push(value);
    }
  }

  /** Delivers to the receiver from now on (what is buffered first). */
  [PUSH](receiver: PushReceiver<T>): void {
    this.pushTo = receiver;
    const buffered = this.buffer;
    this.buffer = [];
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
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.buffer = [];
      this.waiting?.resolve({ value: undefined, done: true });
      this.waiting = undefined;
      this.pushTo?.end(this.failure);
      this.onEnd();
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
    for (const listener of this.relays.get(roomId)?.listeners ?? []) listener(event);
  }

  /**
   * The room's current state (`current`, or else the feed's shared `state`), then its events,
   * until the consumer stops.
   */
  follow(roomId: string, current?: () => Promise<T[]> | T[]): AsyncIterableIterator<T> {
    const read = current ?? (() => this.sharedState(roomId));
    const relay = this.acquire(roomId);
    // Events arriving while the current state is read wait, and follow it.
    let held: T[] | undefined = [];
    const listener = (event: T) => (held ? held.push(event) : follower.push(event));
    const follower: Follower<T> = new Follower(() => {
      relay.listeners.delete(listener);
      this.release(roomId);
    });
    relay.listeners.add(listener);
    void (async () => {
      await relay.ready;
      for (const event of await read()) follower.push(event);
      for (const event of held!) follower.push(event);
      held = undefined;
    })().catch((error: unknown) => follower.fail(error));
    return follower;
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
      const listeners = new Set<(event: T) => void>();
      const source = this.pubsub.subscribe(this.topic, roomId);
      const pump = (async () => {
        for await (const event of source) {
          this.hooks.onEvent?.(roomId, event);
          for (const listener of listeners) listener(event);
        }
      })();
      pump.catch(() => {});
      relay = {
        listeners,
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
    if (!relay || relay.listeners.size > 0) return;
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
