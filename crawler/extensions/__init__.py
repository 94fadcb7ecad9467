"""Heed's Scrapy extensions, one per module, each enabled by its dotted path in ``EXTENSIONS``.

* :mod:`crawler.extensions.audit` — ``AuditExtension``: the crawler's one door to the audit
  database. It opens the run, records every site-level document and every request attempt's
  decision, and tells the dataset pipeline when a stored item and its decision are durable.
  :mod:`crawler.extensions.auditrun` holds what identifies the run and its attempts.
* :mod:`crawler.extensions.progress` — ``ProgressExtension``: the crawl's progress (pages/s,
  items stored, attempts skipped by reason, requests queued, time elapsed) on a line redrawn in
  place on a terminal (:mod:`crawler.liveline`), or in the log every ``HEED_PROGRESS_INTERVAL``
  seconds (``HEED_PROGRESS``).
* :mod:`crawler.extensions.gctune` — ``GcTuningExtension``: freezes start-up objects out of the
  cyclic garbage collector and makes full collections rarer while crawling (``HEED_GC_TUNING``).

Nothing is imported here: Scrapy loads each extension by its own path, and a module that needs
only one of them (the progress line, a benchmark's GC tuning) should not load the audit
database's dependencies with it.
"""
