-- SHOPIFY_SHOP, recorded at start (an uninstalled shop stays uninstalled until installed again).
INSERT INTO shopify.shops (domain) VALUES ($1) ON CONFLICT (domain) DO NOTHING
