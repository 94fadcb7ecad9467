"""The HTTP download handler: Scrapy's own, minus the retries nobody could see.

Twisted's connection pool retries an idempotent request once, by itself, when a reused
persistent connection closes before a response arrived (``HTTPConnectionPool.retryAutomatically``).
That second request goes on the wire without Scrapy — or Heed — ever knowing, so it could have no
decision. With the pool's retry off, the failure reaches Scrapy as a download error: the
RetryMiddleware retries it as usual, and each attempt is recorded (crawler/wire.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class VisibleRetriesHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler whose connection pool never retries on its own."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.retryAutomatically = False
