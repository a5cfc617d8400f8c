import type { PluginRuntime } from '../../gateway/plugin.ts';
import type { JobEvent } from '../../gateway/queue.ts';
import type { JobsConfig } from './config.ts';
import { createHistoryWriter, type HistoryWriter } from './history.ts';

const recorders = new WeakMap<PluginRuntime<JobsConfig>, HistoryWriter>();

/** Records this process's job events into the history until closed. */
export function startHistory(runtime: PluginRuntime<JobsConfig>): { close(): Promise<void> } {
  const writer = createHistoryWriter(runtime.db, runtime.log);
  const record = (event: JobEvent) => writer.record(event);
  runtime.queue.local.on('event', record);
  recorders.set(runtime, writer);
  return {
    async close() {
      runtime.queue.local.off('event', record);
      recorders.delete(runtime);
      await writer.close();
    },
  };
}

/** Writes what has been recorded now (so a job enqueued through the API is in the history at once). */
export async function flushHistory(runtime: PluginRuntime<JobsConfig>): Promise<void> {
  await recorders.get(runtime)?.flush();
}
