-- Active shops installed (or installed again) after a time: an incremental sync since then lists
-- them in full, as what changed while the app was not installed on them is older. $1 the time.
SELECT domain FROM shopify.shops WHERE uninstalled_at IS NULL AND installed_at > $1 ORDER BY domain
