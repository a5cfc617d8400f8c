-- The version table of every plugin's migrations (one row per applied file).
CREATE SCHEMA IF NOT EXISTS plugboard;
CREATE TABLE IF NOT EXISTS plugboard.schema_migrations (
  plugin       text        NOT NULL,
  version      integer     NOT NULL,
  name         text        NOT NULL,
  checksum     text        NOT NULL,
  applied_at   timestamptz NOT NULL DEFAULT now(),
  execution_ms integer     NOT NULL,
  PRIMARY KEY (plugin, version)
);
