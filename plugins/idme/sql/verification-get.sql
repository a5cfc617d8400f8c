-- Users' verifications ($1) with their groups, badges and attributes, one row each.
SELECT v.user_id, v.subject, v.verified, v.verified_at, v.expires_at, v.scopes, v.email, v.given_name, v.family_name, v.updated_at,
       coalesce((SELECT json_agg(json_build_object('group', g.group_name, 'verified', g.verified, 'subgroups', g.subgroups, 'verifiedAt', g.verified_at) ORDER BY g.group_name)
                 FROM idme.groups AS g WHERE g.user_id = v.user_id), '[]') AS groups,
       coalesce((SELECT json_agg(json_build_object('group', b.group_name, 'badge', b.badge, 'issuedAt', b.issued_at) ORDER BY b.group_name, b.badge)
                 FROM idme.badges AS b WHERE b.user_id = v.user_id), '[]') AS badges,
       coalesce((SELECT json_agg(json_build_object('handle', a.handle, 'name', a.name, 'value', a.value) ORDER BY a.handle)
                 FROM idme.attributes AS a WHERE a.user_id = v.user_id), '[]') AS attributes
FROM idme.verifications AS v
WHERE v.user_id = ANY($1::text[])
