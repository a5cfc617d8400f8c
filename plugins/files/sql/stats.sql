-- Files by status and media family: how many, bytes, and the median processing time.
SELECT status, split_part(coalesce(detected_type, declared_type), '/', 1) AS family, count(*)::int AS files,
  sum(size)::bigint AS bytes,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - uploaded_at)) AS median_seconds
FROM files.files
GROUP BY 1, 2
ORDER BY 1, 2
