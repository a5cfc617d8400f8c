// The real CLI with the echo fixture plugin registered after the product's plugins.
import { runCli } from '../../gateway/cli.ts';
import { registry } from '../../plugins/registry.ts';
import echo from './echo-plugin/index.ts';

process.exitCode = await runCli(process.argv, [...registry, echo]);
