-- Forgets a user's groups, badges and attributes before the new verification's are written.
WITH g AS (DELETE FROM idme.groups WHERE user_id = $1),
     b AS (DELETE FROM idme.badges WHERE user_id = $1)
DELETE FROM idme.attributes WHERE user_id = $1
