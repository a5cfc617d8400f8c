/**
 * Admission control for work that may be dropped when the gateway falls behind. A root mutation
 * field marked `extensions: { [SHEDDABLE]: true }` promises that refusing a call loses nothing the
 * client cannot repeat and nothing others depend on (a typing refresh: the next keystroke sends
 * another). Such an operation is refused with RATE_LIMITED before any GraphQL work is done for it
 * - while the event loop lags past PLUGBOARD_SHED_LAG_MS, in a share that grows with the lag (none
 *   at the limit, all at twice it: refusing every one as soon as a burst passed the limit starved
 *   the gateway of work it had room for);
 * - while PLUGBOARD_SHED_IN_FLIGHT of them are under way (waiting on Redis or Postgres, say): a
 *   busy event loop made of short turns does not lag, yet work queued behind a slow store grows
 *   without bound.
 * An overload is then spent on delivering events rather than on queueing more of them (without
 * it, deliveries fell to a sixth of their peak at twice the saturating rate).
 */
import { type DocumentNode, getOperationAST, type GraphQLSchema, OperationTypeNode, parse } from 'graphql';
import { LRUCache } from 'lru-cache';

export const SHEDDABLE = 'plugboardSheddable';

/** Why an operation was shed: the event loop lagged, or too many were under way. */
export type ShedReason = 'lag' | 'in_flight';

/** How often the event loop's lag is sampled. */
const SAMPLE_MS = 20;
/** Weight of the newest sample in the smoothed lag (about the last 100 ms count). */
const SMOOTHING = 0.2;
/** Documents (by operation name and text) whose answer is kept; clients choose them, so they are bounded. */
const KNOWN_DOCUMENTS = 1000;
/** Longer documents are never sheddable: a typing refresh is a one-liner. */
const MAX_DOCUMENT_LENGTH = 2000;

export interface LoadShedder {
  /** Whether the operation is made only of sheddable fields (decided from its text, cached). */
  isSheddable(query: string, operationName: string | null | undefined): boolean;
  /** Why a sheddable operation is to be refused now, or undefined when it is let in. */
  refuses(): ShedReason | undefined;
  /** A sheddable operation was accepted; `finished` must follow once it is over. */
  started(): void;
  finished(): void;
  stop(): void;
}

const sheddable = new WeakMap<DocumentNode, Map<string, boolean>>();

/** Whether the operation is a mutation of sheddable root fields only (and __typename); cached per document. */
export function isSheddable(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): boolean {
  let byName = sheddable.get(document);
  if (!byName) {
    byName = new Map();
    sheddable.set(document, byName);
  }
  const key = operationName ?? '';
  let answer = byName.get(key);
  if (answer === undefined) {
    const operation = getOperationAST(document, operationName);
    const fields = schema.getMutationType()?.getFields();
    const selections = operation?.operation === OperationTypeNode.MUTATION ? operation.selectionSet.selections : [];
    const marked = (name: string) => fields?.[name]?.extensions?.[SHEDDABLE] === true;
    answer =
      selections.some((s) => s.kind === 'Field' && marked(s.name.value)) &&
      selections.every((s) => s.kind === 'Field' && (s.name.value === '__typename' || marked(s.name.value)));
    byName.set(key, answer);
  }
  return answer;
}

/** The share of sheddable operations to refuse at a smoothed lag: 0 up to the limit, 1 from twice it. */
export function shedShare(lagMs: number, limitMs: number): number {
  if (limitMs <= 0) return 0;
  return Math.min(1, Math.max(0, (lagMs - limitMs) / limitMs));
}

export function createLoadShedder(
  limits: { lagMs: number; inFlight: number },
  schema: GraphQLSchema,
  random: () => number = Math.random,
): LoadShedder {
  let lag = 0;
  let inFlight = 0;
  let expected = performance.now() + SAMPLE_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = (1 - SMOOTHING) * lag + SMOOTHING * Math.max(0, now - expected);
    expected = now + SAMPLE_MS;
  }, SAMPLE_MS);
  timer.unref();
  // By the operation's text, so that refusing costs a lookup and no parse, context or execution.
  const known = new LRUCache<string, boolean>({ max: KNOWN_DOCUMENTS });
  const sheddableQuery = (query: string, operationName: string | null | undefined) => {
    // Queries and subscriptions (most operations) are told apart without a parse.
    if (query.length > MAX_DOCUMENT_LENGTH || !query.includes('mutation')) return false;
    const key = `${operationName ?? ''}\n${query}`;
    let answer = known.get(key);
    if (answer === undefined) {
      try {
        answer = isSheddable(schema, parse(query), operationName);
      } catch {
        answer = false; // not a document: the ordinary path reports why
      }
      known.set(key, answer);
    }
    return answer;
  };
  return {
    isSheddable: sheddableQuery,
    refuses() {
      if (limits.inFlight > 0 && inFlight >= limits.inFlight) return 'in_flight';
      const share = shedShare(lag, limits.lagMs);
      return share > 0 && random() < share ? 'lag' : undefined;
    },
    started: () => void inFlight++,
    finished: () => void inFlight--,
    stop: () => clearInterval(timer),
  };
}
