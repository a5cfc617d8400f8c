-- A week taken out of a webhook log (webhook-partition-drop), dropped: it is no longer the log's,
-- so deleting its files holds up no insert.
DROP TABLE IF EXISTS plugboard."{detached}"
