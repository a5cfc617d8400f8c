-- The user's verification, replacing an earlier one. A subject verified by another user
-- violates verifications_subject_key.
INSERT INTO idme.verifications AS v (user_id, subject, verified, verified_at, expires_at, scopes, groups, email, given_name, family_name)
VALUES ($1, $2, $3, CASE WHEN $3 THEN now() END, CASE WHEN $3 AND $4 > 0 THEN now() + make_interval(days => $4) END, $5, $6, $7, $8, $9)
ON CONFLICT (user_id) DO UPDATE SET
  subject = excluded.subject,
  verified = excluded.verified,
  verified_at = excluded.verified_at,
  expires_at = excluded.expires_at,
  scopes = excluded.scopes,
  groups = excluded.groups,
  email = excluded.email,
  given_name = excluded.given_name,
  family_name = excluded.family_name,
  updated_at = now()
