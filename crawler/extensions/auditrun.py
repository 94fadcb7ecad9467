"""What identifies an audit run and its attempts, and what is recorded about the run.

A crawl is one audit run, also when it is stopped and resumed from ``JOBDIR``: the run key is
kept in a file there as soon as the run starts, so that a crash cannot split one crawl into two
runs. Each request attempt is keyed by the URL its redirect chain started at, so that a resumed
run re-recording an attempt writes nothing new. The run's configuration (spider arguments and
the settings that shape what is requested) is recorded with it, as evidence of how it crawled.

Kept apart from :mod:`crawler.extensions.audit`, which wires these into Scrapy's signals.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

#: File in JOBDIR holding the run key, so that a resumed crawl continues the same audit run.
RUN_KEY_FILE = "heed-run-key"
#: Settings that say where or how fast things are written, not what the crawler does: left out of
#: the configuration recorded with the run (a resumed run may change them).
VOLATILE_SETTINGS = frozenset(
    {
        "HEED_DB",
        "HEED_RUN_KEY",
        "HEED_PROGRESS",
        "HEED_PROGRESS_INTERVAL",
        "HEED_PROGRESS_REFRESH",
        "HEED_AUDIT_BATCH_SIZE",
        "HEED_AUDIT_MAX_DELAY",
        "HEED_AUDIT_MAX_WAITING",
        "HEED_AUDIT_BACKGROUND",
        "HEED_GC_TUNING",
        "HEED_GC_THRESHOLDS",
        "HEED_REDIS_URL",
        "HEED_CLUSTER_LEASE",
        "HEED_CLUSTER_TICK",
        "HEED_OUT",
    }
)
#: Scrapy settings that shape what is requested, recorded with the run's configuration.
RECORDED_SCRAPY_SETTINGS = (
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "COOKIES_ENABLED",
    "RETRY_HTTP_CODES",
    "RETRY_TIMES",
    "REDIRECT_MAX_TIMES",
    "DOWNLOAD_DELAY",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "HTTPCACHE_ENABLED",
)


def request_key(request: Request) -> str:
    """Return the wire request's key: a hash of the method, the URL its redirect chain started at,
    and (for a redirect hop) its own URL; retries of it are attempts under the same key."""
    hops = request.meta.get("redirect_urls")
    where = f"{hops[0]} {request.url}" if hops else request.url
    return hashlib.blake2b(f"{request.method} {where}".encode(), digest_size=16).hexdigest()


def resolve_run_key(settings: BaseSettings) -> str:
    """Return ``HEED_RUN_KEY``, else the key kept in ``JOBDIR`` (created there), else a new one."""
    key = settings.get("HEED_RUN_KEY")
    if key:
        return str(key)
    jobdir = settings.get("JOBDIR")
    if not jobdir:
        return uuid.uuid4().hex
    path = Path(jobdir) / RUN_KEY_FILE
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key + "\n", encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash leaves the old state or the new, never half a key
    return key


def run_config(crawler: Crawler, spider: Spider) -> dict[str, Any]:
    """Return the configuration recorded with the run: spider arguments and settings."""
    values = crawler.settings.copy_to_dict()
    recorded = {
        k: v
        for k, v in values.items()
        if k.startswith(("OPTOUT_", "HEED_")) and k not in VOLATILE_SETTINGS
    }
    recorded |= {k: values.get(k) for k in RECORDED_SCRAPY_SETTINGS}
    return {
        "spider": spider.name,
        "arguments": dict(getattr(spider, "run_arguments", {}) or {}),
        "settings": recorded,
    }
