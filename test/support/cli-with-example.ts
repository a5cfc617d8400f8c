// The real CLI with the example plugin of README "Adding a plugin" registered after the product's plugins.
import bookmarks from '../../examples/plugins/bookmarks/index.ts';
import { runCli } from '../../gateway/cli.ts';
import { registry } from '../../plugins/registry.ts';

process.exitCode = await runCli(process.argv, [...registry, bookmarks]);
