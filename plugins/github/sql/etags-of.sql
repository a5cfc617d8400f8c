-- The stored first-page ETags of one resource's lists, by repository.
SELECT repository, etag FROM github.list_etags WHERE resource = $1
