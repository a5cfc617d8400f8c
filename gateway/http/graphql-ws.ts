/**
 * The graphql-transport-ws protocol (graphql-ws's), served on `ws` sockets by the gateway itself.
 * graphql-ws's own server keeps, per subscription, an async function suspended in `for await`
 * with the raw frame, the parsed message and the query, a promise chain and three closures, and
 * per socket a dozen closures and the upgrade request: at 10,000 chat sockets with two
 * subscriptions each, more than the socket itself weighs. Here a socket is one object whose
 * methods are on its prototype, its listeners are shared by every socket, and a shared
 * subscription is one object that writes its own frames (shared-subscriptions.ts).
 *
 * The protocol's rules are graphql-ws's (its `validateMessage` checks every message), with its
 * close codes: 4400 a malformed or unexpected message, 4401 subscribe before the ack, 4403 refused
 * at connection_init, 4406 without the subprotocol, 4408 no connection_init within 3 s, 4409 an id
 * already in use, 4429 a second connection_init, 4500 a failure of ours.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  handleProtocols,
  MessageType,
  validateMessage,
  type SubscribePayload,
} from 'graphql-ws';
import type { ExecutionResult, GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

/** How long a socket may wait before its connection_init (graphql-ws's default). */
const INIT_TIMEOUT_MS = 3000;

/** Why a connection_init is refused: the socket is closed with this code and reason. */
export class Refusal {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason: string) {
    this.code = code;
    this.reason = reason;
  }
}

/** Where a pushed operation's frames go, and how it says it has ended. */
export interface OperationSink {
  /**
   * Sends a `next` frame whose payload is `result`, already serialized (a shared subscription's
   * result is serialized once for all its subscribers), for the operation whose id as JSON is
   * `quotedId` (written into each of its frames, so quoted once).
   */
  next(quotedId: string, result: string): void;
  /** A pushed operation's source ended (or failed): its `complete` (or `error`) is sent. */
  ended(id: string, error?: unknown): void;
}

/**
 * An operation that sends its own `next` frames through the sink (a shared subscription): it
 * starts sending at `begin`, stops at `stop`, and calls `sink.ended` when its source ends.
 */
export interface PushedOperation {
  begin(): void;
  stop(): void;
}

/** What a subscribe message led to: one result, a stream of them, or an operation sending its own. */
export type Outcome = ExecutionResult | AsyncIterable<ExecutionResult> | PushedOperation;

/** What the gateway does at each step of a socket's life; `S` is what it keeps per socket. */
export interface GraphQLWsHandlers<S> {
  /** connection_init: the socket's state when it is let in (it is then acknowledged), or a refusal. */
  connect(
    socket: WebSocket,
    request: IncomingMessage,
    params: Record<string, unknown> | undefined,
  ): Promise<S | Refusal>;
  /** A socket `connect` let in has closed; its operations have been stopped. */
  disconnect(state: S): Promise<void>;
  /**
   * subscribe, before any work for it: errors to refuse it with at once (the session expired, the
   * gateway sheds load, the socket has too many operations, text where only trusted documents
   * run), or undefined to operate it, with `payload.query` set to the text to run (a trusted
   * document sent by id). Cheap and synchronous, since under overload most operations end here.
   */
  admit(state: S, payload: SubscribePayload): readonly GraphQLError[] | undefined;
  /** subscribe, once admitted: the operation's outcome, or errors to answer it with (it then never ran). */
  operate(
    state: S,
    id: string,
    payload: SubscribePayload,
    sink: OperationSink,
  ): Promise<Outcome | readonly GraphQLError[]>;
  /** Every operation `operate` accepted ends here once: answered, completed, failed, or its socket closed. */
  finished(state: S, id: string): void;
  /** Masks what a stream threw before it goes to the client. */
  maskError(error: unknown, message: string): GraphQLError;
}

/** How often each socket is pinged, and how long its pong may take before it is terminated. */
export interface KeepAlive {
  intervalMs: number;
  timeoutMs: number;
}

export interface GraphQLWsOptions<S> {
  handlers: GraphQLWsHandlers<S>;
  /**
   * Bytes a socket may have waiting to be sent (PLUGBOARD_WS_MAX_BUFFER). A client that stops
   * reading would otherwise make the gateway keep every event meant for it: past this its
   * frames are dropped and it is closed with 1013 (try again later).
   */
  maxBufferedBytes: number;
  log: Logger;
  /** The largest message a client may send, in bytes. */
  maxPayload: number;
  keepAlive: KeepAlive;
}

