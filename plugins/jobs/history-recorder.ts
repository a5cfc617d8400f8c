import type { JobEvent, PluginRuntime } from '../../gateway/sdk.ts';
import type { JobsConfig } from './config.ts';
import { createHistoryWriter } from './history.ts';

/** Records this process's job events into the history until closed. */
export interface HistoryRecorder {
  /** Writes what has been recorded now (so a job enqueued through the API is in the history at once). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function startHistory(runtime: PluginRuntime<JobsConfig>): HistoryRecorder {
  const writer = createHistoryWriter(runtime.db, runtime.log);
  const record = (event: JobEvent) => writer.record(event);
  runtime.queue.local.on('event', record);
  return {
    flush: () => writer.flush(),
    async close() {
      runtime.queue.local.off('event', record);
      await writer.close();
    },
  };
}
