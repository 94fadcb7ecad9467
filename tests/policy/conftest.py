"""Fixtures of the policy tests: real audit databases seeded through AuditStore, and configs.

* ``db_url`` / ``pg_admin`` (from tests/audit/conftest.py): a fresh database on SQLite and, when
  ``HEED_TEST_POSTGRES_URL`` is set, on PostgreSQL.
* :class:`Seeder`: records runs, stored items and excluded requests with real optout decisions.
* ``seeded_summary_db``: ``(db_url, config_path)`` of a SQLite database with a small, known crawl
  and a complete heed.toml (``heed report summary --check`` passes on it); reusable by any test
  that needs a realistic summary (browser and screenshot tests). ``seeded_summary_db_any`` is
  the same on every backend.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from audit import Action, AuditStore
from optout.decision import Crawl, Decision, Policy, Protocol, Signal, combine
from tests.audit.conftest import db_url, header_signal, pg_admin

__all__ = ["ALLOW", "FULL_CONFIG", "MODEL", "Seeder", "db_url", "pg_admin", "seed_summary_database"]

T0 = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
#: The model of the seeded database's configuration.
MODEL = "ExampleLM 2"

ALLOW = Signal(
    protocol=Protocol.ROBOTS_TXT,
    crawl=Crawl.ALLOW,
    reason="robots.txt allows",
    source="https://example.test/robots.txt",
    status=200,
    sha256="0" * 64,
    parser="heed-robots/1",
)
DISALLOW = Signal(
    protocol=Protocol.ROBOTS_TXT,
    crawl=Crawl.DISALLOW,
    reason="robots.txt disallows",
    source="https://example.test/robots.txt",
    status=200,
    rule="Disallow: /",
    line=2,
    sha256="1" * 64,
    parser="heed-robots/1",
)


class Seeder:
    """Record runs, stored items and excluded requests through an AuditStore."""

    def __init__(self, store: AuditStore) -> None:
        """Write through *store*."""
        self.store = store
        self._n = 0

    def run(
        self,
        key: str,
        *,
        token: str = "HeedBot",
        policy: Policy | None = None,
        started: dt.datetime = T0,
    ) -> int:
        """Start run *key* of crawler *token*; return its id."""
        return self.store.start_run(
            crawler_name=f"{token} crawler",
            product_token=token,
            user_agent=f"Mozilla/5.0 (compatible; {token}/1.0; +https://example.ai/bot)",
            policy=policy or Policy(),
            run_key=key,
            started_at=started,
        )

    def decision(
        self,
        run: int,
        url: str,
        action: Action,
        *signals: Signal,
        when: dt.datetime = T0,
        denylist_version: str | None = None,
    ) -> int:
        """Record a decision for *url* made from *signals*; return its id."""
        self._n += 1
        decision: Decision = combine(url, signals or (ALLOW,))
        return self.store.record_decision(
            run,
            decision,
            action,
            time=when,
            # Unique across Seeders: a resumed run must not mistake a new request for an old one.
            request_key=f"{uuid.uuid4().hex}-{self._n}",
            denylist_version=denylist_version,
        )

    def stored(
        self,
        run: int,
        url: str,
        *,
        size: int = 1000,
        content_type: str = "text/html",
        tokens: int | None = None,
        when: dt.datetime = T0,
        action: Action = Action.FETCHED_STORED,
        signals: tuple[Signal, ...] = (),
    ) -> int:
        """Record an allowed, fetched request and its stored item; return the item id."""
        did = self.decision(run, url, action, *signals, when=when)
        return self.store.record_item(
            did,
            url=url,
            content_type=content_type,
            size=size,
            tokens=tokens,
            time=when,
            on_durable=_ignore,
        )

    def robots_skip(self, run: int, url: str, *, when: dt.datetime = T0) -> int:
        """Record a request robots.txt disallowed."""
        return self.decision(run, url, Action.SKIPPED_ROBOTS, DISALLOW, when=when)

    def reserved(self, run: int, url: str, *, when: dt.datetime = T0) -> int:
        """Record a page whose TDMRep header reserved AI training (fetched, excluded)."""
        signals = (ALLOW, header_signal(url, reserved=True))
        return self.decision(run, url, Action.FETCHED_EXCLUDED, *signals, when=when)


def _ignore(_: int) -> None:
    """Batch items (an on_durable callback) instead of committing one by one."""


FULL_CONFIG = f"""
[provider]
name = "Example AI SAS"
contact = "Example AI SAS, 1 rue Exemple, 75001 Paris; legal@example.ai"
authorised_representative = "Not applicable (established in the Union)"
signatory = true
sme = false
summary_archive = "https://example.ai/summaries/v{{version}}.html"

