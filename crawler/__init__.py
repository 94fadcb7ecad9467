"""Heed's crawler: a Scrapy project that decides every request against every opt-out first.

For a Python user:

* :func:`run_crawl` (:func:`crawler.run.run`) crawls in this process (:class:`CrawlOptions`, as ``heed crawl`` takes them);
  :func:`project_settings` returns the project's Scrapy settings with overrides;
* :class:`RightsReservationMiddleware` is the downloader middleware that decides each request
  and response (enable it in another Scrapy project with ``DOWNLOADER_MIDDLEWARES``), configured
  by the ``OPTOUT_*`` settings (:mod:`crawler.defaults`, read into :class:`OptoutConfig`);
* :class:`WebSpider` is the ``web`` spider; :class:`SiteCache` the one site loader;
* :data:`optout_decided` and :data:`optout_site_loaded` are the signals it sends
  (:mod:`crawler.signals`), and the exceptions it drops requests with are in
  :mod:`crawler.exceptions`.

Names load on first use (PEP 562): ``import crawler.defaults`` or ``crawler.config`` does not
load Scrapy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.config import OptoutConfig, OptoutConfigError
    from crawler.denylist import Denylist
    from crawler.exceptions import (
        AccessRestricted,
        Denylisted,
        FetchFailed,
        OptoutDeferred,
        OptoutIgnoreRequest,
        RightsReserved,
        RobotsDisallowed,
    )
    from crawler.middleware import RightsReservationMiddleware
    from crawler.run import CrawlConfigError, CrawlOptions, CrawlOutcome, project_settings
    from crawler.run import run as run_crawl
    from crawler.signals import optout_decided, optout_site_loaded
    from crawler.sitecache import SiteCache
    from crawler.spiders.web import WebSpider

#: Public name → the module that defines it (``run_crawl`` is that module's ``run``: the name
#: ``crawler.run`` is the module itself).
_EXPORTS = {
    "OptoutConfig": "crawler.config",
    "OptoutConfigError": "crawler.config",
    "Denylist": "crawler.denylist",
    "AccessRestricted": "crawler.exceptions",
    "Denylisted": "crawler.exceptions",
    "FetchFailed": "crawler.exceptions",
    "OptoutDeferred": "crawler.exceptions",
    "OptoutIgnoreRequest": "crawler.exceptions",
    "RightsReserved": "crawler.exceptions",
    "RobotsDisallowed": "crawler.exceptions",
    "RightsReservationMiddleware": "crawler.middleware",
    "CrawlConfigError": "crawler.run",
    "CrawlOptions": "crawler.run",
    "CrawlOutcome": "crawler.run",
    "project_settings": "crawler.run",
    "run_crawl": "crawler.run",
    "optout_decided": "crawler.signals",
    "optout_site_loaded": "crawler.signals",
    "SiteCache": "crawler.sitecache",
    "WebSpider": "crawler.spiders.web",
}

_RENAMED = {"run_crawl": "run"}

__all__ = [
    "AccessRestricted",
    "CrawlConfigError",
    "CrawlOptions",
    "CrawlOutcome",
    "Denylist",
    "Denylisted",
    "FetchFailed",
    "OptoutConfig",
    "OptoutConfigError",
    "OptoutDeferred",
    "OptoutIgnoreRequest",
    "RightsReservationMiddleware",
    "RightsReserved",
    "RobotsDisallowed",
    "SiteCache",
    "WebSpider",
    "optout_decided",
    "optout_site_loaded",
    "project_settings",
    "run_crawl",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'crawler' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
