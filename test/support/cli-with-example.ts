// The real CLI with the example plugin of README "Adding a plugin" registered after the product's
// plugins (its modules compiled through the compile cache, as bin/plugboard.js does).
import module from 'node:module';

module.enableCompileCache?.();
const { default: bookmarks } = await import('../../examples/plugins/bookmarks/index.ts');
const { runCli } = await import('../../gateway/cli.ts');
const { registry } = await import('../../plugins/registry.ts');

process.exitCode = await runCli(process.argv, [...registry, bookmarks]);
