/**
 * The Stripe GraphQL API, from the sync core: the synced tables (views.ts), sync control for
 * admins (syncStripe, stripeSyncRun, stripeSyncStatus) and the stripeEvents subscription, whose
 * events also carry Stripe's `data.object` and `data.previous_attributes`.
 */
import {
  addSyncSchema,
  type Builder,
  type Checker,
  type PlanCache,
  type PluginRuntime,
  type Syncer,
} from '../../gateway/sdk.ts';
import type { StripeConfig } from './config.ts';
import { RESOURCES } from './resources.ts';
import { stripeViews } from './views.ts';

interface StripeEventPayload {
  data?: { object?: unknown; previous_attributes?: unknown };
}

export function addStripeSchema(
  builder: Builder,
  runtime: PluginRuntime<StripeConfig>,
  instance: () => { syncer: Syncer; checker: Checker; plans: PlanCache },
): void {
  addSyncSchema(builder, {
    views: stripeViews(() => runtime.config.readRoles),
    instance,
    prefix: 'Stripe',
    provider: 'Stripe',
    typeExample: 'invoice.*',
    resources: RESOURCES,
    runtime,
    eventFields: (t) => ({
      object: t.field({
        type: 'JSON',
        resolve: (message) => (message.payload as StripeEventPayload).data?.object ?? null,
      }),
      previousAttributes: t.field({
        type: 'JSON',
        nullable: true,
        resolve: (message) => (message.payload as StripeEventPayload).data?.previous_attributes ?? null,
      }),
    }),
  });
}
