"""Run the ``web`` spider in this process from ``heed crawl`` options and a ``heed.toml`` file.

Settings come from, lowest first: crawler/settings.py; the TOML file's ``[settings]`` table (any
Scrapy or ``OPTOUT_*``/``HEED_*`` setting); its ``[crawl]`` table; ``-s NAME=VALUE``; then the
command-line options. A ``heed.toml``::

    [crawl]
    seeds = ["https://news.example/"]     # and/or seeds_file = "seeds.txt"
    token = "HeedBot"
    scope = "seeds"                       # or "all"
    depth = 3
    max_pages = 10000
    sitemaps = false
    db = "heed.db"                        # or "postgresql://…"
    out = "data"
    store = "text"                        # "body", "both"
    warc = false
    jobdir = "crawl-job"                  # the crash-safe frontier: stop (or crash) and resume
    progress = "auto"                     # "live" line, "log" lines, "off"

    [settings]
    CONCURRENT_REQUESTS = 32
    OPTOUT_DENYLIST = "denylist.txt"
    OPTOUT_POLICY = { robots_403_allow = false }

Before Scrapy starts, :func:`prepare` checks what would otherwise stop the crawl during
start-up — settings the middleware refuses, an unreadable denylist, seeds of which none is
valid, an audit database that cannot be used — with the same code the components run, so that
a bad configuration is one line, not a traceback from inside Scrapy.

The Twisted reactor runs once per process: :func:`run` crawls once.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES, Settings

from crawler.config import OptoutConfig, OptoutConfigError, user_agent_for
from crawler.extensions.progress import PROGRESS_MODES
from crawler.frontier.store import FRONTIER_FILE, FrontierError, FrontierStore
from crawler.items import STORE_MODES
from crawler.seeds import read_seeds
from crawler.spiders.web import SCOPES, WebSpider, no_valid_seed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

#: Tables of heed.toml holding the provider's statements for the published documents, read by
#: policy/provider.py (tests/test_docs.py keeps the two lists equal).
PROVIDER_TABLES = ("provider", "crawler", "model", "sources", "measures")
#: Keys of the ``[crawl]`` table (each also a command-line option).
CRAWL_KEYS = frozenset(
    {
        "seeds",
        "seeds_file",
        "token",
        "scope",
        "depth",
        "max_pages",
        "sitemaps",
        "db",
        "out",
        "store",
        "warc",
        "jobdir",
        "log_level",
        "progress",
        "redis",
        "run",
    }
)


#: Where tomllib's messages say the error is.
_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


class CrawlConfigError(ValueError):
    """The crawl options or the configuration file cannot be used."""


class NoValidSeed(CrawlConfigError):
    """Seeds were given, but every one of them was skipped; :attr:`problems` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(no_valid_seed(problems))
        self.problems = problems


