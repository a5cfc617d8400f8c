/**
 * GraphQL spans (added to yoga only while tracing is on): parse, validate and execute (or
 * subscribe) of each operation, named by its type and name, and one span per root field, where a
 * plugin's resolver does its I/O; the SQL, Redis and HTTP spans of that I/O nest under it.
 * Variables, arguments and the document's text are never recorded (literals may hold values too).
 */
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import {
  defaultFieldResolver,
  getOperationAST,
  type DocumentNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { failSpan } from '../tracing.ts';

const tracer = trace.getTracer('plugboard-graphql');
const WRAPPED = Symbol('traced resolver');

type Resolver = GraphQLFieldResolver<unknown, unknown> & { [WRAPPED]?: true };

/** Runs a synchronous phase (parse, validate) in a span. */
function phase(name: string, wrapped: () => void): void {
  tracer.startActiveSpan(name, (span) => {
    try {
      wrapped();
    } finally {
      span.end();
    }
  });
}

/** Runs execute or subscribe in a span that the onExecute/onSubscribe hooks name once the operation is known. */
function operation(name: string, wrapped: () => unknown): unknown {
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL }, (span) => {
    let result: unknown;
    try {
      result = wrapped();
    } catch (error) {
      failSpan(span, error);
      span.end();
      throw error;
    }
    if (result instanceof Promise) return result.finally(() => span.end());
    span.end();
    return result;
  });
}

function describe(span: Span, document: DocumentNode, operationName: string | null | undefined): void {
  const definition = getOperationAST(document, operationName);
  const type = definition?.operation ?? 'unknown';
  const name = definition?.name?.value;
  span.updateName(name ? `${type} ${name}` : type);
  span.setAttribute('graphql.operation.type', type);
  if (name) span.setAttribute('graphql.operation.name', name);
}

/** Wraps the resolvers of Query's and Mutation's fields in a span each (once per schema object). */
function traceRootFields(schema: GraphQLSchema): void {
  const roots = [schema.getQueryType(), schema.getMutationType()].filter((t): t is GraphQLObjectType => Boolean(t));
  for (const root of roots) {
    for (const field of Object.values(root.getFields())) {
      const resolve: Resolver = field.resolve ?? defaultFieldResolver;
      if (resolve[WRAPPED]) continue;
      const spanName = `${root.name}.${field.name}`;
      const traced: Resolver = (source, args, contextValue, info) =>
        tracer.startActiveSpan(spanName, { attributes: { 'graphql.field.name': field.name } }, (span) => {
          let result: unknown;
          try {
            result = resolve(source, args, contextValue, info);
          } catch (error) {
            failSpan(span, error);
            span.end();
            throw error;
          }
          if (result instanceof Promise) {
            return result.then(
              (value) => {
                span.end();
                return value;
              },
              (error: unknown) => {
                failSpan(span, error);
                span.end();
                throw error;
              },
            );
          }
          span.end();
          return result;
        });
      traced[WRAPPED] = true;
      field.resolve = traced;
    }
  }
}

export function useTracing(): Plugin {
  return {
    instrumentation: {
      parse: (_payload, wrapped) => phase('graphql.parse', wrapped),
      validate: (_payload, wrapped) => phase('graphql.validate', wrapped),
      execute: (_payload, wrapped) => operation('graphql.execute', wrapped) as ReturnType<typeof wrapped>,
      subscribe: (_payload, wrapped) => operation('graphql.subscribe', wrapped) as ReturnType<typeof wrapped>,
    },
    onSchemaChange: ({ schema }) => traceRootFields(schema),
    onExecute: ({ args }) => {
      const span = trace.getSpan(context.active());
      if (span) describe(span, args.document, args.operationName);
    },
    onSubscribe: ({ args }) => {
      const span = trace.getSpan(context.active());
      if (span) describe(span, args.document, args.operationName);
    },
  };
}
