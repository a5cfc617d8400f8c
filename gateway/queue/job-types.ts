/**
 * Job handlers of every enabled plugin, by queue and job type, and the workers that run them.
 * Workers run inside the gateway (PLUGBOARD_WORKERS=true, the default) or in their own process
 * (`plugboard jobs worker`); either way every queue's jobs are dispatched by type here.
 */
import { claims } from '../plugin/conflicts.ts';
import type { Logger } from 'pino';
import { PermanentJobError, type JobHandler, type QueuePort, type Worker } from './port.ts';

export interface QueueDefinition {
  /** Jobs of this queue run at once per worker process. Default 5. */
  concurrency?: number;
  /** Per-attempt deadline in milliseconds. Default 60 s. */
  timeoutMs?: number;
  /** Handlers by job type. */
  handlers: Record<string, JobHandler>;
  /**
   * Whether the public API (GraphQL `enqueueJob` and `createSchedule`) may add this queue's jobs.
   * Default false: a plugin's internal queue is fed by its own code (and the CLI) only.
   */
  public?: boolean;
  /** Job types of a public queue that the roles in JOBS_ENQUEUE_ROLES may add too; the rest are for admins. */
  userTypes?: readonly string[];
}

/** Who may add a job type through the public API: nobody (`internal`), admins, or users too. */
export type EnqueueAccess = 'internal' | 'admin' | 'user';

export interface WorkerStartOptions {
  /** Only these queues (default: every queue with handlers). */
  queues?: string[];
  /** Overrides each queue's concurrency. */
  concurrency?: number;
}

export interface JobRegistry {
  queues(): string[];
  types(queue: string): string[];
  has(queue: string, type: string): boolean;
  /** Who may add this job type through the public API; null for an unknown type. */
  access(queue: string, type: string): EnqueueAccess | null;
  /** Queues with a type the public API may add. */
  publicQueues(): string[];
  /** Starts a worker per queue on the port; returns them so the caller can close them. */
  startWorkers(port: QueuePort, log: Logger, options?: WorkerStartOptions): Promise<Worker[]>;
}

const DEFAULT_CONCURRENCY = 5;
const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * A queue belongs to the one plugin that declares it (its concurrency, deadline and who may add
 * its jobs are the queue's): a second plugin declaring it stops start-up with PluginConflictError.
 * Other plugins add its jobs through the queue port or a typed job contract (gateway/queue/contract.ts).
 */
export function createJobRegistry(
  definitions: { plugin: string; queues: Record<string, QueueDefinition> }[],
): JobRegistry {
  // Definitions are kept whole: their concurrency and timeout may be getters over config that
  // only exists once the gateway has started.
  const byQueue = new Map<string, { definition: QueueDefinition; handlers: Map<string, JobHandler> }>();
  const claimQueue = claims('The queue');
  const access = new Map<string, EnqueueAccess>();
  const publicQueues = new Set<string>();
  for (const { plugin, queues } of definitions) {
    for (const [queue, definition] of Object.entries(queues)) {
      claimQueue(plugin, queue);
      const handlers = new Map(Object.entries(definition.handlers));
      byQueue.set(queue, { definition, handlers });
      for (const type of handlers.keys())
        access.set(
          `${queue}/${type}`,
          !definition.public ? 'internal' : definition.userTypes?.includes(type) ? 'user' : 'admin',
        );
      if (definition.public && handlers.size > 0) publicQueues.add(queue);
    }
  }

  return {
    queues: () => [...byQueue.keys()].sort(),
    types: (queue) => [...(byQueue.get(queue)?.handlers.keys() ?? [])].sort(),
    has: (queue, type) => byQueue.get(queue)?.handlers.has(type) ?? false,
    access: (queue, type) => access.get(`${queue}/${type}`) ?? null,
    publicQueues: () => [...publicQueues].sort(),
    async startWorkers(port, log, options = {}) {
      const queues = options.queues ?? [...byQueue.keys()];
      const unknown = queues.filter((queue) => !byQueue.has(queue));
      if (unknown.length > 0)
        throw new Error(
          `No handlers for queue ${unknown.join(', ')}; queues with handlers: ${[...byQueue.keys()].join(', ') || 'none'}`,
        );
      const workers: Worker[] = [];
      for (const queue of queues) {
        const entry = byQueue.get(queue)!;
        const dispatch: JobHandler = (data, job) => {
          const handler = entry.handlers.get(job.name);
          if (!handler) {
            throw new PermanentJobError(
              `No handler for job type "${job.name}" on queue "${queue}"; known types: ${[...entry.handlers.keys()].join(', ')}`,
            );
          }
          return handler(data, job);
        };
        const concurrency = options.concurrency ?? entry.definition.concurrency ?? DEFAULT_CONCURRENCY;
        const timeoutMs = entry.definition.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        workers.push(await port.process(queue, dispatch, { concurrency, timeoutMs }));
        log.info({ queue, concurrency, backend: port.backend }, 'queue worker started');
      }
      return workers;
    },
  };
}
