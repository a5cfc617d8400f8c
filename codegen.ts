/**
 * Typed client documents for frontends, from the composed schema (schema/schema.graphql) and
 * the operations in client/operations/. `npm run codegen` writes client/generated/.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        importExtension: '.ts',
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown', BigInt: 'string' },
      },
    },
  },
};

export default config;
