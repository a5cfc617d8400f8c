-- Shops webhooks came from, recorded on first sight (an uninstalled shop stays uninstalled).
INSERT INTO shopify.shops (domain) SELECT unnest($1::text[]) ON CONFLICT (domain) DO NOTHING
