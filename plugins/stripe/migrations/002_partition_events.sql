-- The webhook log partitioned by week of received_at (Monday 00:00 UTC), so that retention drops
-- whole weeks instead of deleting rows (gateway/webhooks/partitions.ts). The table as it was
-- becomes the first partition, holding everything up to the end of this week: no row is copied,
-- and its indexes become the partitioned indexes' own. Postgres cannot keep an id unique across
-- partitions: each partition keeps it unique within (the old primary key, a unique index on the
-- others) and the gateway's insert checks the other partitions. A default partition takes any
-- delivery no week covers; the gateway makes the weeks ahead.
ALTER TABLE events RENAME TO events_legacy;
ALTER INDEX events_pkey RENAME TO events_legacy_pkey;
ALTER INDEX events_received RENAME TO events_legacy_received;
ALTER INDEX events_unprocessed RENAME TO events_legacy_unprocessed;
ALTER INDEX events_failed RENAME TO events_legacy_failed;
ALTER INDEX events_type RENAME TO events_legacy_type;
ALTER INDEX events_object RENAME TO events_legacy_object;
CREATE TABLE events (LIKE events_legacy
  INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)
  PARTITION BY RANGE (received_at);
DO $$
BEGIN
  EXECUTE format('ALTER TABLE events ATTACH PARTITION events_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
    date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '7 days');
END
$$;
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE UNIQUE INDEX events_default_id ON events_default (id);
-- The partition's indexes of the same definitions are attached, not built again.
CREATE INDEX events_received ON events (received_at DESC, id DESC);
CREATE INDEX events_unprocessed ON events (received_at, id) WHERE status = 'received';
CREATE INDEX events_failed ON events (received_at DESC) WHERE status = 'failed';
CREATE INDEX events_type ON events (type, created DESC);
CREATE INDEX events_object ON events (object_id, created DESC);
