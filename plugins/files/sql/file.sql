-- File $1 with its derivatives, metadata and newest scan.
SELECT * FROM files.file_views WHERE id = $1
