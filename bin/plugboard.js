#!/usr/bin/env node
// Runs on Node >= 22.18 / 24, which load the TypeScript sources directly (type stripping).
import { runCli } from '../gateway/cli.ts';
import { registry } from '../plugins/registry.ts';

process.exitCode = await runCli(process.argv, registry);
