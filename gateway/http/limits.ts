/**
 * Query limits in one envelop plugin: graphql-armor's depth, alias, directive and cost rules,
 * graphql-js's own token limit in the parser, and, when introspection is off, graphql-js's
 * introspection rule plus hiding "Did you mean" suggestions. One plugin with two hooks instead of
 * seven (graphql-armor's meta plugin and the introspection plugin): the hooks run on every
 * request, the rules only on documents not validated before (useValidationCache, http/graphql.ts).
 */
import type { Plugin } from '@envelop/core';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { codedError, ErrorCode } from '../errors.ts';

export interface QueryLimits {
  depth: number;
  aliases: number;
  tokens: number;
  cost: number;
  directives: number;
}

function tooComplex(message: string): GraphQLError {
  return codedError(ErrorCode.QUERY_TOO_COMPLEX, message.replace(/^Syntax Error: /, ''));
}

/** armor rules report into the validation result, so every violated limit shows at once. */
const report = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(tooComplex(error.message)),
  ],
};

export function useQueryLimits(limits: QueryLimits, options: { introspection: boolean }): Plugin {
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.depth, ...report }),
    maxAliasesRule({ n: limits.aliases, ...report }),
    maxDirectivesRule({ n: limits.directives, ...report }),
    costLimitRule({ maxCost: limits.cost, ...report }),
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
  const parseWithLimit = (source: Parameters<typeof parse>[0]) => {
    try {
      return parse(source, { maxTokens: limits.tokens });
    } catch (error) {
      if (error instanceof GraphQLError && /Document contains more th(?:at|an) \d+ tokens/.test(error.message)) {
        throw tooComplex(`Token limit of ${limits.tokens} exceeded.`);
      }
      throw error;
    }
  };
  const hideSuggestions = (errors: readonly Error[]) =>
    errors.map((error) =>
      error instanceof GraphQLError && / Did you mean /.test(error.message)
        ? new GraphQLError(error.message.replace(/ Did you mean .+$/, ''), {
            nodes: error.nodes,
            extensions: error.extensions,
          })
        : error,
    );

  return {
    onParse: ({ setParseFn }) => setParseFn(parseWithLimit),
    onValidate: ({ addValidationRule }) => {
      for (const rule of rules) addValidationRule(rule);
      if (options.introspection) return;
      return ({ valid, result, setResult }) => {
        if (!valid) setResult(hideSuggestions(result));
      };
    },
  };
}
