"""FrontierDupeFilter: Scrapy's duplicate filter, knowing what the frontier committed.

Scrapy's ``RFPDupeFilter`` with a ``JOBDIR`` appends every fingerprint to ``requests.seen`` as it
goes, so after a crash it holds requests that were never done and are now nowhere else: they are
filtered for ever. This one keeps its fingerprints in memory and starts from those the frontier
committed (pending or done), so a request lost in a crash is not taken for one already seen
(docs/architecture.md#resuming-a-crawl).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.utils.request import RequestFingerprinterProtocol


class FrontierDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, in memory, starting from the fingerprints of the frontier."""

    def __init__(
        self, seen: set[bytes], *, debug: bool, fingerprinter: RequestFingerprinterProtocol
    ) -> None:
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.seen = seen

    def request_seen(self, request: Request) -> bool:
        """Return True if *request* was scheduled before (in this run or a committed one)."""
        fp = self.fingerprinter.fingerprint(request)
        if fp in self.seen:
            return True
        self.seen.add(fp)
        return False
