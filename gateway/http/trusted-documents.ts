/**
 * Trusted documents: the operations a client may run by id, from manifests written by codegen
 * (`client/generated/persisted-documents.json`: `{ "sha256:<hex>": "<document>" }`) or in
 * Apollo's persisted query manifest format. PLUGBOARD_DOCUMENTS says who may still send text.
 * HTTP and graphql-ws both decide through `resolve` below: the same store and the same answers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.ts';

/** `any`: text or ids; `trusted`: ids only, but admins may send text; `trusted-strict`: ids only for everyone. */
export type DocumentsMode = 'any' | 'trusted' | 'trusted-strict';

/** Longer ids are not looked up or echoed: ids are sha256 hashes (71 characters with the prefix). */
const MAX_ID_LENGTH = 200;
const SHA256_ID = /^(?:sha256:)?([0-9a-f]{64})$/;
const FETCH_TIMEOUT_MS = 10_000;

/** What a manifest holds: id → document text. */
export type Manifest = ReadonlyMap<string, string>;

/** A manifest that cannot be used, naming its source and what is wrong with it. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

/** Reads one source: a path, or an http(s) URL. */
async function readSource(source: string): Promise<string> {
  if (/^https?:\/\//i.test(source)) {
    const response = await fetch(source, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new ManifestError(`${source} answered ${response.status}`);
    return response.text();
  }
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    throw new ManifestError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The entries of a codegen map (`{ id: text }`) or an Apollo manifest (`{ operations: [{ id, body }] }`). */
function entriesOf(source: string, json: unknown): [string, string][] {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ManifestError(`${source} is not a JSON object of id → document`);
  const record = json as Record<string, unknown>;
  if (record['format'] === 'apollo-persisted-query-manifest') {
    const operations = record['operations'];
    if (!Array.isArray(operations)) throw new ManifestError(`${source} has no operations array`);
    return operations.map((operation: { id?: unknown; body?: unknown }, index) => {
      if (typeof operation?.id !== 'string' || typeof operation.body !== 'string')
        throw new ManifestError(`${source}: operations[${index}] needs a string id and body`);
      return [operation.id, operation.body];
    });
  }
  return Object.entries(record).map(([id, text]) => {
    if (typeof text !== 'string') throw new ManifestError(`${source}: ${id} is not a document string`);
    return [id, text];
  });
}

/**
 * Every source's documents in one map. An id that is a sha256 hash must be the hash of its
 * text (a manifest edited by hand or out of date fails here, not as wrong answers later), and is
 * also kept by its bare hex, which is what Apollo's APQ clients send.
 */
export async function loadManifests(sources: readonly string[]): Promise<Manifest> {
  const documents = new Map<string, string>();
  for (const source of sources) {
    let json: unknown;
    try {
      json = JSON.parse(await readSource(source));
    } catch (error) {
      if (error instanceof ManifestError) throw error;
      throw new ManifestError(`${source} is not JSON: ${(error as Error).message}`);
    }
    for (const [id, text] of entriesOf(source, json)) {
      const hex = SHA256_ID.exec(id)?.[1];
      if (hex !== undefined) {
        if (createHash('sha256').update(text).digest('hex') !== hex)
          throw new ManifestError(`${source}: ${id} is not the sha256 of its document`);
        documents.set(`sha256:${hex}`, text);
        documents.set(hex, text);
      } else documents.set(id, text);
    }
  }
  return documents;
}

/** What a client sent that names its operation: text, or an id (`documentId`, or APQ's hash). */
export interface OperationParams {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/** `documentId`, else Apollo APQ's `extensions.persistedQuery.sha256Hash` (version 1); null without either. */
export function documentIdOf(params: OperationParams): string | null {
  if (typeof params.documentId === 'string') return params.documentId;
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)
    ?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

/** The refusals, over HTTP with their status (400) and over graphql-ws without. */
export type Transport = 'http' | 'ws';
const extensionsFor = (code: ErrorCode, transport: Transport) =>
  transport === 'http' ? { code, http: { status: 400 } } : { code };

function notFoundError(id: string, transport: Transport): GraphQLError {
  const shown = id.length > MAX_ID_LENGTH ? `${id.slice(0, 32)}…` : id;
  return new GraphQLError(`No trusted document has the id ${JSON.stringify(shown)} (PLUGBOARD_TRUSTED_DOCUMENTS)`, {
    extensions: extensionsFor(ErrorCode.PERSISTED_QUERY_NOT_FOUND, transport),
  });
}

function textRefusedError(mode: DocumentsMode, transport: Transport): GraphQLError {
  return new GraphQLError(
    `This gateway runs trusted documents only (PLUGBOARD_DOCUMENTS=${mode}): send a documentId from the codegen'd manifest, not the document's text`,
    { extensions: extensionsFor(ErrorCode.PERSISTED_QUERY_ONLY, transport) },
  );
}

function missingDocumentError(transport: Transport): GraphQLError {
  return new GraphQLError('Send a document as query, or a trusted document by documentId', {
    extensions: extensionsFor(ErrorCode.BAD_REQUEST, transport),
  });
}

/**
 * The trusted documents and the mode. `reload` swaps in a new set at once; a set that fails to
 * load leaves the current one serving.
 */
export class TrustedDocuments {
  private documents: Manifest = new Map();
  readonly mode: DocumentsMode;
  readonly sources: readonly string[];
  private readonly log: Logger;

  constructor(mode: DocumentsMode, sources: readonly string[], log: Logger) {
    this.mode = mode;
    this.sources = sources;
    this.log = log;
  }

  /** Distinct documents held (each is kept under two ids). */
  get size(): number {
    return new Set(this.documents.values()).size;
  }

  /** The text of a trusted document. */
  get(id: string): string | undefined {
    return id.length > MAX_ID_LENGTH ? undefined : this.documents.get(id);
  }

  /** Whether text may be run by this caller. */
  allowsText(isAdmin: boolean): boolean {
    return this.mode === 'any' || (this.mode === 'trusted' && isAdmin);
  }

  /** Loads every source; throws a ManifestError (start-up stops on it). */
  async load(): Promise<void> {
    this.documents = await loadManifests(this.sources);
    this.log.info({ mode: this.mode, documents: this.size, sources: this.sources }, 'trusted documents loaded');
  }

  /** Loads again (SIGHUP); on failure logs why and keeps serving the documents it had. */
  async reload(): Promise<boolean> {
    try {
      await this.load();
      return true;
    } catch (error) {
      this.log.error({ err: error }, 'trusted documents not reloaded; the previous set stays');
      return false;
    }
  }

  /** Whether deciding on these parameters needs to know if the caller is an admin. */
  asksWhoSends(params: OperationParams): boolean {
    return this.mode === 'trusted' && typeof params.query === 'string' && params.query !== '';
  }

  /**
   * The text to run for an operation's parameters, or the error to answer: text where the mode
   * lets this caller send it, else the trusted document its id names. HTTP (gateway/http/graphql.ts)
   * and graphql-ws (server.ts) both ask here.
   */
  resolve(params: OperationParams, isAdmin: boolean, transport: Transport): string | GraphQLError {
    if (typeof params.query === 'string' && params.query !== '') {
      return this.allowsText(isAdmin) ? params.query : textRefusedError(this.mode, transport);
    }
    const id = documentIdOf(params);
    if (id === null) return missingDocumentError(transport);
    return this.get(id) ?? notFoundError(id, transport);
  }
}
