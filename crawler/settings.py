"""Scrapy settings of Heed's crawler project: Heed's own (``OPTOUT_*``, ``HEED_*``, defined with
their meaning in crawler/defaults.py) and the Scrapy settings the checks rely on."""

# Heed's settings are project settings: Scrapy reads every upper-case name of this module.
from importlib.util import find_spec

from crawler.config import user_agent_for
from crawler.defaults import *
from crawler.defaults import OPTOUT_INFO_URL, OPTOUT_USER_AGENT_TOKEN

BOT_NAME = "heed"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- Heed's rights-reservation checks -------------------------------------------------------------

# Heed's RightsReservationMiddleware takes the slot of Scrapy's RobotsTxtMiddleware, which fails
# open on 5xx and network errors (docs/protocols.md#scrapys-robots-middleware) and is switched
# off here. ROBOTSTXT_OBEY = False does NOT mean robots.txt is ignored: Heed's middleware obeys
# it, and refuses to start if ROBOTSTXT_OBEY is True (the stock middleware would run beside it).
ROBOTSTXT_OBEY = False
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middleware.RightsReservationMiddleware": 100,
    # Just outside Scrapy's redirect (600) and retry (550) middlewares: notes every raw response
    # and download error, so that a redirected or retried wire request gets its own decision.
    "crawler.wire.WireRecorder": 610,
    # Scrapy's decompression, but a gzip bomb or a corrupt stream still reaches the middleware
    # (flagged, empty) and gets its decision (crawler/compression.py).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.compression.BoundedHttpCompressionMiddleware": 590,
}

# -- Scrapy settings the checks rely on ----------------------------------------------------------

# One identity: the middleware sets this User-Agent on every request, whatever a spider asks.
USER_AGENT = user_agent_for(OPTOUT_USER_AGENT_TOKEN, OPTOUT_INFO_URL)
# No cookies: no session is ever replayed around a login wall or paywall (Measure 1.2(1)(a));
# the middleware refuses to start with cookies on.
COOKIES_ENABLED = False
# Scrapy's default list, stated so that 401/402/403 are visibly absent: an access restriction is
# recorded once and never retried (the middleware refuses to start if one is added).
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 20
# The middleware's document sharing and caching run on asyncio (Scrapy's default reactor).
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Bodies kept, at most, in bytes — downloaded and once decompressed alike: a larger page is
# recorded as an error ("too_large") and its download stopped. Scrapy's default (1 GiB) lets a
# few gzip bombs at once exhaust memory; real pages are far below 32 MiB.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Every request on the wire is one Scrapy sees (and Heed decides): no silent retry by Twisted's
# connection pool (crawler/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": "crawler.handlers.VisibleRetriesHTTPDownloadHandler",
    "https": "crawler.handlers.VisibleRetriesHTTPDownloadHandler",
}

# Heed's own progress lines and warnings, not Scrapy's debug output (`--log-level` or
# `-s LOG_LEVEL=DEBUG` bring it back).
LOG_LEVEL = "INFO"

# -- Speed: each choice measured -----------------------------------------------------------------

# bench/crawl_overhead.py, realistic web (40 hosts x 100 pages of 20-60 KB), heed crawl alone,
# concurrency 16, a 2-core machine, 2026-12-04; pages/s and CPU ms per page, whole process.
#
# Items (and requests) a response's output is processed with at once. Scrapy's default, 100,
# starts that many workers for every response, whatever it yields; a page yields one item and its
# new links. 10: 205 -> 235 pages/s, 5.1 -> 4.6 CPU ms/page; 4 is no faster. Not 1: the links
# would wait behind the item, which waits for its commit.
CONCURRENT_ITEMS = 10
# asyncio (and Twisted on it) on uvloop where it is installed (Heed depends on it where it builds:
# CPython, not Windows): 235 -> 242 pages/s. Scrapy supports it under the asyncio reactor.
ASYNCIO_EVENT_LOOP = "uvloop.Loop" if find_spec("uvloop") is not None else None
# Concurrency stays Scrapy's: 16 requests at once, 8 per domain (a polite crawler's share of a
# site; AutoThrottle and DOWNLOAD_DELAY are the user's to add). The crawl is CPU-bound at 16
# (32 and 32 per domain: 226 pages/s, no faster), and 40 hosts at 8 per domain keep it so.
# The garbage collector is tuned while crawling (HEED_GC_TUNING, crawler/extensions/gctune.py):
# 5.85 -> 5.23 CPU ms/page, the same peak memory.

# -- Remote access: off ------------------------------------------------------------------------

# The telnet console and RemoteControl (on by default since Scrapy 2.19) run code sent to them
# inside the crawler process; a compliance crawler exposes neither.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS: dict[str, int | None] = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}

# -- JOBDIR: a crawl that resumes after a crash -------------------------------------------------

# Scrapy's JOBDIR queue is saved only at a clean close; Heed's scheduler keeps a frontier there
# that a kill -9 cannot lose (crawler/frontier/, docs/architecture.md#resuming-a-crawl). Its
# spider middleware, nearest the engine, says when a page's links and item are durable. The
# frontier keeps spider.state too, in its commits: Scrapy's SpiderState (saved only at a clean
# close, and reset when absent) would undo it.
SCHEDULER = "crawler.frontier.scheduler.FrontierScheduler"
SPIDER_MIDDLEWARES = {"crawler.frontier.spidermw.FrontierSpiderMiddleware": 10}
EXTENSIONS["scrapy.extensions.spiderstate.SpiderState"] = None

# -- Heed's crawl: audit trail, dataset, progress -------------------------------------------------

# Every decision, signal document and stored item goes to the audit database (crawler/extensions/audit.py);
# the dataset pipeline writes a page only once its decision is durable (crawler/pipelines.py).
EXTENSIONS.update(
    {
        "crawler.extensions.audit.AuditExtension": 0,
        "crawler.extensions.progress.ProgressExtension": 0,
        "crawler.extensions.gctune.GcTuningExtension": 0,
    }
)
ITEM_PIPELINES = {"crawler.pipelines.DatasetPipeline": 300}
