-- A verification's groups ($2 names, $3 verified, $4 subgroups as JSON arrays), badges ($5
-- groups, $6 badges) and attributes ($7 handles, $8 names, $9 values) for user $1.
WITH g AS (
  INSERT INTO idme.groups (user_id, group_name, verified, subgroups, verified_at)
  SELECT $1, name, verified, ARRAY(SELECT json_array_elements_text(subgroups)), CASE WHEN verified THEN now() END
  FROM unnest($2::text[], $3::boolean[], $4::json[]) AS s(name, verified, subgroups)
), b AS (
  INSERT INTO idme.badges (user_id, group_name, badge)
  SELECT $1, group_name, badge FROM unnest($5::text[], $6::text[]) AS s(group_name, badge)
)
INSERT INTO idme.attributes (user_id, handle, name, value)
SELECT $1, handle, name, value FROM unnest($7::text[], $8::text[], $9::text[]) AS s(handle, name, value)
