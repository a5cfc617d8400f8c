-- The offline access token the OAuth install stored for a shop (the newest session).
SELECT access_token FROM shopify.sessions WHERE shop = $1 ORDER BY updated_at DESC LIMIT 1
