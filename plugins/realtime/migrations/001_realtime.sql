-- Rooms, membership, live connections and presence. Typing is not here: it is ephemeral (Redis
-- with a TTL, or memory), never a row per keystroke.
CREATE TABLE rooms (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  is_private boolean     NOT NULL DEFAULT false,
  created_by text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE room_members (
  room_id   uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   text        NOT NULL,
  role      text        NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
  joined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members (user_id, joined_at DESC, room_id);

-- An invitation lets one user join one private room; joining uses it up.
CREATE TABLE room_invites (
  room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    text        NOT NULL,
  invited_by text        NOT NULL,
  invited_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);

-- Gateway processes, each heartbeating; one silent for two reaper intervals is dead and the
-- others reap its connections.
CREATE TABLE instances (
  id           text        PRIMARY KEY,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Open graphql-ws connections, written in batches as sockets come and go.
CREATE TABLE connections (
  id           uuid        PRIMARY KEY,
  instance     text        NOT NULL,
  user_id      text        NOT NULL,
  connected_at timestamptz NOT NULL DEFAULT now(),
  -- Refreshed by the instance heartbeat at most once a minute per connection.
  last_seen    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_user ON connections (user_id);
CREATE INDEX connections_instance ON connections (instance);

-- One row per user who ever connected. offline_at: when the user turns OFFLINE unless a
-- connection comes back first (the grace period after the last connection closed).
CREATE TABLE presence (
  user_id       text        PRIMARY KEY,
  status        text        NOT NULL CHECK (status IN ('ONLINE', 'AWAY', 'BUSY', 'OFFLINE')),
  custom_status text,
  last_seen     timestamptz NOT NULL DEFAULT now(),
  offline_at    timestamptz
);
CREATE INDEX presence_offline_at ON presence (offline_at) WHERE offline_at IS NOT NULL;

-- Analytics: what happened, written in batches.
CREATE TABLE events (
  id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type    text        NOT NULL,
  room_id uuid,
  user_id text,
  data    jsonb,
  at      timestamptz NOT NULL
);
CREATE INDEX events_at ON events (at DESC);
