-- Objects of one provider page that the table lacks (or holds as deleted) or holds in another
-- state. $1 is a JSON array of {id, data} as the provider returned them; jsonb equality ignores
-- key order.
SELECT o.id::text AS id, CASE WHEN t.id IS NULL OR t.is_deleted THEN 'missing' ELSE 'stale' END AS problem
FROM jsonb_to_recordset($1::jsonb) AS o(id {id_type}, data jsonb)
LEFT JOIN {schema}.{table} AS t ON t.id = o.id
WHERE t.id IS NULL OR t.is_deleted OR t.data <> o.data
