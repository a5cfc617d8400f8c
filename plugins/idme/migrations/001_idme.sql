-- ID.me verifications: the authorization requests in flight (state and PKCE verifier, bound to
-- one user, single-use, expiring), and per user the verification with its groups, badges and
-- attributes. Access and refresh tokens are not stored.

-- One row per idmeAuthorizationUrl. The state is kept as its SHA-256, so a database reader
-- cannot complete someone's flow; the verifier and nonce are useless without the state's code.
CREATE TABLE authorization_requests (
  state_hash    bytea       PRIMARY KEY,
  user_id       text        NOT NULL,
  code_verifier text        NOT NULL,
  nonce         text        NOT NULL,
  scopes        text[]      NOT NULL,
  groups        text[]      NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz
);
CREATE INDEX authorization_requests_expires_at ON authorization_requests (expires_at);

-- The newest verification of each user. One ID.me identity (subject) verifies one user.
CREATE TABLE verifications (
  user_id     text        PRIMARY KEY,
  subject     text        NOT NULL UNIQUE,
  verified    boolean     NOT NULL,
  verified_at timestamptz,
  expires_at  timestamptz,
  scopes      text[]      NOT NULL,
  groups      text[]      NOT NULL DEFAULT '{}',
  email       text,
  given_name  text,
  family_name text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Group statuses as ID.me reported them (military, veteran, …), verified or not.
CREATE TABLE groups (
  user_id     text        NOT NULL REFERENCES verifications (user_id) ON DELETE CASCADE,
  group_name  text        NOT NULL,
  verified    boolean     NOT NULL,
  subgroups   text[]      NOT NULL DEFAULT '{}',
  verified_at timestamptz,
  PRIMARY KEY (user_id, group_name)
);

-- A badge per verified subgroup (e.g. military: "Service Member"), or the group itself when
-- ID.me names no subgroup: what a frontend shows next to the user.
CREATE TABLE badges (
  user_id    text        NOT NULL REFERENCES verifications (user_id) ON DELETE CASCADE,
  group_name text        NOT NULL,
  badge      text        NOT NULL,
  issued_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, group_name, badge)
);

-- Attributes ID.me released (affiliation, branch, service era, …), by handle.
CREATE TABLE attributes (
  user_id text NOT NULL REFERENCES verifications (user_id) ON DELETE CASCADE,
  handle  text NOT NULL,
  name    text NOT NULL,
  value   text,
  PRIMARY KEY (user_id, handle)
);
