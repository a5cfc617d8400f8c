/**
 * Subscriptions whose events look the same to every subscriber. A root subscription field
 * marked `extensions: { [SHARED_RESULTS]: true }` promises that what its selection resolves to
 * depends only on the event, the selection and the caller's role — not on who the caller is.
 * Each event is then executed once per distinct document, variables and role on this instance
 * and that one result goes to every subscriber: a typing event in a room of 100 followers is
 * executed once, not 100 times. The field's `subscribe` still runs per subscriber (so its
 * authorization does), and errors are masked as for every other operation.
 */
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  type GraphQLError,
  OperationTypeNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { OperationSink, PushedOperation } from './graphql-ws.ts';

export const SHARED_RESULTS = 'plugboardSharedResults';

/**
 * A subscription's event stream may also offer its events by callback: `[PUSH](receiver)` hands
 * each event to `receiver.deliver` as it happens (and calls `receiver.end` once, when the stream
 * ends or fails), instead of through `next()`. A shared subscription then frames and sends each
 * event in the same turn it was published in — no promise per subscriber per event.
 */
export const PUSH = Symbol.for('plugboard.push');

export interface PushReceiver<T> {
  deliver(event: T): void;
  end(error?: unknown): void;
}

export interface PushStream<T> {
  [PUSH](receiver: PushReceiver<T>): void;
}

type Mask = (error: unknown, message: string) => GraphQLError;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * What the subscribers of one document, variables and role have in common: what each event is
 * executed with, and each event's serialized result (kept while the event is). One object for a
 * room's hundred subscribers, not a copy of the arguments and the key in each.
 */
class SharedQuery {
  private readonly args: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues'>;
  readonly mask: Mask;
  private readonly results = new WeakMap<object, string | Promise<string>>();
  /** The event fanned out last and its result: its subscribers ask for it in a row. */
  private lastEvent: unknown;
  private lastResult: string | undefined;

  constructor(args: ExecutionArgs, mask: Mask) {
    // Not the subscribe's context: the field's subscribe has run with it, the events need their own.
    const { schema, document, operationName, variableValues } = args;
    this.args = { schema, document, operationName, variableValues };
    this.mask = mask;
  }

  /** The event's result, executed once for all the subscribers (with the context of the first to ask). */
  result(event: unknown, contexts: EventContexts): string | Promise<string> {
    if (this.lastResult !== undefined && event === this.lastEvent) return this.lastResult;
    if (typeof event !== 'object' || event === null) return this.executed(event, contexts);
    let result = this.results.get(event);
    if (result === undefined) {
      result = this.executed(event, contexts);
      this.results.set(event, result);
    }
    if (typeof result === 'string') {
      this.lastEvent = event;
      this.lastResult = result;
    }
    return result;
  }

  /** Synchronous when the selection resolves synchronously (the usual case for a payload). */
  private executed(event: unknown, contexts: EventContexts): string | Promise<string> {
    const result = execute({ ...this.args, rootValue: event, contextValue: contexts.eventContext() });
    return result instanceof Promise
      ? result.then((r) => JSON.stringify(masked(r, this.mask)))
      : JSON.stringify(masked(result, this.mask));
  }
}

/** Queries by key while any subscriber holds them; an entry goes once its query is collected. */
const queries = new Map<string, WeakRef<SharedQuery>>();
const collected = new FinalizationRegistry<string>((key) => {
  if (queries.get(key)?.deref() === undefined) queries.delete(key);
});

function sharedQuery(args: ExecutionArgs, role: string, mask: Mask): SharedQuery {
  let documentId = documentIds.get(args.document);
  if (documentId === undefined) {
    documentId = nextDocumentId++;
    documentIds.set(args.document, documentId);
  }
  const key = `${documentId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${role}`;
  let query = queries.get(key)?.deref();
  if (!query) {
    query = new SharedQuery(args, mask);
    queries.set(key, new WeakRef(query));
    collected.register(query, key);
  }
  return query;
}

/** Where a shared subscription's events get their context: a fresh one each execution (its loaders cache nothing stale). */
export interface EventContexts {
  eventContext(): unknown;
}

/**
 * The shared root field's subscription, or null when the operation is not one. Its `next`
 * frames are written to the sink directly — each event's result serialized once for all its
 * subscribers, then framed with the subscription id.
 */
export function sharedSubscription(
  args: ExecutionArgs,
  role: string,
  mask: Mask,
  sink: OperationSink,
  id: string,
  contexts: EventContexts,
): Promise<PushedOperation | ExecutionResult> | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return null;
  const [selection, ...more] = operation.selectionSet.selections;
  if (more.length > 0 || selection?.kind !== 'Field') return null;
  const field = args.schema.getSubscriptionType()?.getFields()[selection.name.value];
  if (field?.extensions?.[SHARED_RESULTS] !== true) return null;

  return Promise.resolve(createSourceEventStream(args)).then((stream) =>
    Symbol.asyncIterator in stream
      ? new SharedSubscriber(sharedQuery(args, role, mask), sink, id, contexts, stream[Symbol.asyncIterator]())
      : masked(stream, mask),
  );
}

/**
 * One subscriber of a shared subscription, in one object with its methods on the prototype: ten
 * thousand sockets hold two each, so the closures and promises a subscriber would otherwise keep
 * were a good part of a socket's weight.
 */
class SharedSubscriber implements PushReceiver<unknown>, PushedOperation {
  private readonly query: SharedQuery;
  private readonly contexts: EventContexts;
  private readonly sink: OperationSink;
  private readonly id: string;
  /** The id as JSON, as every frame carries it. */
  private readonly quotedId: string;
  private readonly events: AsyncIterator<unknown>;

  constructor(
    query: SharedQuery,
    sink: OperationSink,
    id: string,
    contexts: EventContexts,
    events: AsyncIterator<unknown>,
  ) {
    this.query = query;
    this.contexts = contexts;
    this.sink = sink;
    this.id = id;
    this.quotedId = JSON.stringify(id);
    this.events = events;
  }

  /** Relays until the source ends or the subscriber is stopped. */
  begin(): void {
    const events = this.events;
    if (PUSH in events) {
      (events as unknown as PushStream<unknown>)[PUSH](this);
      return;
    }
    void (async () => {
      for (let next = await events.next(); !next.done; next = await events.next())
        this.sink.next(this.quotedId, await this.query.result(next.value, this.contexts));
    })().then(
      () => this.end(),
      (error: unknown) => this.end(error),
    );
  }

  deliver(event: unknown): void {
    const result = this.query.result(event, this.contexts);
    if (!(result instanceof Promise)) this.sink.next(this.quotedId, result);
    // execute reports resolver errors in its result; a rejection would be a bug, not the client's.
    else
      result.then(
        (serialized) => this.sink.next(this.quotedId, serialized),
        (error: unknown) =>
          this.sink.next(this.quotedId, JSON.stringify({ errors: [this.query.mask(error, 'Unexpected error.')] })),
      );
  }

  end(error?: unknown): void {
    this.sink.ended(this.id, error);
  }

  stop(): void {
    void this.events.return?.()?.catch(() => {});
  }
}

function masked(result: ExecutionResult, mask: Mask): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map((error) => mask(error, 'Unexpected error.')) } : result;
}
