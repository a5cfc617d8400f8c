#!/usr/bin/env node
// Runs on Node >= 22.18 / 24, which load the TypeScript sources directly (type stripping).
import module from 'node:module';

// Modules compiled once are kept on disk (NODE_COMPILE_CACHE, or under the system's temp
// directory), so later starts skip stripping and compiling them: about a fifth of a start.
module.enableCompileCache?.();
// Tracing (an OTLP endpoint in OTEL_*) starts before the gateway is imported, so its
// instrumentations patch pg, ioredis and http as they load; without one, the SDK never loads.
const { tracingRequested } = await import('../gateway/tracing.ts');
let tracing;
if (tracingRequested(process.env)) {
  const { startTracing } = await import('../gateway/tracing-sdk.ts');
  tracing = await startTracing(process.env).catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  });
}
const { runCli } = await import('../gateway/cli.ts');
const { registry } = await import('../plugins/registry.ts');

process.exitCode = await runCli(process.argv, registry);
// Flushes the spans still buffered once the command (a served gateway: once it has closed) ends.
await tracing?.shutdown();
