-- The example plugin's tables, in schema `bookmarks` (the migration runs with that search_path).

-- One row per bookmark, as the newest `bookmark.saved` event described it.
CREATE TABLE bookmarks (
  id       text        PRIMARY KEY,
  url      text        NOT NULL,
  title    text        NOT NULL,
  saved_at timestamptz NOT NULL
);
CREATE INDEX bookmarks_saved ON bookmarks (saved_at DESC, id DESC);

-- The gateway's durable webhook log for this plugin: gateway/webhooks/receiver.ts stores each
-- verified delivery here (keyed by the sender's event id) before answering 200, then applies it.
CREATE TABLE events (
  id           text        PRIMARY KEY,
  type         text        NOT NULL,
  payload      jsonb       NOT NULL,
  status       text        NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
  received_at  timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts     integer     NOT NULL DEFAULT 0,
  last_error   text
);
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_unprocessed ON events (received_at, id) WHERE status = 'received';
