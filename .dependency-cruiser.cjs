/**
 * The import rules `npm test` enforces (npm run deps): no cycles, plugins reach the gateway only
 * through its SDK, and plugins never import each other.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only imports count): split the shared part into a leaf module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'plugins-use-the-sdk',
      severity: 'error',
      comment: 'A plugin imports the gateway only through gateway/sdk.ts.',
      from: { path: '^plugins/' },
      to: { path: '^gateway/', pathNot: '^gateway/sdk\\.ts$' },
    },
    {
      name: 'no-plugin-to-plugin',
      severity: 'error',
      comment: 'Plugins meet through the schema, pubsub topics and typed jobs, never by import.',
      from: { path: '^plugins/([^/]+)/' },
      to: { path: '^plugins/', pathNot: ['^plugins/$1/', '^plugins/registry\\.ts$'] },
    },
    {
      name: 'gateway-knows-no-plugin',
      severity: 'error',
      comment: 'The gateway holds no plugin-specific code; the registry is handed to it.',
      from: { path: '^gateway/' },
      to: { path: '^plugins/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|client/generated)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
