/**
 * The example plugin of README "Adding a plugin": one table, one query, one webhook, one job type
 * and one command. Like every plugin, it imports the gateway only through its SDK.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  definePlugin,
  forwardConnection,
  PermanentJobError,
  sqlFolder,
  WebhookVerificationError,
} from '../../../gateway/sdk.ts';
import manifest from './plugin.json' with { type: 'json' };

/** The plugin's SQL, by file name (sql/*.sql). */
const sql = sqlFolder(new URL('./sql/', import.meta.url));

interface BookmarksConfig {
  webhookSecret: string;
}

interface Bookmark {
  id: string;
  url: string;
  title: string;
  saved_at: Date;
  /** saved_at as Postgres prints it (microseconds, which a Date would lose), for cursors. */
  cursor_at: string;
}

/** What a `bookmark.saved` event carries in `data`. */
interface SavedBookmark {
  id: string;
  url: string;
  title: string;
  savedAt: string;
}

/** The plugin's instance, made once per runtime by `setup`: its queries. */
interface BookmarksInstance {
  page(after: { at: string; id: string } | null, limit: number): Promise<Bookmark[]>;
  prune(savedBefore: string): Promise<number>;
  count(): Promise<number>;
}

export default definePlugin<BookmarksConfig, BookmarksInstance>({
  manifest,
  migrations: new URL('./migrations/', import.meta.url),
  config: (values) => ({ webhookSecret: values.string('BOOKMARKS_WEBHOOK_SECRET') }),

  setup: (runtime) => ({
    page: async (after, limit) =>
      (await runtime.db.query<Bookmark>(sql('bookmarks-page'), [after?.at ?? null, after?.id ?? null, limit])).rows,
    prune: async (savedBefore) => (await runtime.db.query(sql('bookmarks-prune'), [savedBefore])).rowCount ?? 0,
    count: async () => (await runtime.db.query<{ count: number }>(sql('bookmarks-count'))).rows[0]!.count,
  }),

  // Runs without a database too (`npm run schema`): call instance() only inside resolvers.
  schema(builder, _runtime, instance) {
    const BookmarkType = builder.objectRef<Bookmark>('Bookmark').implement({
      fields: (t) => ({
        id: t.exposeID('id'),
        url: t.exposeString('url'),
        title: t.exposeString('title'),
        savedAt: t.field({ type: 'DateTime', resolve: (bookmark) => bookmark.saved_at }),
      }),
    });
    builder.queryField('bookmarks', (t) =>
      t.connection({
        type: BookmarkType,
        description: 'Saved bookmarks, newest first.',
        authScopes: { loggedIn: true },
        resolve: (_root, args) => forwardConnection('bookmarks', args, (after, limit) => instance().page(after, limit)),
      }),
    );
  },

  // POST /webhooks/bookmarks: the gateway stores each verified event in bookmarks.events, answers
  // 200, then calls apply (in a transaction, retried on failure).
  webhooks: (runtime) => ({
    path: manifest.webhooks.path,
    verify(body, headers) {
      const expected = createHmac('sha256', runtime.config.webhookSecret).update(body).digest();
      const given = Buffer.from(String(headers['x-bookmarks-signature'] ?? '').replace(/^sha256=/, ''), 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new WebhookVerificationError('The x-bookmarks-signature header is missing or wrong');
      const json = body.toString('utf8');
      const event = JSON.parse(json) as { id?: unknown; type?: unknown };
      if (typeof event.id !== 'string' || typeof event.type !== 'string')
        throw new WebhookVerificationError('The event has no id or type');
      return { id: event.id, type: event.type, payload: event, json };
    },
    async apply(events, client) {
      for (const event of events) {
        if (event.type !== 'bookmark.saved') continue;
        const { data } = event.payload as { data: SavedBookmark };
        await client.query(sql('bookmark-save'), [data.id, data.url, data.title, data.savedAt]);
      }
    },
  }),

  // Queue `bookmarks`, job type `prune`: deletes bookmarks saved before a time. Idempotent, as
  // delivery is at least once.
  jobs: (_runtime, instance) => ({
    bookmarks: {
      concurrency: 1,
      handlers: {
        prune: async (data) => {
          const { savedBefore } = data as { savedBefore?: unknown };
          if (typeof savedBefore !== 'string' || Number.isNaN(Date.parse(savedBefore)))
            throw new PermanentJobError('prune needs { savedBefore: an ISO 8601 time }');
          return { pruned: await instance().prune(savedBefore) };
        },
      },
    },
  }),

  // `plugboard bookmarks count`; open() connects and resolves to { runtime, instance }.
  commands(command, open) {
    command
      .command('count')
      .description('Print how many bookmarks are stored')
      .action(async () => {
        const { instance } = await open();
        console.log(`${await instance.count()} bookmarks`);
      });
  },

  // What a Hasura engine in front of the gateway may track (`npm run metadata`).
  hasura: { tables: ['bookmarks'] },
});
