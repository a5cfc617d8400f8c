/**
 * Loaded into a server under test with NODE_OPTIONS=--import (bench/realtime.ts does): records
 * the process's garbage-collection pauses, and on SIGUSR2 appends what it saw since the last
 * signal to BENCH_GC_FILE as one JSON line ({ count, totalMs, maxMs, over10ms, over50ms }), with
 * its live heap and RSS (`heapUsed`, `rss`). On SIGWINCH it first collects all garbage (with
 * --expose-gc), so that `heapUsed` is what is really kept; that collection stalls a large heap
 * for a while, so the bench asks for it only where no latency is being measured. Pauses are what
 * a p99 latency cannot hide: every delivery waits for them.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const file = process.env['BENCH_GC_FILE'];
let pauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) pauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

/**
 * BENCH_HEAP_SAMPLING_DIR: samples allocations from the start, keeping those a major collection
 * freed (garbage that was promoted before it died, what inflates old space), and writes the
 * profile (.heapprofile, for Chrome DevTools) at each full collection. With
 * BENCH_HEAP_SAMPLING_MINOR=true it keeps those a young-generation collection freed too: every
 * allocation, what makes the young generation collect (and grow).
 */
const sampling = process.env['BENCH_HEAP_SAMPLING_DIR'];
// Imported only when asked for: the inspector is not loaded into a server being measured.
const inspector = sampling ? new (await import('node:inspector')).Session() : undefined;
if (inspector) {
  inspector.connect();
  inspector.post('HeapProfiler.startSampling', {
    samplingInterval: 32768,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: process.env['BENCH_HEAP_SAMPLING_MINOR'] === 'true',
  });
}

function report(file: string, collect: boolean) {
  return () => {
    const seen = pauses;
    if (collect) (globalThis as { gc?: () => void }).gc?.();
    // BENCH_HEAP_SNAPSHOT_DIR: a heap snapshot at each collection, to see what the heap holds.
    const snapshots = process.env['BENCH_HEAP_SNAPSHOT_DIR'];
    if (collect && snapshots) writeHeapSnapshot(`${snapshots}/${process.pid}-${Date.now()}.heapsnapshot`);
    if (collect && inspector)
      inspector.post('HeapProfiler.getSamplingProfile', (error, result) => {
        if (!error)
          writeFileSync(`${sampling}/${process.pid}-${Date.now()}.heapprofile`, JSON.stringify(result.profile));
      });
    const { heapUsed, heapTotal, external, arrayBuffers, rss } = process.memoryUsage();
    // Where RSS goes: each V8 space's physical size, and what lives outside the heap.
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [space.space_name, space.physical_space_size]),
    );
    pauses = [];
    appendFileSync(
      file,
      `${JSON.stringify({
        count: seen.length,
        totalMs: seen.reduce((sum, ms) => sum + ms, 0),
        maxMs: Math.max(0, ...seen),
        over10ms: seen.filter((ms) => ms > 10).length,
        over50ms: seen.filter((ms) => ms > 50).length,
        heapUsed,
        heapTotal,
        external,
        arrayBuffers,
        rss,
        spaces,
      })}\n`,
    );
  };
}

if (file) {
  process.on('SIGUSR2', report(file, false));
  process.on('SIGWINCH', report(file, true));
}
