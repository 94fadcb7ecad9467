"""The summary's figures from real audit databases: scope, ranking, counts, bins, dates.

Every test seeds a database through AuditStore (SQLite, and PostgreSQL when
HEED_TEST_POSTGRES_URL is set) and checks a known answer.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from audit import NO_SIGNAL, Action, AuditStore, open_reader, summary_data
from audit.models import ITEM_T
from policy.provider import (
    TO_BE_PROVIDED,
    ProviderConfig,
    load_provider_config,
    parse_provider_config,
)
from policy.summary import figures
from policy.summary.build import build_summary
from tests.audit.conftest import header_signal
from tests.policy.conftest import ALLOW, MODEL, T0, Seeder


def summarise(
    db: str, config: ProviderConfig | None = None, model: str | None = None, **kw: Any
) -> dict[str, Any]:
    """Return the summary body of *db*."""
    engine = open_reader(db)
    try:
        return build_summary(engine, config or ProviderConfig(), model, **kw)
    finally:
        engine.dispose()


def models(*runs: str) -> ProviderConfig:
    """Return a config with one model per run key, named after it."""
    return parse_provider_config({"model": [{"name": r, "runs": [r]} for r in runs]})


def field(body: dict[str, Any], section: str, key: str) -> Any:
    """Return the value of field *key* of *section*."""
    for f in body["sections"][section]["fields"]:
        if f["key"] == key:
            return f
    raise KeyError(key)


@pytest.fixture
def seeder(db_url: str) -> Iterator[Seeder]:
    """Yield a Seeder on a fresh database; its store is closed (flushed) afterwards."""
    with AuditStore.open(db_url) as store:
        yield Seeder(store)


def test_ranking_sums_subdomains_into_registrable_domains_and_breaks_ties_by_name(
    db_url: str, seeder: Seeder
) -> None:
    run = seeder.run("r")
    seeder.stored(run, "https://www.a.com/1", size=300)
    seeder.stored(run, "https://blog.a.com/1", size=300)
    seeder.stored(run, "http://a.com:8080/x", size=50)
    seeder.stored(run, "https://www.a.co.uk/", size=500)
    seeder.stored(run, "https://shop.b.co.uk/", size=499)
    seeder.stored(run, "https://c.net/", size=200)
    seeder.stored(run, "https://b.net/", size=200)
    seeder.stored(run, "https://x.io/", size=100)
    seeder.store.close()
    engine = open_reader(db_url)
    try:
        ranked = figures.rank_domains(summary_data(engine, None).domains, "bytes")
    finally:
        engine.dispose()
    assert [(d.domain, d.size, d.items) for d in ranked] == [
        ("a.com", 650, 3),
        ("a.co.uk", 500, 1),
        ("b.co.uk", 499, 1),
        ("b.net", 200, 1),
        ("c.net", 200, 1),
        ("x.io", 100, 1),
    ]
    body = summarise(db_url)
    s23 = body["sections"]["2.3"]
    assert s23["top_domains"] == ["a.com"]
    assert s23["top_domains_rule"]["n"] == 6
    assert s23["top_domains_ranking"] == [
        {"rank": 1, "domain": "a.com", "size": 650, "items": 3, "bytes": 650}
    ]
    assert field(body, "2.3", "domains")["value"] == ["a.com"]


def test_tokens_metric_ranks_by_text_tokens(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    seeder.stored(run, "https://big-image.com/i.png", size=10**6, content_type="image/png")
    seeder.stored(run, "https://few.com/", size=100, tokens=10)
    seeder.stored(run, "https://many.com/", size=100, tokens=90)
    seeder.store.close()
    config = parse_provider_config({"model": [{"name": "m", "size_metric": "tokens"}]})
    rule = summarise(db_url, config)["sections"]["2.3"]["top_domains_rule"]
    assert (rule["metric"], rule["unit"], rule["n"], rule["count"]) == (
        "tokens",
        "text tokens",
        3,
        1,
    )
    assert summarise(db_url, config)["sections"]["2.3"]["top_domains"] == ["many.com"]
    assert summarise(db_url)["sections"]["2.3"]["top_domains"] == ["big-image.com"]


@pytest.mark.parametrize("n", [1, 9, 10, 11, 20])
def test_domain_count_rules(db_url: str, seeder: Seeder, n: int) -> None:
    run = seeder.run(f"n{n}")
    for k in range(n):  # domain d00 largest, then d01, …
        seeder.stored(run, f"https://www.d{k:02}.org/", size=1000 - k)
    seeder.store.close()
    config = models(f"n{n}")
    expected = [f"d{k:02}.org" for k in range(n)]
    standard = -(-n // 10)
    sme = min(-(-n // 20), 1000)
    for flag, count in ((False, standard), (True, sme)):
        s23 = summarise(db_url, config, sme=flag)["sections"]["2.3"]
        assert s23["top_domains"] == expected[:count]
        assert (s23["top_domains_rule"]["n"], s23["top_domains_rule"]["sme"]) == (n, flag)


def test_sme_flag_defaults_to_the_provider_statement(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    for k in range(40):
        seeder.stored(run, f"https://d{k:02}.org/", size=100 + k)
    seeder.store.close()
    sme = parse_provider_config({"provider": {"sme": True}})
    assert len(summarise(db_url, sme)["sections"]["2.3"]["top_domains"]) == 2
    assert len(summarise(db_url, sme, sme=False)["sections"]["2.3"]["top_domains"]) == 4
    assert len(summarise(db_url)["sections"]["2.3"]["top_domains"]) == 4


def test_25000_domains_standard_and_sme(db_url: str, seeder: Seeder) -> None:
    started = time.perf_counter()
    run = seeder.run("wide")
    for k in range(25_000):
        seeder.stored(run, f"https://www.s{k:05}.com/", size=100_000 - k, when=T0)
    seeder.store.close()
    body = summarise(db_url)
    s23 = body["sections"]["2.3"]
    assert s23["top_domains_rule"]["n"] == 25_000
    assert len(s23["top_domains"]) == 2_500
    assert s23["top_domains"][0] == "s00000.com"
    assert s23["top_domains"][-1] == "s02499.com"
    sme = summarise(db_url, sme=True)["sections"]["2.3"]["top_domains"]
    assert sme == s23["top_domains"][:1000]
    assert time.perf_counter() - started < 60  # seconds; a few on a laptop


def test_text_size_bins_at_their_boundaries(db_url: str, seeder: Seeder) -> None:
    cases = {
        "below-1b": (999_999_999, "Less than 1 billion tokens"),
        "at-1b": (10**9, "1 billion to 10 trillion tokens"),
        "above-1b": (10**9 + 1, "1 billion to 10 trillion tokens"),
        "at-10t": (10**13, "1 billion to 10 trillion tokens"),
        "above-10t": (10**13 + 1, "More than 10 trillion tokens"),
    }
    for key, (tokens, _) in cases.items():
        # Two items per run, so the sum (not one item) lands on the boundary.
        run = seeder.run(key)
        seeder.stored(run, f"https://{key}.example/1", size=10, tokens=tokens - 7)
        seeder.stored(run, f"https://{key}.example/2", size=10, tokens=7)
    seeder.store.close()
    config = models(*cases)
    for key, (tokens, label) in cases.items():
        sizes = field(summarise(db_url, config, key), "1.3", "sizes")
        [row] = sizes["table"]["rows"]
        assert row[:2] == ["Text", label], key
        assert row[2].startswith(f"{tokens:,} tokens; 2 items"), key
        assert sizes["provenance"][0]["runs"]
        assert sizes["provenance"][0]["query"] == "items"


def test_image_audio_and_video_sizes(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("media")
    seeder.stored(run, "https://i.example/a.png", size=10, content_type="image/png")
    seeder.stored(run, "https://i.example/b.jpg", size=20, content_type="image/jpeg")
    seeder.stored(run, "https://a.example/s.mp3", size=30, content_type="audio/mpeg")
    seeder.stored(run, "https://v.example/v.mp4", size=40, content_type="video/mp4")
    seeder.store.close()
    hours = parse_provider_config({"model": [{"name": "m", "hours": {"audio": 10_000}}]})
    rows = {r[0]: r for r in field(summarise(db_url, hours), "1.3", "sizes")["table"]["rows"]}
    assert rows["Image"][1:3] == ["Less than 1 million images", "2 images; 30 bytes"]
    assert rows["Audio"][1] == "10 000 to 1 million hours"  # exactly 10,000 h: middle range
    assert rows["Audio"][2].startswith("10,000 hours (provider statement); 1 item, 30 bytes")
    assert rows["Video"][1] == TO_BE_PROVIDED  # the database cannot know durations
    assert rows["Video"][2] == "1 item, 40 bytes; hours not stated ([[model]] hours)"
    assert field(summarise(db_url, hours), "1.3", "modalities")["value"] == [
        "Image",
        "Audio",
        "Video",
    ]


def test_reserved_or_excluded_content_is_never_counted(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    seeder.stored(run, "https://good.example/", size=100, tokens=25)
    # A faulty writer stored items it should not have: none of them may count.
    reserved = (ALLOW, header_signal("https://reserved.example/", reserved=True))
    seeder.stored(run, "https://reserved.example/", size=10**6, signals=reserved)
    seeder.stored(run, "https://excluded.example/", size=10**6, action=Action.FETCHED_EXCLUDED)
    seeder.stored(run, "https://skipped.example/", size=10**6, action=Action.SKIPPED_ROBOTS)
    seeder.stored(run, "https://errored.example/", size=10**6, action=Action.ERROR)
    seeder.store.close()
    body = summarise(db_url)
    s23 = body["sections"]["2.3"]
    assert s23["top_domains"] == ["good.example"]
    assert s23["top_domains_rule"]["n"] == 1
    [row] = field(body, "1.3", "sizes")["table"]["rows"]
    assert row[2] == "25 tokens; 1 item, 100 bytes"


def test_period_and_latest_collection_date(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    seeder.stored(run, "https://a.example/", when=dt.datetime(2025, 12, 31, 23, tzinfo=dt.UTC))
    seeder.stored(run, "https://b.example/", when=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    seeder.stored(run, "https://c.example/", when=dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC))
    # Outside the training set: later, but excluded.
    seeder.stored(
        run,
        "https://late.example/",
        when=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
        action=Action.FETCHED_EXCLUDED,
    )
    seeder.store.close()
    body = summarise(db_url)
    assert field(body, "2.3", "period")["value"] == (
        "December 2025 (2025-12) to March 2026 (2026-03)"
    )
    assert field(body, "1.3", "latest_collection")["value"] == "March 2026 (2026-03)"


def test_model_scope_follows_its_run_keys(seeded_summary_db_any: tuple[str, Path]) -> None:
    db, config_path = seeded_summary_db_any
    config = load_provider_config(config_path)
    scoped = summarise(db, config)
    assert scoped["model"] == MODEL
    assert scoped["sections"]["2.3"]["crawlers"] == ["HeedBot"]
    assert "z.com" not in scoped["sections"]["2.3"]["top_domains"]
    assert scoped["provenance"]["scope"]["run_keys"] == ["2026-q1-main"]
    assert (
        scoped["sections"]["2.3"]["top_domains_rule"]["n"] == 5
    )  # a.com a.co.uk b.org c.net d.net
    everything = summarise(db)
    assert everything["model"] == ""
    assert everything["sections"]["2.3"]["crawlers"] == ["HeedBot", "HeedBot-Images"]
    assert everything["sections"]["2.3"]["top_domains"] == ["z.com"]
    details = everything["sections"]["2.3"]["crawler_details"]
    assert details[1]["user_agent"].startswith("Mozilla/5.0 (compatible; HeedBot-Images/1.0")
    assert details[1]["run_keys"] == ["2026-q2-images"]


def test_unknown_run_keys_are_reported_and_count_nothing(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("real")
    seeder.stored(run, "https://a.example/")
    seeder.store.close()
    config = parse_provider_config({"model": [{"name": "m", "runs": ["real", "gone"]}]})
    body = summarise(db_url, config)
    assert body["provenance"]["scope"]["missing_run_keys"] == ["gone"]
    none = parse_provider_config({"model": [{"name": "m", "runs": ["gone"]}]})
    body = summarise(db_url, none)
    assert field(body, "2.3", "used")["value"] == "No"
    assert body["sections"]["2.3"]["crawlers"] == []
    assert field(body, "1.3", "sizes")["value"] == TO_BE_PROVIDED


def test_text_without_token_count_is_estimated_from_bytes(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    seeder.stored(run, "https://a.example/", size=400, tokens=100)
    did = seeder.decision(run, "https://b.example/", Action.FETCHED_STORED)
    seeder.store.close()
    # AuditStore always records a text token count; another writer might not.
    engine = open_reader(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(ITEM_T).values(
                    id=10**9,
                    decision_id=did,
                    time=T0,
                    url="https://b.example/",
                    content_type="text/plain",
                    modality="text",
                    bytes=401,
                    tokens=None,
                )
            )
    finally:
        engine.dispose()
    [row] = field(summarise(db_url), "1.3", "sizes")["table"]["rows"]
    assert row[2] == "201 tokens; 2 items, 801 bytes; tokens of 1 item estimated from bytes"


def test_exclusions_per_protocol(seeded_summary_db_any: tuple[str, Path]) -> None:
    db, config_path = seeded_summary_db_any
    body = summarise(db, load_provider_config(config_path))
    table = body["sections"]["3.1"]["exclusions"]
    assert table["rows"] == [
        ["robots.txt", 1, 1, 1],
        ["TDMRep HTTP header", 1, 1, 1],
        ["access control (401/402/403, login, paywall, CAPTCHA)", 1, 1, 1],
        ["infringing-site denylist", 1, 1, 1],
    ]
    # The recorded values stay in the JSON form, beside the words.
    assert table["keys"] == ["robots.txt", "tdmrep-header", "access-restricted", "denylisted"]
    assert table["provenance"]["query"] == "exclusions"
    measures = field(body, "3.1", "measures")["value"]
    assert "robots.txt: 1 URL on 1 registrable domain excluded" in measures[-5]
    # Then the complaints, the registry (issue 15), the re-checks (16), then the third parties.
    assert measures[-4:-2] == [
        "No complaint has been lodged through the portal so far.",
        (
            "Reservations notified other than on the site itself (by letter, or by a complaint "
            "upheld) are kept in a reservations registry that the crawler applies before every "
            "request, as one more protocol: 0 entries in force; it has not had to keep any URL "
            "out of a crawl so far."
        ),
    ]
    assert measures[-2].endswith("; no re-check has been recorded yet.")
    assert "SELECT" in body["provenance"]["queries"]["exclusions"]
    assert "%%" not in body["provenance"]["queries"]["exclusions"]


def test_exclusions_count_distinct_urls_and_domains(db_url: str, seeder: Seeder) -> None:
    run = seeder.run("r")
    for url in (
        "https://www.x.com/a",
        "https://www.x.com/a",
        "https://blog.x.com/b",
        "https://y.org/",
    ):
        seeder.robots_skip(run, url)
    seeder.reserved(run, "https://y.org/page")
    # A decision excluded with no restricting signal (e.g. a manual reservation).
    seeder.decision(run, "https://z.net/", Action.SKIPPED_RESERVATION)
    seeder.store.close()
    rows = {r[0]: r[1:] for r in summarise(db_url)["sections"]["3.1"]["exclusions"]["rows"]}
    assert rows == {
        "robots.txt": [3, 2, 4],
        "TDMRep HTTP header": [1, 1, 1],
        NO_SIGNAL: [1, 1, 1],
    }
