/**
 * Typed client documents for frontends, from the composed schema (schema/schema.graphql) and
 * the operations in client/operations/. `npm run codegen` writes client/generated/, with
 * persisted-documents.json (hash → document).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      // persisted-documents.json: each document by its sha256 hash, the set the gateway's trusted
      // documents and Hasura's allow list (`npm run metadata`) are made from.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
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
