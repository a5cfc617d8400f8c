-- shop/update: the shop's own object. $1 is a JSON array of {domain, data}.
INSERT INTO shopify.shops AS s (domain, name, data)
SELECT r.domain, r.data->>'name', r.data FROM jsonb_to_recordset($1::jsonb) AS r(domain text, data jsonb)
ON CONFLICT (domain) DO UPDATE SET name = excluded.name, data = excluded.data
WHERE s.data IS NULL
   OR shopify.to_timestamptz(s.data->>'updated_at') <= shopify.to_timestamptz(excluded.data->>'updated_at')
