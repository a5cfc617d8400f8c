/**
 * The HTTP client a frontend runs the typed query and mutation documents (client/generated)
 * with. A document codegen gave an id (its sha256, in persisted-documents.json) goes as
 * `{ documentId }`: the gateway runs the text it trusts under that id (PLUGBOARD_DOCUMENTS).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type GraphQLFormattedError, getOperationAST, print } from 'graphql';

export interface RequestClientOptions {
  /** http(s)://…/graphql */
  url: string;
  /** The bearer token, asked before every request so a refreshed one is used. */
  token?: () => string | undefined | Promise<string | undefined>;
  /** More headers for every request (the operator console's CSRF token). */
  headers?: () => Record<string, string>;
  /** Send each document's text rather than its id (a gateway without this client's manifest). */
  sendText?: boolean;
  fetch?: typeof fetch;
}

/** The errors of a result that has any, with the first one's message and code. */
export class GraphQLRequestError extends Error {
  override name = 'GraphQLRequestError';
  readonly errors: readonly GraphQLFormattedError[];
  readonly code: string | undefined;
  constructor(errors: readonly GraphQLFormattedError[]) {
    super(errors[0]?.message ?? 'GraphQL request failed');
    this.errors = errors;
    this.code = errors[0]?.extensions?.['code'] as string | undefined;
  }
}

/** The id codegen gave a document (the client preset's `persistedDocuments`), if any. */
export function documentIdOf(document: TypedDocumentNode<unknown, never>): string | undefined {
  return (document as { __meta__?: { hash?: string } }).__meta__?.hash;
}

/** What names the operation: its trusted id, or its text. */
export function operationOf(
  document: TypedDocumentNode<unknown, never>,
  sendText = false,
): { documentId: string } | { query: string } {
  const documentId = sendText ? undefined : documentIdOf(document);
  return documentId ? { documentId } : { query: print(document) };
}

export interface RequestClient {
  /** Runs a query or mutation; its data, or a GraphQLRequestError with the errors. */
  request<Result, Variables extends Record<string, unknown>>(
    document: TypedDocumentNode<Result, Variables>,
    variables: Variables,
  ): Promise<Result>;
}

export function createRequestClient(options: RequestClientOptions): RequestClient {
  const send = options.fetch ?? fetch;
  return {
    async request(document, variables) {
      const token = await options.token?.();
      const response = await send(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...options.headers?.(),
        },
        body: JSON.stringify({
          ...operationOf(document as TypedDocumentNode<unknown, never>, options.sendText),
          operationName: getOperationAST(document)?.name?.value,
          variables,
        }),
      });
      const type = response.headers.get('content-type') ?? '';
      if (!type.includes('json')) throw new Error(`${options.url} answered ${response.status} ${type}`);
      const body = (await response.json()) as { data?: unknown; errors?: GraphQLFormattedError[] };
      if (body.errors?.length) throw new GraphQLRequestError(body.errors);
      if (body.data == null) throw new Error(`${options.url} answered ${response.status} without data`);
      return body.data as never;
    },
  };
}
