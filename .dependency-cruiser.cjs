/**
 * The import rules `npm test` enforces (npm run deps): no cycles, plugins (and the example plugins
 * in examples/plugins/) reach the gateway only through its SDK, and plugins never import each other.
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
      comment: 'A plugin (or an example plugin) imports the gateway only through gateway/sdk.ts.',
      from: { path: '^(examples/)?plugins/' },
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
      name: 'no-example-to-plugin',
      severity: 'error',
      comment: 'An example plugin stands alone: it imports no other plugin and no other example.',
      from: { path: '^examples/plugins/([^/]+)/' },
      to: { path: '^(examples/)?plugins/', pathNot: '^examples/plugins/$1/' },
    },
    {
      name: 'gateway-knows-no-example',
      severity: 'error',
      comment: 'The gateway and the product plugins never import the examples.',
      from: { path: '^(gateway|plugins)/' },
      to: { path: '^examples/' },
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
