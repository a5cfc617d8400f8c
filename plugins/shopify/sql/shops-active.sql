-- The shops whose data is synced: installed and not uninstalled.
SELECT domain FROM shopify.shops WHERE uninstalled_at IS NULL ORDER BY domain
