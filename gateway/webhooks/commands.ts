/**
 * What the CLI shows of a webhook log, shared by `plugboard webhooks list|replay` and each synced
 * plugin's generated `events|replay`: bad input is a UsageError (exit 2), an event that fails again
 * an Error (exit 1).
 */
import { UsageError } from '../errors.ts';
import type { WebhookLog, WebhookStatus } from './receiver.ts';

export interface EventListOptions {
  failed?: boolean;
  status?: string;
  type?: string;
  limit: string;
}

const STATUSES: readonly string[] = ['received', 'processed', 'failed'];

/** The newest events of a log as table rows, filtered as asked. */
export async function eventRows(log: WebhookLog, options: EventListOptions) {
  const status = options.failed ? 'failed' : options.status;
  if (status !== undefined && !STATUSES.includes(status))
    throw new UsageError(`--status must be received, processed or failed, got "${status}"`);
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new UsageError(`--limit must be a whole number from 1 to 10000, got "${options.limit}"`);
  const events = await log.page({ status: status as WebhookStatus | undefined, type: options.type }, null, limit);
  return events.map((e) => ({
    id: e.id,
    type: e.type,
    status: e.status,
    attempts: e.attempts,
    received_at: e.received_at.toISOString(),
    error: e.last_error,
  }));
}

/** Applies a stored event again; returns the line to print, or throws when it failed again. */
export async function replayEvent(log: WebhookLog, id: string): Promise<string> {
  if (!(await log.replay(id))) throw new UsageError(`No event ${id} in the ${log.plugin} webhook log`);
  const event = (await log.get(id))!;
  if (event.status !== 'processed')
    throw new Error(
      `Event ${id} failed again: ${event.last_error ?? 'unknown error'} (attempt ${event.attempts}; it will be retried)`,
    );
  return `replayed ${id} (${event.type}): processed`;
}
