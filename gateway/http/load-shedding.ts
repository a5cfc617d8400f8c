/**
 * Admission control for work that may be dropped when the gateway falls behind. A root mutation
 * field marked `extensions: { [SHEDDABLE]: true }` promises that refusing a call loses nothing the
 * client cannot repeat and nothing others depend on (a typing refresh: the next keystroke sends
 * another). While the event loop lags past PLUGBOARD_SHED_LAG_MS, an operation made only of such
 * fields is refused with RATE_LIMITED before it is executed, so that an overload is spent on
 * delivering events rather than on queueing more of them (without it, deliveries fell to a sixth
 * of their peak at twice the saturating rate).
 */
import { type DocumentNode, getOperationAST, type GraphQLSchema, OperationTypeNode } from 'graphql';

export const SHEDDABLE = 'plugboardSheddable';

/** How often the event loop's lag is sampled. */
const SAMPLE_MS = 20;

export interface LoadShedder {
  /** True when the operation is made only of sheddable fields and the gateway lags now. */
  sheds(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): boolean;
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

export function createLoadShedder(thresholdMs: number): LoadShedder {
  let lag = 0;
  let expected = performance.now() + SAMPLE_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(0, now - expected);
    expected = now + SAMPLE_MS;
  }, SAMPLE_MS);
  timer.unref();
  return {
    sheds: (schema, document, operationName) =>
      thresholdMs > 0 && lag > thresholdMs && isSheddable(schema, document, operationName),
    stop: () => clearInterval(timer),
  };
}
