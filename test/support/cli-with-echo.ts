// The real CLI with the echo fixture plugin registered after the product's plugins (its modules
// compiled through the compile cache, as bin/plugboard.js does).
import module from 'node:module';

module.enableCompileCache?.();
const { runCli } = await import('../../gateway/cli.ts');
const { registry } = await import('../../plugins/registry.ts');
const { default: echo } = await import('./echo-plugin/index.ts');

process.exitCode = await runCli(process.argv, [...registry, echo]);
