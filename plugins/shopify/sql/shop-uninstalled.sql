-- app/uninstalled: the shop's syncs stop (its body is the shop object). $1 is a JSON array of
-- {domain, at (epoch seconds), data}.
INSERT INTO shopify.shops AS s (domain, name, data, uninstalled_at)
SELECT r.domain, r.data->>'name', r.data, to_timestamp(r.at)
FROM jsonb_to_recordset($1::jsonb) AS r(domain text, at double precision, data jsonb)
ON CONFLICT (domain) DO UPDATE SET uninstalled_at = excluded.uninstalled_at, name = coalesce(excluded.name, s.name),
  data = coalesce(excluded.data, s.data)
