-- Every column of every table in schema $1, to hold against what a plugin's descriptors expect.
SELECT table_name AS table, column_name AS column
FROM information_schema.columns
WHERE table_schema = $1
