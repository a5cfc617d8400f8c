/**
 * Syncing from the Stripe API runs on the sync core (gateway/sync): backfill lists every object
 * of a resource (optionally created since a date), newest first, in pages of 100, checkpointed
 * per batch. What is Stripe's own is the catch-up: an incremental sync reads the events list since
 * the newest event seen and feeds those events through the webhook log (duplicates of delivered
 * webhooks are no-ops), so the same ordering rules apply. With no event seen yet, or events older
 * than Stripe keeps (30 days), a run is a backfill.
 */
import type Stripe from 'stripe';
import type { CatchUp, PluginRuntime } from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';

const PAGE = 100;
/** Stripe keeps events for 30 days; older cursors cannot be caught up from the events list. */
const EVENT_RETENTION_SECONDS = 29 * 24 * 3600;
/** The sync_state row that remembers the newest event seen. */
const EVENTS = 'events';

export function stripeCatchUp(runtime: PluginRuntime<StripeConfig>, stripe: () => Promise<Stripe>): CatchUp {
  return {
    possible(states) {
      const lastEventAt = states.get(EVENTS)?.last_event_at;
      return !!lastEventAt && Date.now() / 1000 - lastEventAt.getTime() / 1000 < EVENT_RETENTION_SECONDS;
    },
    /** Reads the events list since the newest event seen and applies it through the webhook log. */
    async run({ states, report, caughtUp }) {
      const log = runtime.webhooks.get(runtime.name);
      if (!log) throw new Error('The stripe webhook log is not running');
      let synced = 0;
      let newest = Math.floor(states.get(EVENTS)!.last_event_at!.getTime() / 1000);
      // gte: events of the boundary second may not all have been seen; the ones seen are no-ops.
      for await (const event of (await stripe()).events.list({ limit: PAGE, created: { gte: newest } })) {
        const stored = await log.ingest([{ id: event.id, type: event.type, payload: event }]);
        await log.process(stored.filter((s) => !s.duplicate).map((s) => s.id));
        newest = Math.max(newest, event.created);
        synced += 1;
        if (synced % PAGE === 0) report({ resource: EVENTS, synced, done: false });
      }
      await caughtUp(EVENTS, new Date(newest * 1000));
      report({ resource: EVENTS, synced, done: true });
      return { [EVENTS]: synced };
    },
    // Later incremental syncs start from the backfill's start: what changed during it is replayed.
    afterBackfill: (startedAt, caughtUp) => caughtUp(EVENTS, startedAt),
  };
}
