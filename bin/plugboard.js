#!/usr/bin/env node
// Runs on Node >= 22.18 / 24, which load the TypeScript sources directly (type stripping).
import module from 'node:module';

// Modules compiled once are kept on disk (NODE_COMPILE_CACHE, or under the system's temp
// directory), so later starts skip stripping and compiling them: about a fifth of a start.
module.enableCompileCache?.();
const { runCli } = await import('../gateway/cli.ts');
const { registry } = await import('../plugins/registry.ts');

process.exitCode = await runCli(process.argv, registry);
