/**
 * Backfill through Shopify's bulk operations: one `bulkOperationRunQuery` per shop and resource,
 * polled until it completes, then its JSONL result read in chunks of whole lines (the sync core's
 * JSON listing; bulk-resources.ts turns each batch of chunks into rows, children by their
 * `__parentId`). No page-size ceiling: a shop of any size is one export.
 *
 * The checkpoint after each chunk is `shop \t bulk operation id \t byte offset`: a killed
 * backfill asks Shopify for the same operation again and continues from that byte (a Range
 * request, or skipping what it already wrote). An operation whose result is gone (Shopify keeps
 * it a week) is started again.
 */
import { Readable } from 'node:stream';
import { setTimeout } from 'node:timers/promises';
import type { JsonPage } from '../../gateway/sdk.ts';
import type { ShopifyAdmin } from './client.ts';

/** A chunk ends at the first line end after this many bytes. */
const CHUNK_BYTES = 1024 * 1024;

interface BulkOperation {
  id: string;
  status: string;
  errorCode: string | null;
  objectCount: string;
  url: string | null;
}

const BULK_FIELDS = 'id status errorCode objectCount url';

/** Starts a bulk query and waits for it to complete; its result URL (null when it found nothing). */
async function runBulkQuery(admin: ShopifyAdmin, query: string, options: { pollMs: number }): Promise<BulkOperation> {
  const started = await admin.request<{
    bulkOperationRunQuery: {
      bulkOperation: BulkOperation | null;
      userErrors: { field: string[] | null; message: string; code?: string | null }[];
    };
  }>(
    `mutation ($query: String!) {
      bulkOperationRunQuery(query: $query) { bulkOperation { ${BULK_FIELDS} } userErrors { field message code } }
    }`,
    { query },
  );
  const { bulkOperation, userErrors } = started.bulkOperationRunQuery;
  if (!bulkOperation || userErrors.length > 0)
    throw new Error(
      `Shopify ${admin.shop} refused the bulk query: ${userErrors.map((error) => error.message).join('; ') || 'no operation'}`,
    );
  return waitForBulk(admin, bulkOperation.id, options);
}

/** Polls a bulk operation until it is over; throws when it failed or was cancelled. */
async function waitForBulk(admin: ShopifyAdmin, id: string, options: { pollMs: number }): Promise<BulkOperation> {
  for (;;) {
    const { node } = await admin.request<{ node: BulkOperation | null }>(
      `query ($id: ID!) { node(id: $id) { ... on BulkOperation { ${BULK_FIELDS} } } }`,
      { id },
    );
    if (!node) throw new Error(`Shopify ${admin.shop} has no bulk operation ${id}`);
    if (node.status === 'COMPLETED') return node;
    if (!['CREATED', 'RUNNING'].includes(node.status))
      throw new Error(
        `Shopify ${admin.shop}: bulk operation ${id} ${node.status.toLowerCase()} (${node.errorCode ?? 'no error code'})`,
      );
    await setTimeout(options.pollMs);
  }
}

/**
 * The JSONL at `url` from byte `from` on, in chunks of whole lines (a chunk's last byte is a line
 * end or the file's end). Each chunk comes with the byte offset after it.
 */
