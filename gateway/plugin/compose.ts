/**
 * Composition: each plugin builds its subschema with its own builder; the gateway merges them
 * into one executable schema. Merging (not stitching) keeps each field's own resolver, so the
 * composed schema executes exactly as fast as a single Pothos schema would.
 */
import { mergeSchemas } from '@graphql-tools/schema';
import {
  GraphQLObjectType,
  GraphQLSchema,
  isSpecifiedScalarType,
  lexicographicSortSchema,
  printSchema,
  printType,
} from 'graphql';
import { createBuilder, type Builder } from '../builder.ts';

export interface Subschema {
  plugin: string;
  schema: GraphQLSchema;
}

/** Two plugins define the same root field, or the same type differently. */
export class SchemaConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaConflictError';
  }
}

export function buildSubschema(plugin: string, addFields: (builder: Builder) => void): Subschema {
  const builder = createBuilder();
  addFields(builder);
  return { plugin, schema: dropEmptyRootTypes(builder.toSchema()) };
}

/** Pothos keeps a root type without fields; GraphQL forbids one. */
function dropEmptyRootTypes(schema: GraphQLSchema): GraphQLSchema {
  const config = schema.toConfig();
  const isEmpty = (type: GraphQLObjectType | null | undefined) => !!type && Object.keys(type.getFields()).length === 0;
  const empty = new Set([config.query, config.mutation, config.subscription].filter(isEmpty));
  return new GraphQLSchema({
    ...config,
    query: isEmpty(config.query) ? undefined : config.query,
    mutation: isEmpty(config.mutation) ? undefined : config.mutation,
    subscription: isEmpty(config.subscription) ? undefined : config.subscription,
    types: config.types.filter((type) => !empty.has(type as GraphQLObjectType)),
  });
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

function checkConflicts(subschemas: Subschema[]): void {
  const problems: string[] = [];
  const rootFieldOwner = new Map<string, string>();
  const typeOwner = new Map<string, { plugin: string; printed: string }>();
  for (const { plugin, schema } of subschemas) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
      if (ROOT_TYPES.has(type.name) && type instanceof GraphQLObjectType) {
        for (const field of Object.keys(type.getFields())) {
          const key = `${type.name}.${field}`;
          const owner = rootFieldOwner.get(key);
          if (owner) problems.push(`${key} is defined by both ${owner} and ${plugin}`);
          else rootFieldOwner.set(key, plugin);
        }
        continue;
      }
      // Shared types (scalars, PageInfo) may appear in many subschemas, but only identically.
      const printed = printType(type);
      const owner = typeOwner.get(type.name);
      if (!owner) typeOwner.set(type.name, { plugin, printed });
      else if (owner.printed !== printed)
        problems.push(`type ${type.name} is defined differently by ${owner.plugin} and ${plugin}`);
    }
  }
  if (problems.length > 0) throw new SchemaConflictError(`Plugin schemas conflict:\n  - ${problems.join('\n  - ')}`);
}

export function composeSchema(subschemas: Subschema[]): GraphQLSchema {
  checkConflicts(subschemas);
  if (subschemas.length === 1) return subschemas[0]!.schema;
  return mergeSchemas({ schemas: subschemas.map((s) => s.schema) });
}

/** The SDL checked in as schema/schema.graphql: sorted, so it diffs cleanly. */
export function printComposedSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
