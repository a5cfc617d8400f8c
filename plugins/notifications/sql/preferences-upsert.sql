INSERT INTO notifications.preferences (user_id, channel, category, enabled, digest)
SELECT $1, channel, category, enabled, digest FROM unnest($2::text[], $3::text[], $4::boolean[], $5::boolean[]) AS p(channel, category, enabled, digest)
ON CONFLICT (user_id, channel, category) DO UPDATE SET enabled = excluded.enabled, digest = excluded.digest, updated_at = now()
