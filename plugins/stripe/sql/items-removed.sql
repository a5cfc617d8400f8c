-- Items no longer in their subscription: marked deleted (unless a newer state says otherwise).
-- $1 is a JSON array of {subscription, items (ids still present), stripe_at}.
UPDATE stripe.subscription_items AS i
SET is_deleted = true, stripe_at = to_timestamp(s.stripe_at), synced_at = now()
FROM jsonb_to_recordset($1::jsonb) AS s(subscription text, items text[], stripe_at double precision)
WHERE i.subscription = s.subscription AND NOT i.id = ANY(s.items) AND NOT i.is_deleted AND i.stripe_at <= to_timestamp(s.stripe_at)