[crawler]
purpose = "Collect publicly available web content to train Example AI's language models"
info_url = "https://example.ai/bot"

[[model]]
name = "{MODEL}"
versions = ["ExampleLM-2-7B", "ExampleLM-2-70B"]
placed_on = "2026-09-01"
dependencies = "None: trained from scratch"
runs = ["2026-q1-main"]
continuously_trained = false
linguistic = "Mostly English, French and German text"
other_characteristics = "Web pages of news, reference and documentation sites"
content_types = {{ text = "News articles, blogs, reference pages", image = "Illustrations", video = "Short explainer videos" }}
hours = {{ video = 2.5 }}

[sources]
public_datasets = {{ used = true, modalities = ["text"], large = [{{ name = "FineWeb", url = "https://huggingface.co/datasets/HuggingFaceFW/fineweb" }}], other = "Small curated evaluation sets" }}
licensed = {{ used = false }}
private = {{ used = false }}
crawled = {{ description = "Publicly accessible web pages of news, reference and documentation sites" }}
user_data = {{ model_interactions = false, other_services = false }}
synthetic = {{ used = false }}
other = {{ used = false }}

[measures]
illegal_content = "Infringing-site denylist; URL and keyword filters; a CSAM hash filter"
third_party_optouts = "Dataset suppliers state that they honoured robots.txt at collection time"
other_processing = "Deduplication and quality filtering"
"""


def seed_summary_database(db: str, directory: Path) -> Path:
    """Seed *db* with a small known crawl; write and return a complete heed.toml in *directory*.

    Run ``2026-q1-main`` (HeedBot, the model's run) stores text from www.a.com and blog.a.com
    (a.com: 5,000 bytes), a.co.uk (3,000), b.org (3,000, tokens not recorded), an image on
    c.net and a video on d.net, from 01/2026 to 03/2026; it also records a robots.txt skip,
    a TDMRep reservation, a denylisted and an access-restricted request, and a faulty item
    stored for a reserved page (never counted). Run ``2026-q2-images`` (HeedBot-Images) is not
    the model's and must not appear in its summary.
    """
    with AuditStore.open(db) as store:
        seed = Seeder(store)
        main = seed.run("2026-q1-main")
        jan, feb, mar = T0, T0 + dt.timedelta(days=31), T0 + dt.timedelta(days=60)
        seed.stored(main, "https://www.a.com/1", size=2000, tokens=500, when=jan)
        seed.stored(main, "https://www.a.com/2", size=1000, tokens=250, when=feb)
        seed.stored(main, "https://blog.a.com/p", size=2000, tokens=500, when=feb)
        seed.stored(main, "https://www.a.co.uk/", size=3000, tokens=750, when=feb)
        seed.stored(main, "https://b.org/x", size=3000, when=mar)
        seed.stored(main, "https://c.net/i.png", size=8000, content_type="image/png", when=mar)
        seed.stored(main, "https://d.net/v.mp4", size=9000, content_type="video/mp4", when=mar)
        seed.robots_skip(main, "https://e.com/private", when=feb)
        seed.reserved(main, "https://f.com/article", when=feb)
        seed.decision(main, "https://bad.example/", Action.DENYLISTED, denylist_version="eu-1")
        seed.decision(main, "https://g.com/paywall", Action.ACCESS_RESTRICTED, when=mar)
        reserved = (ALLOW, header_signal("https://h.com/r", reserved=True))
        seed.stored(main, "https://h.com/r", size=99_000, signals=reserved, when=mar)
        store.end_run(main, ended_at=mar)
        other = seed.run("2026-q2-images", token="HeedBot-Images", started=mar)
        seed.stored(other, "https://z.com/big.png", size=50_000, content_type="image/png")
    config = directory / "heed.toml"
    config.write_text(FULL_CONFIG, encoding="utf-8")
    return config


@pytest.fixture
def seeded_summary_db(tmp_path: Path) -> tuple[str, Path]:
    """Return ``(db_url, config_path)`` of the seeded SQLite database and its heed.toml."""
    db = str(tmp_path / "summary.db")
    return db, seed_summary_database(db, tmp_path)


@pytest.fixture
def seeded_summary_db_any(db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """Like ``seeded_summary_db``, on every backend (SQLite, and PostgreSQL when configured)."""
    return db_url, seed_summary_database(db_url, tmp_path)
