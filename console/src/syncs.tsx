/**
 * Each synced plugin's resources (last sync, rows, status), a sync or a backfill on demand, and
 * the run's progress as it happens (the syncProgress subscription): resources finished of those
 * the run covers, and the objects each has synced so far.
 */
import { useEffect, useState } from 'preact/hooks';
import {
  ConsoleGithubSyncStatusDocument,
  ConsolePluginsDocument,
  ConsoleShopifySyncStatusDocument,
  ConsoleStripeSyncStatusDocument,
  ConsoleSyncGithubDocument,
  ConsoleSyncProgressDocument,
  ConsoleSyncShopifyDocument,
  ConsoleSyncStripeDocument,
  type ConsoleStripeSyncStatusQuery,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { subscribeTo } from '../../client/subscriptions.ts';
import { subscriptionsFor, type Session } from './api.ts';
import { useLoad } from './load.ts';

type Resource = ConsoleStripeSyncStatusQuery['stripeSyncStatus'][number];

/** What the page runs for each synced plugin. */
const SYNCED: Record<
  string,
  {
    status: (api: RequestClient) => Promise<Resource[]>;
    sync: (api: RequestClient, full: boolean) => Promise<{ id: string; resources: string[] }>;
  }
> = {
  stripe: {
    status: async (api) => (await api.request(ConsoleStripeSyncStatusDocument, {})).stripeSyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncStripeDocument, { full })).syncStripe,
  },
  github: {
    status: async (api) => (await api.request(ConsoleGithubSyncStatusDocument, {})).githubSyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncGithubDocument, { full })).syncGithub,
  },
  shopify: {
    status: async (api) => (await api.request(ConsoleShopifySyncStatusDocument, {})).shopifySyncStatus,
    sync: async (api, full) => (await api.request(ConsoleSyncShopifyDocument, { full })).syncShopify,
  },
};

interface Run {
  id: string;
  resources: string[];
  synced: Record<string, number>;
  done: Set<string>;
}

function SyncedPlugin({ api, session, plugin }: { api: RequestClient; session: Session; plugin: string }) {
  const { status, sync } = SYNCED[plugin]!;
  const resources = useLoad(() => status(api), [api]);
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);

  // Progress of this plugin's runs; the run this page started is the one shown.
  useEffect(() => {
    const client = subscriptionsFor(session);
    const stop = subscribeTo(
      client,
      ConsoleSyncProgressDocument,
      { plugin },
      {
        next: ({ data }) => {
          const progress = data?.syncProgress;
          if (!progress) return;
          setRun((current) => {
            if (!current || current.id !== progress.runId) return current;
            const done = new Set(current.done);
            if (progress.done) done.add(progress.resource);
            return { ...current, synced: { ...current.synced, [progress.resource]: progress.synced }, done };
          });
        },
        error: (failure) => setError(failure instanceof Error ? failure.message : 'The progress feed closed'),
        complete: () => undefined,
      },
    );
    return () => {
      stop();
      void client.dispose();
    };
  }, [session, plugin]);

  const finished = run !== null && run.done.size >= run.resources.length;
  useEffect(() => {
    if (finished) resources.reload();
  }, [finished, resources.reload]);

  const start = async (full: boolean) => {
    setError(null);
    try {
      const started = await sync(api, full);
      setRun({ id: started.id, resources: started.resources, synced: {}, done: new Set() });
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const percent = run ? Math.round((100 * run.done.size) / Math.max(1, run.resources.length)) : 0;
  return (
    <section class="card" data-sync={plugin}>
      <h2>{plugin}</h2>
      <div class="filters">
        <button type="button" class="sync-now" disabled={run !== null && !finished} onClick={() => start(false)}>
          Sync now
        </button>
        <button type="button" class="backfill" disabled={run !== null && !finished} onClick={() => start(true)}>
          Backfill
        </button>
      </div>
      {run && (
        <div class="progress">
          <progress max={100} value={percent} aria-label={`${plugin} sync progress`} data-percent={percent} />
          <span>
            {percent} % — {run.done.size} of {run.resources.length} resources,{' '}
            {Object.values(run.synced)
              .reduce((sum, n) => sum + n, 0)
              .toLocaleString()}{' '}
            objects
          </span>
        </div>
      )}
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>resource</th>
            <th>status</th>
            <th>rows synced</th>
            <th>last sync</th>
            <th>last error</th>
          </tr>
        </thead>
        <tbody>
          {resources.data?.map((resource) => (
            <tr key={resource.resource}>
              <td>{resource.resource}</td>
              <td>{resource.status}</td>
              <td>{Number(resource.objectsSynced).toLocaleString()}</td>
              <td>{resource.lastSyncAt ? new Date(resource.lastSyncAt).toLocaleString() : '—'}</td>
              <td class="error">{resource.lastError}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function SyncsPage({ api, session }: { api: RequestClient; session: Session }) {
  const plugins = useLoad(() => api.request(ConsolePluginsDocument, {}), [api]);
  if (plugins.error) return <p class="error">{plugins.error}</p>;
  if (!plugins.data) return <p class="loading">Loading…</p>;
  const synced = plugins.data.plugins.filter((p) => p.enabled && p.name in SYNCED).map((p) => p.name);
  if (synced.length === 0) return <p class="muted">No synced plugin (Stripe, GitHub, Shopify) is enabled.</p>;
  return (
    <div class="cards">
      {synced.map((plugin) => (
        <SyncedPlugin key={plugin} api={api} session={session} plugin={plugin} />
      ))}
    </div>
  );
}
