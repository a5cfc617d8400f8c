-- What dropping a partition would remove (a dry run): its events but the unsettled ones younger
-- than $1.
SELECT count(*) FILTER (WHERE status = 'processed' OR received_at < $1)::int AS rows
FROM "{schema}"."{partition}"