const ACK = JSON.stringify({ type: MessageType.ConnectionAck });
const PONG = JSON.stringify({ type: MessageType.Pong });

/**
 * graphql-ws requires a subscribe's `query`; one that names a trusted document by `documentId`
 * instead (as over HTTP) gets an empty one, which `admit` replaces with the document's text.
 */
function withDocumentText(message: unknown): unknown {
  const { type, payload } = (message ?? {}) as { type?: unknown; payload?: Record<string, unknown> | null };
  if (
    type === MessageType.Subscribe &&
    typeof payload === 'object' &&
    payload !== null &&
    payload['query'] === undefined &&
    typeof payload['documentId'] === 'string'
  )
    payload['query'] = '';
  return message;
}

const isPushed = (outcome: Outcome): outcome is PushedOperation =>
  typeof (outcome as Partial<PushedOperation>).begin === 'function';
const isStream = (outcome: Outcome): outcome is AsyncIterable<ExecutionResult> =>
  typeof (outcome as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';

/** A running operation, by the socket's id for it. */
interface Running {
  stop(): void;
}

/** How long a socket closed for its send buffer has to take the close frame before it is cut. */
const SLOW_CLOSE_GRACE_MS = 1000;

/** What goes around a `next` frame's quoted id, before its payload. */
const NEXT_OPEN = Buffer.from('{"id":');
const NEXT_PAYLOAD = Buffer.from(`,"type":"${MessageType.Next}","payload":`);
const CLOSING_BRACE = 0x7d;

/** A shared subscription's `next` frame: the subscriber's id, and the result serialized once for all. */
class SharedNext {
  private readonly quotedId: string;
  private readonly result: string;
  /** The frame's payload size: `{"id":…,"type":"next","payload":`, the result, `}`. */
  readonly length: number;

  constructor(quotedId: string, result: string) {
    this.quotedId = quotedId;
    this.result = result;
    this.length =
      NEXT_OPEN.length + Buffer.byteLength(this.quotedId) + NEXT_PAYLOAD.length + Buffer.byteLength(result) + 1;
  }

  /** Writes the frame at `at`; returns where it ends. */
  writeTo(out: Buffer, at: number): number {
    let end = writeFrameHeader(out, at, this.length);
    end += NEXT_OPEN.copy(out, end);
    end += out.write(this.quotedId, end);
    end += NEXT_PAYLOAD.copy(out, end);
    end += out.write(this.result, end);
    out[end] = CLOSING_BRACE;
    return end + 1;
  }
}

type Waiting = string | SharedNext;

/** A text frame's size on the wire, server to client (RFC 6455 §5.2: unmasked, 2, 4 or 10 bytes of header). */
const frameBytes = (length: number) => length + (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/** Writes a final text frame's header for a payload of `length` bytes at `at`; returns where the payload goes. */
function writeFrameHeader(out: Buffer, at: number, length: number): number {
  out[at] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeBigUInt64BE(BigInt(length), at + 2);
  return at + 10;
}

/**
 * The sockets with frames waiting, each flushed once after the turn's I/O (setImmediate): what a
 * socket gets in a turn — a room's events under load, a mutation's `next` and `complete` —
 * leaves in one write, and a lone frame waits for no more than the work already queued.
 */
const outbox = new (class Outbox {
  private due: GraphQLSocket<unknown>[] = [];
  private readonly flush = () => {
    const due = this.due;
    this.due = [];
    for (const socket of due) socket.flush();
  };

  add(socket: GraphQLSocket<unknown>): void {
    if (this.due.length === 0) setImmediate(this.flush);
    this.due.push(socket);
  }
})();

/**
 * One socket: ws's WebSocket (the server makes its sockets of this class), its protocol state, its
 * keep-alive and the gateway's `state` once let in — one object, found as `this` by listeners that
 * every socket shares.
 */
class GraphQLSocket<S> extends WebSocket implements OperationSink {
  state: S | undefined;
  private request: IncomingMessage | undefined;
  private initTimer: NodeJS.Timeout | undefined;
  private initReceived = false;
  private closed = false;
  /** By id: null while `operate` runs, then what to stop. */
  private readonly operations = new Map<string, Running | null>();
  // Set by `start`, when ws hands the socket over.
  private served!: GraphQLWsOptions<S>;
  /** The keep-alive slot it is pinged from, when its last ping went, and whether its pong came back. */
  slot: Set<GraphQLSocket<S>> | undefined;
  pingedAt = Number.NEGATIVE_INFINITY;
  answered = true;
  /** Frames written this turn, sent together after it (`flush`), and their size on the wire. */
  private waiting: Waiting[] | undefined;
  private waitingBytes = 0;

  start(request: IncomingMessage, served: GraphQLWsOptions<S>): void {
    this.served = served;
    this.request = request;
    this.initTimer = setTimeout(closeUninitialised, INIT_TIMEOUT_MS, this);
  }

  /** Sends a frame with the others of this turn. */
  write(text: string): void {
    this.queue(text, frameBytes(Buffer.byteLength(text)));
  }

  next(quotedId: string, result: string): void {
    const frame = new SharedNext(quotedId, result);
    this.queue(frame, frameBytes(frame.length));
  }

  private queue(frame: Waiting, bytes: number): void {
    if (this.readyState !== WebSocket.OPEN) return;
    if (this.bufferedAmount + this.waitingBytes + bytes > this.served.maxBufferedBytes) {
      this.closeSlow();
      return;
    }
    this.waitingBytes += bytes;
    if (this.waiting) this.waiting.push(frame);
    else {
      this.waiting = [frame];
      outbox.add(this);
    }
  }

  /**
   * Writes the turn's frames, encoded into one buffer, in one write: a socket gets a frame per
   * room event, and through ws's `send` each was a header and a string queued in the stream,
   * gathered by a `writev` at uncork — over half the gateway's time at saturation.
   */
  flush(): void {
    const frames = this.waiting;
    const bytes = this.waitingBytes;
    this.waiting = undefined;
    this.waitingBytes = 0;
    // Closing or closed: ws's close frame has gone, and nothing may follow it.
    if (!frames || this.readyState !== WebSocket.OPEN) return;
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const frame of frames) {
      if (typeof frame === 'string') {
        at = writeFrameHeader(out, at, Buffer.byteLength(frame));
        at += out.write(frame, at);
      } else at = frame.writeTo(out, at);
    }
    // ws keeps its net.Socket in `_socket` and offers no way to write frames made elsewhere.
    (this as unknown as { _socket: Duplex })._socket.write(out);
  }

  /** What this turn has queued goes before the close frame. */
  override close(code?: number, reason?: string | Buffer): void {
    this.flush();
    super.close(code, reason);
  }

  /** Closed with 1013, the frame that would pass the bound dropped; a client that still does not read is cut after a grace. */
  private closeSlow(): void {
    const maxBytes = this.served.maxBufferedBytes;
    this.served.log.warn({ bufferedBytes: this.bufferedAmount, maxBytes }, 'closing a WebSocket that does not read');
    // What is waiting, within the bound, goes first; the close frame waits behind it.
    this.close(1013, `Sending faster than the client reads (PLUGBOARD_WS_MAX_BUFFER=${maxBytes})`);
    const cut = setTimeout(() => this.terminate(), SLOW_CLOSE_GRACE_MS);
    cut.unref();
    this.once('close', () => clearTimeout(cut));
  }

  receive(data: string): void {
    let message: ReturnType<typeof validateMessage>;
    try {
      message = validateMessage(withDocumentText(JSON.parse(data)));
    } catch {
      this.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        void this.init(message.payload).catch((error: unknown) => this.fail(error));
        return;
      case MessageType.Ping:
        this.write(message.payload ? JSON.stringify({ type: MessageType.Pong, payload: message.payload }) : PONG);
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        this.subscribe(message.id, message.payload);
        return;
      case MessageType.Complete:
        this.complete(message.id);
        return;
      default:
        this.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  private async init(payload: Record<string, unknown> | undefined): Promise<void> {
    if (this.initReceived) {
      this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      return;
    }
    this.initReceived = true;
    clearTimeout(this.initTimer);
    this.initTimer = undefined;
    const request = this.request!;
    this.request = undefined; // only connect needs it
    const admitted = await this.served.handlers.connect(this, request, payload ?? undefined);
    if (admitted instanceof Refusal) {
      this.close(admitted.code, admitted.reason.slice(0, 120));
      return;
    }
    // Gone while being let in: it was never acknowledged, but what connect opened closes now.
    if (this.closed) return this.served.handlers.disconnect(admitted);
    this.state = admitted;
    this.write(ACK);
  }

  private subscribe(id: string, payload: SubscribePayload): void {
    const state = this.state;
    if (state === undefined) {
      this.close(CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    if (this.operations.has(id)) {
      this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return;
    }
    const refused = this.served.handlers.admit(state, payload);
    if (refused) {
      this.write(errorFrame(id, refused));
      return;
    }
    this.operations.set(id, null);
    void this.operate(state, id, payload).catch((error: unknown) => this.fail(error));
  }

  private async operate(state: S, id: string, payload: SubscribePayload): Promise<void> {
    // JSON.parse leaves longer strings as slices of the whole frame, and a subscription keeps its
    // variables (a room id, say) for its life: parsed again, they hold only their own text.
    const variables = payload.variables && (JSON.parse(JSON.stringify(payload.variables)) as typeof payload.variables);
    let outcome: Outcome | readonly GraphQLError[];
    try {
      outcome = await this.served.handlers.operate(state, id, { ...payload, variables }, this);
    } catch (error) {
      this.operations.delete(id);
      throw error;
    }
    if (Array.isArray(outcome)) {
      if (this.operations.delete(id)) this.write(errorFrame(id, outcome));
      return;
    }
    const accepted = outcome as Outcome;
    if (!isPushed(accepted) && !isStream(accepted)) {
      // One result: answered unless the client completed it (or its socket closed) meanwhile.
      if (this.operations.delete(id)) {
        this.write(JSON.stringify({ id, type: MessageType.Next, payload: accepted }));
        this.write(JSON.stringify({ id, type: MessageType.Complete }));
      }
      this.served.handlers.finished(state, id);
      return;
    }
    const running: Running = isPushed(accepted) ? accepted : this.relay(id, accepted[Symbol.asyncIterator]());
    // Completed by the client, or its socket closed, while it started.
    if (!this.operations.has(id)) {
      running.stop();
      this.served.handlers.finished(state, id);
      return;
    }
    this.operations.set(id, running);
    if (isPushed(accepted)) accepted.begin();
  }

  /** A stream's results as `next` frames, after `operate` has registered it; stopped by `return`. */
  private relay(id: string, results: AsyncIterator<ExecutionResult>): Running {
    queueMicrotask(() => {
      void (async () => {
        try {
          for (let next = await results.next(); !next.done; next = await results.next()) {
            if (this.operations.get(id) == null) return;
            this.write(JSON.stringify({ id, type: MessageType.Next, payload: next.value }));
          }
          this.ended(id);
        } catch (error) {
          this.ended(id, error);
        }
      })();
    });
    return { stop: () => void results.return?.()?.catch(() => {}) };
  }

  ended(id: string, error?: unknown): void {
    if (this.operations.get(id) == null) return; // stopped already, and counted
    this.operations.delete(id);
    this.write(
      error === undefined
        ? JSON.stringify({ id, type: MessageType.Complete })
        : errorFrame(id, [this.served.handlers.maskError(error, 'Unexpected error.')]),
    );
    this.served.handlers.finished(this.state!, id);
  }

  private complete(id: string): void {
    const running = this.operations.get(id);
    if (running === undefined) return;
    this.operations.delete(id);
    // One still starting is stopped and counted by `operate` when it finds its id gone.
    if (running === null) return;
    running.stop();
    this.served.handlers.finished(this.state!, id);
  }

  /** The socket closed: its operations stop, and the gateway lets go of its state. */
  disconnected(): Promise<void> | undefined {
    this.closed = true;
    clearTimeout(this.initTimer);
    for (const id of [...this.operations.keys()]) this.complete(id);
    return this.state === undefined ? undefined : this.served.handlers.disconnect(this.state);
  }

  /** A failure of ours: logged, and the socket closed with 4500. */
  fail(error: unknown): void {
    this.served.log.error({ err: error }, 'graphql-ws message handling failed');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
}

function closeUninitialised(socket: GraphQLSocket<unknown>): void {
  socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
}

/** Errors answered often (the same refusal under overload) are serialized once. */
const serializedErrors = new WeakMap<readonly GraphQLError[], string>();

function errorFrame(id: string, errors: readonly GraphQLError[]): string {
  let payload = serializedErrors.get(errors);
  if (payload === undefined) {
    payload = JSON.stringify(errors);
    serializedErrors.set(errors, payload);
  }
  return `{"id":${JSON.stringify(id)},"type":"${MessageType.Error}","payload":${payload}}`;
}

/**
 * Serves graphql-transport-ws: `handleUpgrade` takes an HTTP upgrade (the caller has checked its
 * path) and makes it a GraphQLSocket. A client that vanishes mid-write is a debug line.
 */
export function serveGraphQLWs<S>(options: GraphQLWsOptions<S>): {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  dispose(): Promise<void>;
} {
  const { log } = options;
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload,
    handleProtocols,
    // The keep-alive's slots hold every socket; ws's own set added a close listener to each.
    clientTracking: false,
    // Sockets write their frames themselves (`flush`), uncompressed, as ws's default is.
    perMessageDeflate: false,
    WebSocket: GraphQLSocket,
  });
  const keepAlive = new KeepAliveSlots<S>(options.keepAlive);
  // Shared by every socket (`this` is the socket): no closures per socket.
  function onMessage(this: WebSocket, data: RawData): void {
    (this as GraphQLSocket<S>).receive(String(data));
  }
  function onClose(this: WebSocket): void {
    const socket = this as GraphQLSocket<S>;
    keepAlive.leave(socket);
    socket.disconnected()?.catch((error: unknown) => log.error({ err: error }, 'graphql-ws close failed'));
  }
  function onPong(this: WebSocket): void {
    (this as GraphQLSocket<S>).answered = true;
  }
  function onError(error: Error): void {
    // A reset or broken pipe: the client went away; its close follows.
    log.debug({ err: error }, 'WebSocket error');
  }
  sockets.on('error', (error) => log.error({ err: error }, 'WebSocket server error'));
  return {
    handleUpgrade(request, socket, head) {
      sockets.handleUpgrade(request, socket, head, (upgraded) => {
        const graphqlSocket = upgraded as GraphQLSocket<S>;
        graphqlSocket.on('error', onError);
        if (graphqlSocket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
          graphqlSocket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
          return;
        }
        graphqlSocket.start(request, options);
        keepAlive.join(graphqlSocket);
        graphqlSocket.on('message', onMessage);
        graphqlSocket.on('close', onClose);
        graphqlSocket.on('pong', onPong);
      });
    },
    async dispose() {
      keepAlive.stop();
      const closed = keepAlive.sockets().map((socket) => {
        const gone = new Promise((resolve) => socket.once('close', resolve));
        socket.close(1001, 'Going away');
        return gone;
      });
      sockets.removeAllListeners();
      await Promise.all(closed);
      await new Promise<void>((resolve, reject) => sockets.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * Pings every socket each interval and terminates one whose pong has not come back within the
 * timeout: a dead peer is noticed within one interval plus one timeout. Sockets are dealt
 * round-robin into slots and each tick visits one slot, so 10,000 sockets get their pings a
 * hundred at a time, not in one burst that stalls every delivery behind 10,000 writes.
 */
class KeepAliveSlots<S> {
  private readonly slots: Set<GraphQLSocket<S>>[];
  private readonly timer: NodeJS.Timeout;
  private dealt = 0;
  private visiting = 0;

  constructor({ intervalMs, timeoutMs }: KeepAlive) {
    // Each socket is visited every `period`; a tick is at least 20 ms, at most a hundredth of it.
    const period = Math.max(50, Math.min(intervalMs, timeoutMs) / 2);
    this.slots = Array.from({ length: Math.max(1, Math.min(100, Math.floor(period / 20))) }, () => new Set());
    this.timer = setInterval(() => this.tick(intervalMs, timeoutMs), period / this.slots.length);
    this.timer.unref();
  }

  join(socket: GraphQLSocket<S>): void {
    const slot = this.slots[this.dealt++ % this.slots.length]!;
    slot.add(socket);
    socket.slot = slot;
  }

  leave(socket: GraphQLSocket<S>): void {
    socket.slot?.delete(socket);
    socket.slot = undefined;
  }

  sockets(): GraphQLSocket<S>[] {
    return this.slots.flatMap((slot) => [...slot]);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(intervalMs: number, timeoutMs: number): void {
    const now = Date.now();
    for (const socket of this.slots[this.visiting++ % this.slots.length]!) {
      if (!socket.answered) {
        if (now - socket.pingedAt >= timeoutMs) socket.terminate();
      } else if (now - socket.pingedAt >= intervalMs) {
        socket.pingedAt = now;
        socket.answered = false;
        socket.ping();
      }
    }
  }
}
