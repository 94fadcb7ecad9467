"""Scrapy settings for Heed's crawler: Scrapy's own, then the ``OPTOUT_*`` settings of Heed's
rights-reservation middleware (read and checked by crawler/config.py)."""

from crawler.config import user_agent_for

BOT_NAME = "heed"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- Heed's rights-reservation checks -------------------------------------------------------------

# Heed's RightsReservationMiddleware takes the slot of Scrapy's RobotsTxtMiddleware, which fails
# open on 5xx and network errors (protocols.md §4.3) and is switched off here. ROBOTSTXT_OBEY =
# False does NOT mean robots.txt is ignored: Heed's middleware obeys it, and refuses to start if
# ROBOTSTXT_OBEY is True (the stock middleware would run beside it).
ROBOTSTXT_OBEY = False
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middleware.RightsReservationMiddleware": 100,
}

# Switch the checks off (Scrapy's NotConfigured). Nothing else disables them.
OPTOUT_ENABLED = True
# The crawler's robots.txt product token: letters, '-' and '_' (RFC 9309 §2.2.1). robots.txt
# groups, ai.txt and robots meta tags are matched against it.
OPTOUT_USER_AGENT_TOKEN = "HeedBot"
# The crawler information page named in the User-Agent (Code of Practice Measure 1.3).
OPTOUT_INFO_URL = "https://github.com/heed-project/heed"
# Policy knobs over Heed's defaults (optout.decision.Policy, protocols.md §2.5), e.g.
# {"purpose": "train-ai", "robots_403_allow": False, "treat_named_ai_blocks_as_reservation": True}.
# Their values are recorded with every decision (Decision.policy, stats optout/policy_digest).
OPTOUT_POLICY: dict[str, object] = {}
# Path of the infringing-site denylist (one domain per line, '# version: X' names it); None = no
# list (a warning at start). Matched by registrable domain; its sha256 is recorded with decisions.
OPTOUT_DENYLIST = None
# Longest robots.txt Crawl-delay honoured, seconds; a longer one is capped (stats
# optout/crawl_delay/capped, a warning) rather than stalling the crawl.
OPTOUT_CRAWL_DELAY_MAX = 30.0
# Origins (scheme + host + port) whose documents are kept in memory (LRU).
OPTOUT_CACHE_SIZE = 10_000
# Bytes of robots.txt downloaded and parsed (RFC 9309 §2.5: at least 500 KiB); the rest is not
# downloaded, and the partial last line is dropped.
OPTOUT_ROBOTS_MAXSIZE = 2 * 1024 * 1024
# Bytes of tdmrep.json, ai.txt and RSL licences downloaded; a longer one is truncated: DEFER.
OPTOUT_DOCUMENT_MAXSIZE = 1024 * 1024
# Seconds allowed for each site-level document request (a timeout means DEFER).
OPTOUT_DOCUMENT_TIMEOUT = 30.0
# Seconds before an unreachable robots.txt (5xx, 429 without Retry-After, timeout, network error)
# or an unreadable signal document is fetched again; until then the origin's requests DEFER.
OPTOUT_DEFER_TTL = 600.0
# Shortest time documents are reused, seconds, even under Cache-Control: no-store (never more
# than the 24 h RFC 9309 §2.4 allows; max-age otherwise rules).
OPTOUT_CACHE_MIN_TTL = 60.0
# Also fetch /ai.txt (Spawning) per origin, as `heed check` does.
OPTOUT_AI_TXT = True
# RSL licence documents named by robots.txt License: lines fetched per origin (at most).
OPTOUT_RSL_LICENCES = 3
# Redirect hops followed for a page; each hop is checked before it is requested. Kept below
# REDIRECT_MAX_TIMES so that Scrapy never drops a chain the middleware has not decided.
OPTOUT_MAX_PAGE_REDIRECTS = 10

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

# -- Remote access: off ------------------------------------------------------------------------

# The telnet console and RemoteControl (on by default since Scrapy 2.19) run code sent to them
# inside the crawler process; a compliance crawler exposes neither.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS: dict[str, int | None] = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}

# -- Heed's crawl: audit trail, dataset, progress -------------------------------------------------

# Every decision, signal document and stored item goes to the audit database (crawler/extensions.py);
# the dataset pipeline writes a page only once its decision is durable (crawler/pipelines.py).
EXTENSIONS.update(
    {
        "crawler.extensions.AuditExtension": 0,
        "crawler.progress.ProgressExtension": 0,
        "crawler.gctune.GcTuningExtension": 0,
    }
)
ITEM_PIPELINES = {"crawler.pipelines.DatasetPipeline": 300}

# Record the audit trail. Off only for experiments: a crawl without it proves nothing.
HEED_AUDIT_ENABLED = True
# The audit database: a SQLite path or a postgresql:// URL; None = $HEED_DB, else heed.db in the
# current directory.
HEED_DB = None
# The audit run to continue (resume); None = the key kept in JOBDIR, else a new run.
HEED_RUN_KEY = None
# Rows are committed at least this often (seconds), and an item waits about this long before it
# enters the dataset (it must rest on a committed decision).
HEED_AUDIT_MAX_DELAY = 1.0
# Decisions per commit, at most.
HEED_AUDIT_BATCH_SIZE = 20_000
# Commit the batches in a writer process, overlapping with the crawl (for very high decision
# rates; it costs a process).
HEED_AUDIT_BACKGROUND = False
# The dataset directory (dataset.jsonl, warc/); None = no dataset files (items still go to FEEDS,
# after the same wait).
HEED_OUT = None
# What the dataset keeps of a page: "text" (extracted text; the body when there is none), "body"
# (base64), or "both".
HEED_STORE = "text"
# Also write WARC files (a response record and a decision metadata record per page); needs HEED_OUT.
HEED_WARC = False
# Seconds between progress lines (pages/s, stored, skipped by reason); 0 = none.
HEED_PROGRESS_INTERVAL = 5.0
# Freeze the objects created at start-up out of Python's cyclic garbage collector and make full
# collections rarer while crawling (crawler/gctune.py): measured about 20% less CPU per page, at
# the cost of some tens of MB.
HEED_GC_TUNING = True
# The collector's thresholds while crawling (gc.set_threshold; CPython's default: 700, 10, 10).
HEED_GC_THRESHOLDS = [700, 10, 100]
