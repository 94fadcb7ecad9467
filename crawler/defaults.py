"""Heed's own settings and their defaults: every ``OPTOUT_*`` and ``HEED_*`` name, nothing else.

Import-free on purpose, like Scrapy's ``scrapy/settings/default_settings.py``: anything may read
it (crawler/config.py checks the values, crawler/settings.py puts them in the Scrapy project,
``heed`` hands them to the published documents) without loading anything else. A setting name
that starts with ``OPTOUT_`` or ``HEED_`` and is not defined here is a typo.
"""

# -- Heed's rights-reservation checks (crawler/middleware.py) -----------------------------------

# Switch the checks off (Scrapy's NotConfigured). Nothing else disables them.
OPTOUT_ENABLED = True
# The crawler's robots.txt product token: letters, '-' and '_' (RFC 9309 §2.2.1). robots.txt
# groups, ai.txt and robots meta tags are matched against it.
OPTOUT_USER_AGENT_TOKEN = "HeedBot"
# The crawler information page named in the User-Agent (Code of Practice Measure 1.3).
OPTOUT_INFO_URL = "https://github.com/heed-project/heed"
# Policy knobs over Heed's defaults (optout.decision.Policy, docs/protocols.md#policy-knobs), e.g.
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


# -- Heed's crawl: audit trail, dataset, progress -------------------------------------------------

# Record the audit trail. Off only for experiments: a crawl without it proves nothing.
HEED_AUDIT_ENABLED = True
# The audit database: a SQLite path or a postgresql:// URL; None = $HEED_DB, else heed.db in the
# current directory.
HEED_DB = None
# The audit run to continue (resume); None = the key kept in JOBDIR, else a new run.
HEED_RUN_KEY = None
# Rows are committed at least this often (seconds), and an item waits about this long before it
# enters the dataset (it must rest on a committed decision); when no request is downloading or
# scheduled, a waiting item is committed at once.
HEED_AUDIT_MAX_DELAY = 1.0
# Bytes of pages waiting for that commit, at most: past it, they are committed at once. A waiting
# page holds its response in memory (Scrapy's scraper keeps it, decoded text included, until the
# item is handed on), so this bounds the memory of a fast crawl; 1 MiB is some 25 pages of 40 KB,
# a few commits a second at 200 pages/s (bench/crawl_overhead.py: peak memory 1.41 -> 1.2x
# plain Scrapy's, no measurable CPU).
HEED_AUDIT_MAX_WAITING = 1 << 20
# Decisions per commit, at most.
HEED_AUDIT_BATCH_SIZE = 20_000
# Commit the batches in a writer process, overlapping with the crawl (for very high decision
# rates; it costs a process).
HEED_AUDIT_BACKGROUND = False
# The signer key file of the audit log (heed log key --create): checkpoints of the log are signed
# with it at the end of each run and every HEED_LOG_CHECKPOINT_INTERVAL seconds; None = none are
# signed (a line at start says so). A key file that is missing or malformed stops the crawl.
HEED_LOG_KEY = None
# Seconds between two checkpoints signed during a crawl (after a commit); 0 = only at the end.
HEED_LOG_CHECKPOINT_INTERVAL = 3600.0
# The dataset directory (dataset.jsonl, warc/); None = no dataset files (items still go to FEEDS,
# after the same wait).
HEED_OUT = None
# What the dataset keeps of a page: "text" (extracted text; the body when there is none), "body"
# (base64), or "both".
HEED_STORE = "text"
# The dataset text of an HTML page (crawler/text.py): "main" (the page's content, its navigation,
# header, footer, sidebars and banners left out) or "visible" (all the text a reader can see).
HEED_TEXT = "main"
# Also write WARC files (a response record and a decision metadata record per page); needs HEED_OUT.
HEED_WARC = False
# How the crawl shows its progress (pages/s, stored, skipped by reason, queue, time elapsed):
# "live" = one line redrawn in place on the terminal (stderr), "log" = a line logged every
# HEED_PROGRESS_INTERVAL seconds, "auto" = live when stderr is a terminal, else log; "off".
HEED_PROGRESS = "auto"
# Seconds between progress lines in the log; 0 = none.
HEED_PROGRESS_INTERVAL = 5.0
# Seconds between redraws of the live line; 0 = none.
HEED_PROGRESS_REFRESH = 0.5
# Freeze the objects created at start-up out of Python's cyclic garbage collector and make full
# collections rarer while crawling (crawler/extensions/gctune.py): measured about 20% less CPU per
# page, at the cost of some tens of MB.
HEED_GC_TUNING = True
# The collector's thresholds while crawling (gc.set_threshold; CPython's default: 700, 10, 10).
HEED_GC_THRESHOLDS = [700, 10, 100]

# -- A shared crawl (heed crawl --redis; crawler/cluster/) ----------------------------------------
# The Redis holding the run's frontier, shared site documents and politeness slots; None: a
# local crawl. The run is HEED_RUN_KEY (heed crawl --run).
HEED_REDIS_URL = None
# Seconds a request handed to a worker stays its own without renewal (renewed every quarter of
# it while in flight): a killed worker's requests return to the queue after this long, and an
# origin's documents it was fetching are fetched by another worker.
HEED_CLUSTER_LEASE = 60.0
# Seconds between a worker's acknowledgements of what is durable (and its looks at the run).
HEED_CLUSTER_TICK = 0.5