@dataclass(kw_only=True)
class CrawlOptions:
    """What ``heed crawl`` was asked to do."""

    seeds: list[str] = field(default_factory=list)
    seeds_file: str | None = None
    token: str | None = None
    scope: str = "seeds"
    depth: int | None = None
    max_pages: int | None = None
    sitemaps: bool = False
    db: str | None = None
    out: str | None = None
    #: None: the setting (``HEED_STORE``) decides; an option given wins over it.
    store: str | None = None
    warc: bool = False
    jobdir: str | None = None
    #: None: the setting (``LOG_LEVEL``) decides.
    log_level: str | None = None
    #: How progress shows: auto, live, log or off (None: the setting ``HEED_PROGRESS`` decides).
    progress: str | None = None
    #: The Redis of a shared crawl (this process is one of its workers), and the run's key.
    redis: str | None = None
    run: str | None = None
    #: Settings by name (from ``[settings]`` and ``-s``), applied before the options above.
    settings: dict[str, Any] = field(default_factory=dict)
    #: The shared run's spider arguments, once :func:`prepare` joined it (not an option).
    shared_arguments: dict[str, Any] | None = None

    def check(self) -> None:
        """Raise CrawlConfigError for options that cannot work together."""
        if not self.seeds and not self.seeds_file and not self.redis:
            raise CrawlConfigError("no seeds: give URLs, --seeds FILE, or seeds in the config")
        if self.redis and self.jobdir:
            raise CrawlConfigError(
                "--redis and --jobdir: a shared crawl's frontier is in Redis, not in a JOBDIR"
            )
        if self.run and not self.redis:
            raise CrawlConfigError("--run names a shared run: it needs --redis")
        if self.seeds_file and not Path(self.seeds_file).is_file():
            raise CrawlConfigError(f"seeds file not found: {self.seeds_file}")
        if self.scope not in SCOPES:
            raise CrawlConfigError(f"scope must be one of {SCOPES}, got {self.scope!r}")
        if self.store is not None and self.store not in STORE_MODES:
            raise CrawlConfigError(f"store must be one of {STORE_MODES}, got {self.store!r}")
        if self.progress is not None and self.progress not in PROGRESS_MODES:
            raise CrawlConfigError(
                f"progress must be one of {PROGRESS_MODES}, got {self.progress!r}"
            )
        for name in ("depth", "max_pages"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise CrawlConfigError(f"{name} must be a whole number ≥ 0, got {value!r}")
        if self.warc and not self.out:
            raise CrawlConfigError("WARC output needs an output directory (--out)")


def load_config(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the ``[crawl]`` and ``[settings]`` tables of the TOML file at *path*."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CrawlConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise CrawlConfigError(
            f"{path}:{line}: not a TOML file: not UTF-8 text (byte {exc.start + 1})"
        ) from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise CrawlConfigError(toml_error(path, source, exc)) from None
    known_tables = {"crawl", "settings", *PROVIDER_TABLES}
    unknown_tables = sorted(set(data) - known_tables)
    if unknown_tables:
        raise CrawlConfigError(
            f"{path}: unknown tables {unknown_tables}; known: {sorted(known_tables)}"
        )
    crawl, settings = data.get("crawl", {}), data.get("settings", {})
    if not isinstance(crawl, dict) or not isinstance(settings, dict):
        raise CrawlConfigError(f"{path}: [crawl] and [settings] must be tables")
    unknown = sorted(set(crawl) - CRAWL_KEYS)
    if unknown:
        raise CrawlConfigError(
            f"{path}: unknown [crawl] keys {unknown}; known: {sorted(CRAWL_KEYS)}"
        )
    if isinstance(crawl.get("seeds"), str):
        crawl["seeds"] = crawl["seeds"].split()
    return crawl, with_published_identity(path, data, settings)


def with_published_identity(
    path: str | Path, data: dict[str, Any], settings: dict[str, Any]
) -> dict[str, Any]:
    """Return *settings* with the crawler information URL that ``heed report crawler-info``
    publishes (``[crawler] info_url``) as ``OPTOUT_INFO_URL``, so that the User-Agent names the
    page the provider publishes (Code of Practice Measure 1.3); a different ``[settings]
    OPTOUT_INFO_URL`` beside it is a contradiction, refused."""
    crawler = data.get("crawler")
    info_url = crawler.get("info_url") if isinstance(crawler, dict) else None
    if not info_url:
        return settings
    given = settings.get("OPTOUT_INFO_URL")
    if given and given != info_url:
        raise CrawlConfigError(
            f"{path}: [crawler] info_url {info_url!r} and [settings] OPTOUT_INFO_URL {given!r} "
            "differ: the User-Agent must name the crawler page that is published"
        )
    return {**settings, "OPTOUT_INFO_URL": str(info_url)}


def toml_error(path: str | Path, source: str, exc: tomllib.TOMLDecodeError) -> str:
    """Return tomllib's *exc* about the file *path* as ``FILE:LINE: message (column N)``."""
    message = str(exc)
    where = _TOML_WHERE.search(message)
    if where:
        line, column = where.groups()
        return f"{path}:{line}: {message[: where.start()]} (column {column})"
    if message.endswith("(at end of document)"):
        line = str(source.count("\n") + (not source.endswith("\n")))
        return f"{path}:{line}: {message.removesuffix(' (at end of document)')} (at the end)"
    return f"{path}: {message}"


def parse_setting(text: str) -> tuple[str, str]:
    """Return ``(NAME, VALUE)`` of a ``-s NAME=VALUE`` argument."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise CrawlConfigError(f"-s expects NAME=VALUE, got {text!r}")
    return name.strip(), value


def make_options(
    config: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    **given: Any,
) -> CrawlOptions:
    """Return options from a config's tables overridden by *given* values that are not None."""
    values: dict[str, Any] = dict(config or {})
    values["settings"] = dict(settings or {})
    extra_seeds = given.pop("seeds", None)
    overrides = given.pop("set_settings", None) or {}
    values |= {k: v for k, v in given.items() if v is not None}
    if extra_seeds:
        values["seeds"] = list(extra_seeds)  # seeds on the command line replace the config's
    values["settings"] |= overrides
    known = {f.name for f in fields(CrawlOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CrawlConfigError(f"unknown options {unknown}")
    options = CrawlOptions(**values)
    options.check()
    return options


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Return the crawler project's Scrapy settings with *overrides* (``[settings]``, ``-s``).

    The one way every front door reads its settings: ``heed crawl`` adds its options on top,
    ``heed check`` reads the same ``OPTOUT_*`` values from them.
    """
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(dict(overrides or {}), priority="cmdline")
    return settings


def build_settings(options: CrawlOptions) -> Settings:
    """Return the Scrapy settings of a crawl with *options*."""
    settings = project_settings(options.settings)
    # Only what was asked for: a command default never replaces a setting given with -s, in
    # [settings] or in the project (Scrapy's precedence: defaults < project < cmdline).
    chosen: dict[str, Any] = {}
    if options.log_level:
        chosen["LOG_LEVEL"] = options.log_level
    if options.store:
        chosen["HEED_STORE"] = options.store
    if options.token:
        info_url = settings.get("OPTOUT_INFO_URL")
        chosen["OPTOUT_USER_AGENT_TOKEN"] = options.token
        chosen["USER_AGENT"] = user_agent_for(options.token, info_url)
    if options.db:
        chosen["HEED_DB"] = options.db
    if options.out:
        chosen["HEED_OUT"] = options.out
    if options.warc:
        chosen["HEED_WARC"] = True
    if options.jobdir:
        chosen["JOBDIR"] = options.jobdir
    if options.progress is not None:
        chosen["HEED_PROGRESS"] = options.progress
    if options.redis:
        chosen["HEED_REDIS_URL"] = options.redis
        chosen["SCHEDULER"] = "crawler.cluster.scheduler.ClusterScheduler"
    settings.update(chosen, priority="cmdline")
    return settings


def prepare(options: CrawlOptions, extra: dict[str, Any] | None = None) -> Settings:
    """Return the crawl's settings once what would stop it during start-up has been checked.

    Raise CrawlConfigError for settings the rights-reservation middleware refuses (the same
    :meth:`OptoutConfig.from_settings` it runs), an unreadable denylist, or seeds of which none
    is valid (:class:`NoValidSeed`); raise :class:`audit.AuditError` (or a database error) if
    the audit database cannot be used: missing directory, damaged file, another application's
    database, a schema to upgrade. A new database gets its schema here, as the crawl would.
    With a ``JOBDIR``, its frontier file is opened (created) the same way: one that is not a
    frontier, or of another version, is a CrawlConfigError.
    """
    settings = build_settings(options)
    if extra:
        settings.update(extra, priority="cmdline")
    checked, audited = (
        _switch(settings, name) for name in ("OPTOUT_ENABLED", "HEED_AUDIT_ENABLED")
    )
    if checked:  # else the middleware and the audit trail are off (NotConfigured)
        try:
            OptoutConfig.from_settings(settings).load_denylist()
        except OptoutConfigError as exc:
            raise CrawlConfigError(str(exc)) from None
    seeds = read_seeds(options.seeds_file, options.seeds)
    if seeds.problems and not seeds.entries:
        raise NoValidSeed(seeds.problems)
    if options.redis:
        _join_shared_run(options, settings, seeds.entries)
    if checked and audited:
        from audit import AuditStore  # SQLAlchemy: only when crawling
        from crawler.extensions.logsigning import LogKeyError, log_signing

        try:
            log_signing(settings)  # the audit extension reads it again at spider_opened
        except LogKeyError as exc:
            raise CrawlConfigError(f"{exc} (HEED_LOG_KEY)") from None
        AuditStore.open(settings.get("HEED_DB") or None).close()
    jobdir = settings.get("JOBDIR")
    if jobdir:
        try:
            FrontierStore(Path(jobdir) / FRONTIER_FILE).close()
        except FrontierError as exc:
            raise CrawlConfigError(f"{exc} (--jobdir: use another directory)") from None
    return settings


def _join_shared_run(
    options: CrawlOptions, settings: Settings, entries: list[dict[str, Any]]
) -> None:
    """Join (or seed) the shared run of ``--redis``; its key becomes ``HEED_RUN_KEY``.

    A shared crawl records into one audit database every worker reaches: PostgreSQL, never a
    SQLite file (one machine's, and one writer at a time).
    """
    from audit.engine import resolve_url  # SQLAlchemy: only when crawling
    from crawler.cluster.join import join, queue_seeds, reach
    from crawler.cluster.keys import ClusterError

    db = settings.get("HEED_DB") or None
    if resolve_url(db).get_backend_name() != "postgresql":
        raise CrawlConfigError(
            "a shared crawl (--redis) records into one audit database all its workers reach: "
            "give --db postgresql://… (SQLite is a file on one machine)"
        )
    arguments = None
    if entries:
        urls = [e["url"] for e in entries]
        arguments = {**spider_arguments(options), "urls": urls, "seeds": None}
    try:
        server = reach(str(options.redis))
        shared, spec, created = join(server, options.run or settings.get("HEED_RUN_KEY"), arguments)
        if created:
            queue_seeds(server, shared, spec, entries)
    except ClusterError as exc:
        raise CrawlConfigError(str(exc)) from None
    options.shared_arguments = {**spec, "seeds": None}
    settings.set("HEED_RUN_KEY", shared.run, priority="cmdline")


def _switch(settings: Settings, name: str) -> bool:
    try:
        return settings.getbool(name, True)
    except ValueError as exc:
        raise CrawlConfigError(f"{name}: {exc}") from None


def spider_arguments(options: CrawlOptions) -> dict[str, Any]:
    """Return the ``web`` spider's arguments for *options* (a shared run's: those it was
    seeded with)."""
    if options.shared_arguments is not None:
        return dict(options.shared_arguments)
    return {
        "seeds": options.seeds_file,
        "urls": list(options.seeds),
        "scope": options.scope,
        "depth": options.depth,
        "max_pages": options.max_pages,
        "sitemaps": options.sitemaps,
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlOutcome:
    """How a crawl ended: its finish reason and final stats."""

    reason: str
    stats: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Return True if the crawl ended normally (finished, or a configured limit)."""
        return self.reason in ("finished", "cluster_stopped") or self.reason.startswith(
            "closespider_"
        )


#: The frameworks whose INFO lines a default crawl hides (their warnings still show).
FRAMEWORK_LOGGERS = ("scrapy", "alembic", "py.warnings", "filelock")


#: Scrapy's logger of the Ctrl-C answers ("Received SIGINT, shutting down gracefully. Send again
#: to force"): an INFO line a quiet crawl still shows, or Ctrl-C would seem to do nothing.
SHUTDOWN_LOGGER = "scrapy.crawler"


def quiet_framework_logging() -> None:
    """Hide Scrapy's and Alembic's INFO lines, keeping Heed's own (progress, dataset, summary),
    the answer to Ctrl-C and every warning (``--log-level`` or ``-s LOG_LEVEL=…`` shows them all
    again)."""
    for name in FRAMEWORK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    shutdown = logging.getLogger(SHUTDOWN_LOGGER)
    shutdown.setLevel(logging.INFO)
    if shutdown_notices not in shutdown.filters:
        shutdown.addFilter(shutdown_notices)


def shutdown_notices(record: logging.LogRecord) -> bool:
    """Return True for a warning, an error, or Scrapy's answer to a shutdown signal."""
    return record.levelno >= logging.WARNING or str(record.msg).startswith("Received ")


def warnings_only(record: logging.LogRecord) -> bool:
    """Return True for a warning or an error (a logging filter)."""
    return record.levelno >= logging.WARNING


def run(
    options: CrawlOptions,
    extra: dict[str, Any] | None = None,
    setup: Callable[[Crawler], None] | None = None,
) -> CrawlOutcome:
    """Crawl with *options* (and *extra* settings) in this process; return how it ended.

    *setup* is called with the crawler before it starts (e.g. to connect signal handlers).
    What :func:`prepare` checks raises before Scrapy starts; a component that still refuses
    to start (OptoutConfigError) raises CrawlConfigError once the reactor has stopped.
    """
    from scrapy.crawler import CrawlerProcess  # imports Twisted; keep `heed --help` light

    settings = prepare(options, extra)
    # LOG_LEVEL not asked for: Heed's own lines and warnings. Scrapy logs its version as it sets
    # up logging, before levels can be set: a filter (which that set-up keeps) hides those lines.
    quiet = settings.getpriority("LOG_LEVEL") == SETTINGS_PRIORITIES["project"]
    startup = logging.getLogger("scrapy.utils.log")
    if quiet:
        startup.addFilter(warnings_only)
    try:
        process = CrawlerProcess(settings)  # configures logging (and resets Scrapy's level)
    finally:
        startup.removeFilter(warnings_only)
    if quiet:
        quiet_framework_logging()
    crawler = process.create_crawler(WebSpider)
    if setup is not None:
        setup(crawler)
    failures: list[Failure] = []
    # Kept here, not logged by Twisted as "Unhandled error in Deferred" with a traceback.
    process.crawl(crawler, **spider_arguments(options)).addErrback(failures.append)
    process.start()
    if failures:
        error = failures[0].value
        if isinstance(error, OptoutConfigError):
            raise CrawlConfigError(str(error)) from error
        failures[0].raiseException()
    stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
    # A crawl that started and has no finish reason was stopped without closing (Ctrl-C twice).
    unclosed = "interrupted" if "start_time" in stats else "not started"
    return CrawlOutcome(reason=str(stats.get("finish_reason", unclosed)), stats=stats)
