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

export const SHARED_RESULTS = 'plugboardSharedResults';

/**
 * A subscription's event stream may also offer its events by callback: `[PUSH](deliver, end)`
 * hands each event to `deliver` as it happens (and `end` once, when the stream ends or fails),
 * instead of through `next()`. A shared subscription then frames and sends each event in the
 * same turn it was published in — no promise per subscriber per event.
 */
export const PUSH = Symbol.for('plugboard.push');

export interface PushStream<T> {
  [PUSH](deliver: (event: T) => void, end: (error?: unknown) => void): void;
}

type Mask = (error: unknown, message: string) => GraphQLError;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;
/** Serialized results by event, then by document, variables and role; gone with the event. */
const results = new WeakMap<object, Map<string, string | Promise<string>>>();

/** Where a graphql-ws subscription's frames go: its id, and its socket. */
export interface SubscriptionSink {
  id: string;
  send(text: string): void;
}

/**
 * The shared root field's subscription, or null when the operation is not one. Its `next`
 * frames are written to the sink directly — each event's result serialized once for all its
 * subscribers, then framed with the subscription id — so graphql-ws only sees the stream end.
 */
export function sharedSubscription(
  args: ExecutionArgs,
  role: string,
  mask: Mask,
  sink: SubscriptionSink,
): Promise<AsyncIterableIterator<never> | ExecutionResult> | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return null;
  const [selection, ...more] = operation.selectionSet.selections;
  if (more.length > 0 || selection?.kind !== 'Field') return null;
  const field = args.schema.getSubscriptionType()?.getFields()[selection.name.value];
  if (field?.extensions?.[SHARED_RESULTS] !== true) return null;

  let documentId = documentIds.get(args.document);
  if (documentId === undefined) {
    documentId = nextDocumentId++;
    documentIds.set(args.document, documentId);
  }
  const key = `${documentId}\n${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}\n${role}`;
  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((error) => mask(error, 'Unexpected error.')) } : result;

  // Synchronous when the selection resolves synchronously (the usual case for a payload).
  const serialized = (event: unknown): string | Promise<string> => {
    const run = () => {
      const result = execute({ ...args, rootValue: event });
      return result instanceof Promise ? result.then((r) => JSON.stringify(masked(r))) : JSON.stringify(masked(result));
    };
    if (typeof event !== 'object' || event === null) return run();
    let byKey = results.get(event);
    if (!byKey) {
      byKey = new Map();
      results.set(event, byKey);
    }
    let text = byKey.get(key);
    if (text === undefined) {
      text = run();
      byKey.set(key, text);
    }
    return text;
  };
  const frame = `{"id":${JSON.stringify(sink.id)},"type":"next","payload":`;

  return (async () => {
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return masked(stream);
    const events = stream[Symbol.asyncIterator]();
    const send = (text: string) => sink.send(`${frame}${text}}`);
    const deliver = (event: unknown) => {
      const text = serialized(event);
      if (typeof text === 'string') send(text);
      // execute reports resolver errors in its result; a rejection would be a bug, not the client's.
      else
        text.then(send, (error: unknown) =>
          sink.send(`${frame}${JSON.stringify({ errors: [mask(error, 'Unexpected error.')] })}}`),
        );
    };
    // Relays until the source ends (graphql-ws then sends `complete`) or graphql-ws returns us.
    const relayed =
      PUSH in events
        ? new Promise<void>((resolve, reject) =>
            (events as unknown as PushStream<unknown>)[PUSH](deliver, (error) =>
              error === undefined ? resolve() : reject(error),
            ),
          )
        : (async () => {
            for (let next = await events.next(); !next.done; next = await events.next())
              send(await serialized(next.value));
          })();
    const ended = relayed.then((): IteratorResult<never> => ({ done: true, value: undefined }));
    const iterator: AsyncIterableIterator<never> = {
      next: () => ended,
      return: async () => {
        await events.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return iterator;
  })();
}
