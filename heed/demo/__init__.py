"""``heed demo``'s local web: the server (:mod:`.server`, :mod:`.wire`), the sites (:mod:`.sites`)
and the crawl that runs over them (:mod:`.runner`). The tests' virtual web is the same server."""
