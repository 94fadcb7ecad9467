"""The crawl frontier kept crash-safe in ``JOBDIR``: a crawl killed at any moment resumes.

* :mod:`crawler.frontier.store` — ``FrontierStore``: the SQLite file ``JOBDIR/heed-frontier.sqlite3``
  (every request accepted, pending or done; the spider's state), written in small commits;
* :mod:`crawler.frontier.scheduler` — ``FrontierScheduler`` (``SCHEDULER``): Scrapy's scheduler
  that records what it accepts, re-queues what is not done on start, and marks a request done
  once its outcome is durable;
* :mod:`crawler.frontier.dupefilter` — ``FrontierDupeFilter``: Scrapy's duplicate filter, in
  memory, starting from the fingerprints the frontier committed;
* :mod:`crawler.frontier.finishing` — ``FinishSignals``: when a request handed out has come to an
  end (also used by a shared crawl's scheduler, crawler/cluster/);
* :mod:`crawler.frontier.spidermw` — ``FrontierSpiderMiddleware``: tells the scheduler when a
  response's links are scheduled and its items are through the pipelines.

The design, and why, is in docs/architecture.md#resuming-a-crawl. Nothing is imported here:
Scrapy loads each component by its own path.
"""
