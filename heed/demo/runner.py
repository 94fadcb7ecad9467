"""Run ``heed demo``: a local demo web, crawled with every check, its decisions collected.

:func:`run_demo` serves the sites of :mod:`heed.demo.sites` with the virtual web
(:mod:`heed.demo.server`, reached through ``HTTP_PROXY``; nothing leaves the machine), crawls
them with the ``web`` spider and Heed's project settings into a fresh audit database and dataset
under one directory, and returns every decision and the server's request log. Crawls once per
process (Twisted's reactor cannot restart).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.logkey import create_key
from crawler import signals as optout_signals
from crawler.items import DECISION_ID_META
from crawler.run import CrawlOptions, CrawlOutcome, run
from heed.demo import sites
from heed.demo.documents import INFO_URL
from heed.demo.server import VirtualWeb, proxy_env

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from audit import Action
    from optout.decision import Decision

#: Files and directories the demo creates in its directory (and removes before each run).
DB_FILE = "heed.db"
DATASET_DIR = "dataset"
DENYLIST_FILE = "denylist.txt"
#: A throwaway signer key of the audit log, new every run: the crawl ends with a checkpoint
#: signed by it, and the demo's crawler page publishes its verifier key.
LOG_KEY_FILE = "heed-log.key"
#: The demo key's name (the origin of its checkpoints): plainly not a real provider's.
LOG_KEY_NAME = "demo.heed.invalid/heed-audit-log"
#: Actions taken before a request is sent: the server must never see such a URL.
NOT_REQUESTED = ("skipped-robots", "skipped-reservation", "deferred", "denylisted")


@dataclass(slots=True, kw_only=True)
class DemoRow:
    """One request attempt of the demo crawl."""

    url: str
    #: The URL decided (the last redirect hop), when not :attr:`url`.
    final_url: str
    action: str
    reasons: tuple[str, ...]
    meta: dict[str, Any] = field(repr=False)

    @property
    def decision_id(self) -> int | None:
        """Return the audit id of the decision (set by the AuditExtension)."""
        value = self.meta.get(DECISION_ID_META)
        return int(value) if value is not None else None

    @property
    def host(self) -> str:
        """Return the host of the attempt's URL."""
        return self.url.split("/", 3)[2]


@dataclass(slots=True, kw_only=True)
class DemoResult:
    """What the demo crawl did."""

    directory: Path
    outcome: CrawlOutcome
    rows: list[DemoRow]
    #: Every URL the demo web received a request for, in order.
    requested: list[str]

    @property
    def db(self) -> Path:
        """Return the audit database's path."""
        return self.directory / DB_FILE

    @property
    def log_key(self) -> Path:
        """Return the throwaway signer key file of the audit log."""
        return self.directory / LOG_KEY_FILE

    @property
    def dataset(self) -> Path:
        """Return the dataset file's path."""
        return self.directory / DATASET_DIR / "dataset.jsonl"

    def violations(self) -> list[str]:
        """Return URLs decided as not-to-be-requested that the server saw anyway (none, ever)."""
        seen = set(self.requested)
        # The URL decided is the last hop: earlier hops of a redirect chain were allowed.
        return [r.final_url for r in self.rows if r.action in NOT_REQUESTED and r.final_url in seen]

    def reserved_in_dataset(self) -> int:
        """Return how many dataset lines hold text of a reserved demo page (none, ever)."""
        try:
            lines = self.dataset.read_text(encoding="utf-8").splitlines()
        except OSError:
            return 0
        return sum(sites.RESERVED_MARK in line for line in lines)

    def unexpected(self) -> list[str]:
        """Return the URLs whose action differs from what the demo site is built to show."""
        wanted = sites.expected()
        # A redirect's own decision precedes its target's: the attempt ends with the target's.
        got = {row.url: row.action for row in self.rows if row.action != "redirected"}
        return sorted(
            f"{u}: {got.get(u)} (expected {a})" for u, a in wanted.items() if got.get(u) != a
        )


#: Written into the demo's directory: only a directory that has it (or is empty) is reused.
MARKER = ".heed-demo"


class DemoDirectoryError(ValueError):
    """The demo's directory holds files that are not a previous demo's: it is left alone."""


def check_directory(directory: Path) -> None:
    """Raise DemoDirectoryError unless *directory* is new, empty, or a previous demo's."""
    if not directory.exists():
        return
    if not directory.is_dir():
        raise DemoDirectoryError(f"{directory} is not a directory")
    if (directory / MARKER).is_file() or not any(directory.iterdir()):
        return
    raise DemoDirectoryError(
        f"{directory} holds files that are not a previous Heed demo's (no {MARKER}): the demo "
        "recreates its audit database, dataset and heed.toml, so it only uses a new or empty "
        "directory, or its own; give another --dir"
    )


def prepare(directory: Path) -> None:
    """Remove what an earlier demo run left in *directory* (only the demo's own files), after
    checking the directory is the demo's (:func:`check_directory`)."""
    check_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("A Heed demo's directory: `heed demo` recreates it.\n")
    journals = (f"{DB_FILE}-wal", f"{DB_FILE}-shm", f"{DB_FILE}-journal")
    for name in (DB_FILE, *journals, DENYLIST_FILE, LOG_KEY_FILE):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(directory / DATASET_DIR, ignore_errors=True)


def run_demo(directory: str | Path) -> DemoResult:
    """Serve the demo web, crawl it into *directory* (recreated), and return what happened."""
    directory = Path(directory)
    prepare(directory)
    denylist = directory / DENYLIST_FILE
    denylist.write_text(sites.DENYLIST, encoding="utf-8")
    log_key = create_key(directory / LOG_KEY_FILE, LOG_KEY_NAME).path
    rows: list[DemoRow] = []

    def decided(
        decision: Decision,
        action: Action,
        request: Request,
        response: Response | None,
        spider: Spider,
    ) -> None:
        hops = request.meta.get("redirect_urls") or []
        rows.append(
            DemoRow(
                url=hops[0] if hops else request.url,
                final_url=request.url,
                action=action.value,
                reasons=decision.reasons,
                meta=request.meta,
            )
        )

    def setup(crawler: Crawler) -> None:
        crawler.signals.connect(decided, signal=optout_signals.optout_decided, weak=False)

    options = CrawlOptions(
        db=str(directory / DB_FILE),
        out=str(directory / DATASET_DIR),
        log_level="ERROR",
        progress="off",
        settings={
            "OPTOUT_DENYLIST": str(denylist),
            "HEED_LOG_KEY": str(log_key),
            "LOGSTATS_INTERVAL": 0,
            # One identity: the User-Agent names the page the demo's crawler-info publishes.
            "OPTOUT_INFO_URL": INFO_URL,
        },
    )
    saved = {name: os.environ.get(name) for name in proxy_env_names()}
    with VirtualWeb() as web:
        options.seeds = sites.build(web)
        os.environ.update(proxy_env(web))
        try:
            outcome = run(options, setup=setup)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        requested = [r.url for r in web.requests]
    return DemoResult(directory=directory, outcome=outcome, rows=rows, requested=requested)


def proxy_env_names() -> tuple[str, ...]:
    """Return the environment variables the demo points at its web while it crawls."""
    return ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy",
            "ALL_PROXY", "all_proxy")  # fmt: skip
