"""Run a real Scrapy crawl (the ``web`` spider, project settings) in a subprocess.

The Twisted reactor cannot be restarted in one process, so every crawl is its own process,
pointed at a :class:`~tests.support.virtualweb.VirtualWeb` through ``HTTP_PROXY``. In the child,
:class:`DecisionRecorder` (a test-only Scrapy extension) writes every ``optout_decided`` and
``optout_site_loaded`` emission to JSON lines, and the crawl's stats at the end; the items go
to a JSON-lines feed. :func:`run_crawl` returns all of it as a :class:`CrawlOutput`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.virtualweb import VirtualWeb, proxy_env

ROOT = Path(__file__).resolve().parents[2]
#: Paths of Heed's own site-level document requests, excluded from "pages requested".
DOCUMENT_PATHS = ("/robots.txt", "/.well-known/tdmrep.json", "/ai.txt")


@dataclass
class CrawlOutput:
    """What one crawl produced."""

    items: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    stats: dict[str, Any]
    log: str
    #: Where the crawl wrote its files (``heed.db``, ``dataset/``, …).
    workdir: Path | None = None

    def wire_requests(self) -> Counter[str]:
        """Return the requests the audit trail answers for, as URLs with their counts: every
        decision about a request that went on the wire, and every site document retrieval (each
        redirect hop its own row, the last at its final URL; a file never sent is left out)."""
        found: Counter[str] = Counter(str(d["request_url"]) for d in self.decisions if on_wire(d))
        assert self.workdir is not None
        rows = query(
            self.workdir / "heed.db",
            "SELECT COALESCE(final_url, url), status, error FROM document_fetch",
        )
        for url, status, error in rows:
            if status is not None or error not in NOT_SENT:
                found[url] += 1
        return found

    def decision(self, url: str) -> dict[str, Any]:
        """Return the final decision of the attempt that started at *url* (a seed or a link):
        the last wire request of its redirect chain, after any retries."""
        found = self.chain(url)
        final = [d for d in found if not is_follow_up(d)]
        assert len(final) == 1, (url, found)
        return final[0]

    def chain(self, url: str) -> list[dict[str, Any]]:
        """Return every decision of the attempt that started at *url*, in order: each redirect
        hop (``redirected``), each retried attempt (``error``), then the final one."""
        return [d for d in self.decisions if chain_start(d) == url]

    def actions(self, host: str) -> dict[str, str]:
        """Return ``{request URL: action}`` for the decisions about *host*."""
        return {
            d["request_url"]: d["action"]
            for d in self.decisions
            if f"//{host}/" in d["request_url"]
        }

    def item_urls(self) -> set[str]:
        """Return the URLs of the items the spider yielded."""
        return {i["url"] for i in self.items}


#: Errors of site documents that were never requested (recorded, but not sent).
NOT_SENT = ("disallowed_by_robots_txt", "refused", "invalid_url")


def on_wire(decision: dict[str, Any]) -> bool:
    """Return True if *decision* is about a request that went on the wire (it got a response,
    failed in transit, or was followed up by a redirect or a retry)."""
    return (
        decision["action"] in ("fetched-stored", "fetched-excluded", "redirected")
        or decision["status"] is not None
        or any("download failed" in r for r in decision["reasons"])
    )


def served_requests(web: VirtualWeb) -> Counter[str]:
    """Return the requests *web* received, as URLs with their counts."""
    return Counter(f"http://{r.host}{r.path}" for r in web.requests)


def is_follow_up(decision: dict[str, Any]) -> bool:
    """Return True for the decision of a wire request that Scrapy followed up: a redirect, or an
    attempt it retried (the follow-up has a decision of its own)."""
    retried = any(": retried as attempt " in r for r in decision["reasons"])
    return decision["action"] == "redirected" or retried


def chain_start(decision: dict[str, Any]) -> str:
    """Return the URL an attempt started at: the first redirect hop's source, or its own URL."""
    hops = decision["redirect_urls"]
    return str(hops[0] if hops else decision["request_url"])