async function* jsonlChunks(url: string, from: number): AsyncGenerator<{ bytes: Buffer; end: number }> {
  const response = await fetch(url, from > 0 ? { headers: { range: `bytes=${from}-` } } : {});
  if (!response.ok || !response.body) throw new Error(`the bulk result could not be read (HTTP ${response.status})`);
  // A server that ignores Range sends everything: what was written already is skipped.
  let skip = from > 0 && response.status !== 206 ? from : 0;
  let offset = from;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // The DOM typing of fetch's body lacks Node's web stream methods; it is Node's stream at run time.
  for await (const part of Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
    let chunk = part as Buffer;
    if (skip > 0) {
      const dropped = Math.min(skip, chunk.length);
      chunk = chunk.subarray(dropped);
      skip -= dropped;
      if (chunk.length === 0) continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < CHUNK_BYTES) continue;
    const joined = Buffer.concat(pending);
    const lineEnd = joined.lastIndexOf(0x0a);
    if (lineEnd < 0) {
      pending = [joined];
      continue;
    }
    offset += lineEnd + 1;
    yield { bytes: joined.subarray(0, lineEnd + 1), end: offset };
    pending = [joined.subarray(lineEnd + 1)];
    pendingBytes = pending[0]!.length;
  }
  if (pendingBytes > 0) {
    const rest = Buffer.concat(pending);
    offset += rest.length;
    yield { bytes: rest, end: offset };
  }
}

/** The shops a run asked for (`syncShopify(shop: …)`), or every one. */
export const inScope = (shops: string[], scopes: readonly string[] | undefined) =>
  scopes ? shops.filter((shop) => scopes.includes(shop)) : shops;

const cursorOf = (shop: string, operation: string, offset: number) => `${shop}\t${operation}\t${offset}`;

/**
 * A resource's JSON listing over bulk exports: shop after shop (in `shops()` order), one export
 * each, read chunk by chunk. The chunks are JSONL bytes, handed on as they are.
 */
export function bulkListing(options: {
  admin(shop: string): Promise<ShopifyAdmin>;
  shops(): Promise<string[]>;
  query: string;
  pollMs: number;
}): (request: { cursor: string | null; scopes?: readonly string[] | undefined }) => Promise<JsonPage> {
  /** The export being read: where its next chunk comes from. */
  let reading: {
    cursor: string;
    chunks: AsyncGenerator<{ bytes: Buffer; end: number }>;
    shop: string;
    id: string;
  } | null = null;
  const nextShop = async (shop: string | null, scopes: readonly string[] | undefined) => {
    const shops = inScope(await options.shops(), scopes);
    const index = shop === null ? 0 : shops.indexOf(shop) + 1;
    return shops[index] ?? null;
  };
  const open = async (shop: string, operation: string, offset: number) => {
    const admin = await options.admin(shop);
    let found: BulkOperation | null = null;
    if (operation) {
      try {
        found = await waitForBulk(admin, operation, { pollMs: options.pollMs });
      } catch {
        found = null; // Gone, failed or expired: export again.
      }
    }
    if (!found) {
      found = await runBulkQuery(admin, options.query, { pollMs: options.pollMs });
      offset = 0;
    }
    return { shop, id: found.id, url: found.url, offset };
  };
  return async ({ cursor, scopes }) => {
    let shop: string | null;
    let chunks: AsyncGenerator<{ bytes: Buffer; end: number }>;
    let id: string;
    if (reading && reading.cursor === cursor) {
      ({ shop, chunks, id } = reading);
    } else {
      const [cursorShop = '', operation = '', offset = '0'] = cursor ? cursor.split('\t') : [];
      shop = cursor ? cursorShop : await nextShop(null, scopes);
      if (shop === null) return { json: Buffer.alloc(0), next: null };
      const opened = await open(shop, operation, Number(offset));
      id = opened.id;
      chunks = opened.url ? jsonlChunks(opened.url, opened.offset) : (async function* () {})();
    }
    for (;;) {
      const { value, done } = await chunks.next();
      if (!done) {
        const next = cursorOf(shop, id, value.end);
        reading = { cursor: next, chunks, shop, id };
        return { json: value.bytes, next, scope: shop };
      }
      // This shop's export is read: the next shop's begins.
      reading = null;
      const following = await nextShop(shop, scopes);
      if (following === null) return { json: Buffer.alloc(0), next: null };
      shop = following;
      const opened = await open(shop, '', 0);
      id = opened.id;
      chunks = opened.url ? jsonlChunks(opened.url, 0) : (async function* () {})();
    }
  };
}
