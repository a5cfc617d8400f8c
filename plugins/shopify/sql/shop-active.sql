-- Whether a shop's data may be synced: it is known and not uninstalled.
SELECT EXISTS (SELECT 1 FROM shopify.shops WHERE domain = $1 AND uninstalled_at IS NULL) AS active