def run_crawl(
    web: VirtualWeb,
    workdir: Path,
    seeds: list[str | dict[str, Any]],
    settings: dict[str, Any] | None = None,
    *,
    follow: bool = False,
    timeout: float = 60.0,
) -> CrawlOutput:
    """Crawl *seeds* through *web* in a child process and return what it recorded."""
    workdir.mkdir(parents=True, exist_ok=True)
    seed_file = workdir / "seeds.jsonl"
    lines = [json.dumps(s if isinstance(s, dict) else {"url": s}) for s in seeds]
    seed_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {
        "seeds": str(seed_file),
        "out": str(workdir),
        "follow": follow,
        "settings": settings or {},
    }
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    env = os.environ | proxy_env(web) | {"SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.crawler.crawlrun", str(config_file)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log_file = workdir / "crawl.log"
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    assert proc.returncode == 0, f"crawl failed:\n{proc.stderr[-4000:]}\n{log[-4000:]}"
    stats_file = workdir / "stats.json"
    assert stats_file.exists(), f"crawl did not finish:\n{proc.stderr[-4000:]}\n{log[-4000:]}"
    return CrawlOutput(
        items=_jsonl(workdir / "items.jsonl"),
        decisions=_jsonl(workdir / "decisions.jsonl"),
        sites=_jsonl(workdir / "sites.jsonl"),
        stats=json.loads(stats_file.read_text(encoding="utf-8")),
        log=log,
        workdir=workdir,
    )


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- the child process -------------------------------------------------------------------------


class DecisionRecorder:
    """Test-only Scrapy extension: write the crawler's decisions, site loads and stats to files."""

    def __init__(self, crawler: Any, out: Path) -> None:
        from scrapy import signals

        from crawler.signals import optout_decided, optout_site_loaded

        self.crawler = crawler
        self.out = out
        self._decisions = (out / "decisions.jsonl").open("a", encoding="utf-8")
        self._sites = (out / "sites.jsonl").open("a", encoding="utf-8")
        crawler.signals.connect(self.decided, signal=optout_decided)
        crawler.signals.connect(self.site_loaded, signal=optout_site_loaded)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Any) -> DecisionRecorder:
        """Build the recorder writing into ``TESTS_CRAWL_OUT``."""
        return cls(crawler, Path(crawler.settings.get("TESTS_CRAWL_OUT")))

    def decided(self, decision: Any, action: Any, request: Any, response: Any, spider: Any) -> None:
        """Record one optout_decided emission."""
        line = {
            "url": decision.url,
            "request_url": request.url,
            "redirect_urls": request.meta.get("redirect_urls", []),
            "action": action.value,
            "crawl": decision.crawl.value,
            "use": decision.use.value,
            "reasons": list(decision.reasons),
            "protocols": [s.protocol.value for s in decision.signals],
            "flags": sorted({f for s in decision.signals for f in s.flags}),
            "status": response.status if response is not None else None,
            "spider": spider.name,
            "user_agent": (request.headers.get("User-Agent") or b"").decode(),
        }
        self._decisions.write(json.dumps(line) + "\n")
        self._decisions.flush()

    def site_loaded(self, origin: str, documents: Any, site: Any, stale: bool, spider: Any) -> None:
        """Record one optout_site_loaded emission."""
        robots = documents.robots
        line = {
            "origin": origin,
            "robots_status": robots.status,
            "robots_error": robots.error,
            "robots_redirects": robots.redirects,
            "robots_truncated": robots.truncated,
            "robots_size": len(robots.body),
            "tdmrep_status": documents.tdmrep.status if documents.tdmrep else None,
            "crawl_all": site.robots_outcome.crawl_all,
            "crawl_delay": site.crawl_delay,
            "stale": stale,
        }
        self._sites.write(json.dumps(line) + "\n")
        self._sites.flush()

    def closed(self, spider: Any, reason: str) -> None:
        """Write the final stats."""
        import resource

        stats = self.crawler.stats.get_stats()
        stats["finish_reason"] = reason
        # Peak resident memory of the crawl process (Linux: KiB), for the memory ceilings.
        stats["test/maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        (self.out / "stats.json").write_text(json.dumps(stats, default=str), encoding="utf-8")
        self._decisions.close()
        self._sites.close()


def main(config_path: str) -> None:
    """Run the crawl described by the JSON file at *config_path*."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.spiders.web import WebSpider

    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    out = Path(config["out"])
    settings = get_project_settings()
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions["tests.crawler.crawlrun.DecisionRecorder"] = 0
    settings.setdict(
        {
            "EXTENSIONS": extensions,
            "TESTS_CRAWL_OUT": str(out),
            "HEED_DB": str(out / "heed.db"),
            "HEED_OUT": str(out / "dataset"),
            "FEEDS": {str(out / "items.jsonl"): {"format": "jsonlines"}},
            "LOG_FILE": str(out / "crawl.log"),
            "LOG_LEVEL": "DEBUG",
            "LOGSTATS_INTERVAL": 0,
            "CONCURRENT_REQUESTS": 32,
        },
        priority="cmdline",
    )
    settings.setdict(config["settings"], priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(WebSpider, seeds=config["seeds"], follow="1" if config["follow"] else "0")
    process.start()


if __name__ == "__main__":
    main(sys.argv[1])


# -- `heed crawl` in a subprocess, and what it leaves behind --------------------------------------


def heed_command(*args: str) -> list[str]:
    """Return the argv of ``heed ARGS...`` run with this interpreter."""
    return [sys.executable, "-m", "heed", *args]


def heed_env(web: VirtualWeb, **extra: str) -> dict[str, str]:
    """Return the environment of a ``heed`` subprocess that reaches *web* through HTTP_PROXY."""
    env = os.environ | proxy_env(web) | extra
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("HEED_DB", None)
    return env


def run_heed(
    web: VirtualWeb, *args: str, cwd: Path = ROOT, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``heed ARGS...`` against *web* and return the finished process (output captured)."""
    return subprocess.run(
        heed_command(*args),
        cwd=cwd,
        env=heed_env(web),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_dataset(path: Path) -> tuple[list[dict[str, Any]], bytes]:
    """Return the complete JSON lines of a dataset file and the torn tail after them (if any)."""
    if not path.exists():
        return [], b""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    lines = [json.loads(line) for line in data[:end].decode("utf-8").splitlines() if line]
    return lines, data[end:]


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Return the rows of *sql* on the SQLite audit database at *db*."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))
