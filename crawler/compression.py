"""Decompression with a decision: a body Scrapy refuses to decompress still gets one.

Scrapy's HttpCompressionMiddleware raises ``IgnoreRequest`` when a body grows past
``DOWNLOAD_MAXSIZE`` while being decompressed (a gzip bomb), and lets a corrupt stream's error
escape; either way the response vanishes into the request's errback, although the request was
on the wire. Here such a response goes on, empty and flagged (``heed:too_large``,
``heed:decompression_error``), to the rights-reservation middleware, which records it as an
``error`` with that reason (:func:`crawler.adapters.fetch_result`). Memory stays bounded by
``DOWNLOAD_MAXSIZE``: Scrapy stops decompressing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response

#: Prefix of the response flags that carry why a body was refused (``FetchResult.error``).
FLAG_PREFIX = "heed:"


class BoundedHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression; a refused body becomes a flagged empty response (see module)."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        """Decompress *response*, or flag it when its body is refused."""
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            why = "too_large"
        except Exception:  # noqa: BLE001 - a corrupt stream is an answer: no usable content
            why = "decompression_error"
        if self.stats:
            self.stats.inc_value(f"optout/decompression/{why}")
        return response.replace(body=b"", flags=[*response.flags, FLAG_PREFIX + why])
