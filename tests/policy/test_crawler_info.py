"""``heed report crawler-info``: page, JSON and Atom feed from real audit databases (AC-08)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from audit import Action, AuditStore
from audit.engine import make_engine, resolve_url
from audit.publications import history
from crawler import settings as defaults
from crawler.config import user_agent_for
from heed.cli import main
from optout.decision import DEFAULT_POLICY, Crawl, Policy, Protocol, Signal, combine
from policy.protocols import honoured_protocols
from policy.provider import TO_BE_PROVIDED
from policy.publish.crawlerinfo import describe_changes

A = "{http://www.w3.org/2005/Atom}"
T0 = dt.datetime(2026, 2, 1, 9, 0, tzinfo=dt.UTC)
_ALLOW = Signal(
    protocol=Protocol.ROBOTS_TXT,
    crawl=Crawl.ALLOW,
    reason="robots.txt allows",
    source="https://a.example/robots.txt",
    status=200,
    sha256="0" * 64,
    parser="heed-robots/1",
)
CONFIG = """
[provider]
name = "Example AI SAS"
contact_point = "copyright@example.ai"
complaints = "https://example.ai/copyright/complaints"

[crawler]
purpose = "{purpose}"
info_url = "https://example.ai/bot"
"""


def heed(*args: str) -> Result:
    """Run ``heed`` in-process."""
    return CliRunner().invoke(main, list(args))


def empty_db(db: str) -> str:
    """Create the schema of an audit database with no run; return *db*."""
    AuditStore.open(db).close()
    return db


def add_run(
    db: str,
    *,
    token: str = "HeedBot",
    policy: Policy = DEFAULT_POLICY,
    settings: dict[str, Any] | None = None,
    started: dt.datetime = T0,
    denylist: str | None = None,
) -> int:
    """Record a crawl run of *token* with one decision, as the crawler records it."""
    with AuditStore.open(db) as store:
        run = store.start_run(
            crawler_name=f"heed/{token.lower()}",
            product_token=token,
            user_agent=user_agent_for(token, "https://example.ai/bot"),
            config={"spider": "web", "settings": dict(settings or {})},
            policy=policy,
            started_at=started,
        )
        store.record_decision(
            run,
            combine("https://a.example/p", (_ALLOW,), policy=policy),
            Action.FETCHED_STORED,
            time=started,
            denylist_version=denylist,
        )
        store.end_run(run, ended_at=started + dt.timedelta(hours=1))
    return run


def write_config(path: Path, purpose: str = "Collect web text to train ExampleLM") -> str:
    path.write_text(CONFIG.format(purpose=purpose), encoding="utf-8")
    return str(path)


def report(db: str, out: Path, *extra: str) -> dict[str, Any]:
    """Run crawler-info into *out* (publishing, unless *extra* asks for a preview); return its
    JSON."""
    publish = () if "--preview" in extra else ("--publish",)
    result = heed("report", "crawler-info", "--db", db, "--out", str(out), *publish, *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((out / "crawler-info.json").read_text(encoding="utf-8"))
    return data


def parse_feed(out: Path) -> ET.Element:
    return ET.fromstring((out / "crawler-info.atom").read_bytes())


# -- contents -----------------------------------------------------------------------------------


def test_no_run_no_config_configured_identity_and_to_be_provided(db_url: str) -> None:
    result = heed(
        "report", "crawler-info", "--db", empty_db(db_url), "--format", "json", "--publish"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    info = data["information"]
    assert data["version"] == 1
    assert data["changes"] == ["First publication"]
    token = defaults.OPTOUT_USER_AGENT_TOKEN
    assert info["crawlers"] == [
        {
            "name": token,
            "product_token": token,
            "user_agents": [user_agent_for(token, defaults.OPTOUT_INFO_URL)],
            "first_used": None,
            "source": "configuration (not used yet)",
        }
    ]
    for key in ("provider", "info_url", "purpose", "contact_point", "complaints"):
        assert info[key] == TO_BE_PROVIDED
    assert info["ip_ranges"] is None
    assert [p["protocol"] for p in info["protocols"]] == [p.protocol for p in honoured_protocols()]
    robots = info["robots_txt"]
    assert robots["specification"] == "RFC 9309"
    assert robots["policy"]["knobs"] == DEFAULT_POLICY.as_dict()
    assert any(
        line.startswith("401 and 403: complete disallow") for line in robots["status_policy"]
    )
    assert info["cache"]["robots_txt_max_seconds"] == 24 * 3600
    assert info["cache"]["retry_unreachable_seconds"] == defaults.OPTOUT_DEFER_TTL
    assert data["provenance"]["settings"] == "Heed's defaults"
    assert (
        "To be provided: [provider] name (provider); [crawler] info_url (crawler" in result.stderr
    )


def test_configured_token_and_statements(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    config = tmp_path / "heed.toml"
    config.write_text(
        CONFIG.format(purpose="Train ExampleLM")
        + '\n[crawl]\ntoken = "ExampleBot"\n[settings]\nOPTOUT_INFO_URL = "https://example.ai/bot"\n'
        "OPTOUT_AI_TXT = false\nOPTOUT_POLICY = { robots_403_allow = true }\n",
        encoding="utf-8",
    )
    info = report(db, tmp_path / "out", "--config", str(config))["information"]
    assert info["crawlers"][0]["product_token"] == "ExampleBot"
    assert info["crawlers"][0]["user_agents"] == [
        user_agent_for("ExampleBot", "https://example.ai/bot")
    ]
    assert info["purpose"] == "Train ExampleLM"
    assert info["contact_point"] == "copyright@example.ai"
    assert info["info_url"] == "https://example.ai/bot"
    assert "ai.txt" not in [p["protocol"] for p in info["protocols"]]
    assert info["robots_txt"]["policy"]["knobs"]["robots_403_allow"] is True
    page = (tmp_path / "out" / "crawler-info.html").read_text(encoding="utf-8")
    assert 'class="tbp"' not in page
    assert "User-agent: ExampleBot" in page


def test_runs_define_the_crawlers_and_policy(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    first = add_run(db, settings={"OPTOUT_DEFER_TTL": 120.0})
    second = add_run(
        db,
        policy=Policy(robots_403_allow=True),
        settings={"OPTOUT_DEFER_TTL": 300.0, "OPTOUT_DENYLIST": "deny.txt"},
        started=T0 + dt.timedelta(days=3),
        denylist="v1",
    )
    data = report(db, tmp_path / "out")
    info, prov = data["information"], data["provenance"]
    assert [c["product_token"] for c in info["crawlers"]] == ["HeedBot"]
    assert info["crawlers"][0]["first_used"] == "2026-02-01"
    assert prov["crawlers"][0]["runs"] == [first, second]
    assert prov["crawlers"][0]["last_used"] == "2026-02-04T10:00:00Z"
    assert prov["settings"] == f"recorded with crawl run {second}"
    assert prov["policy"]["id"] is not None
    assert "FROM crawl_run" in prov["crawlers_query"]
    assert info["robots_txt"]["policy"]["knobs"]["robots_403_allow"] is True
    assert info["cache"]["retry_unreachable_seconds"] == 300.0
    assert any("denylist" in line for line in info["access"])
    lines = info["robots_txt"]["status_policy"]
    assert any("401 and 403: treated as 'unavailable'" in line for line in lines)
    assert any("retried after 300 seconds" in line for line in lines)


# -- versions and the feed ----------------------------------------------------------------------


def test_feed_gets_an_entry_only_when_information_changes(db_url: str, tmp_path: Path) -> None:
    db = empty_db(db_url)
    config = write_config(tmp_path / "heed.toml")
    out = tmp_path / "site"
    add_run(db)
    v1 = report(db, out, "--config", config)
    assert (v1["version"], v1["new_version"]) == (1, True)
    first_feed = (out / "crawler-info.atom").read_bytes()

    # The same information again (even after another run of the same crawler): no new entry.
    add_run(db, started=T0 + dt.timedelta(days=1))
    again = report(db, out, "--config", config)
    assert (again["version"], again["new_version"]) == (1, False)
    assert (out / "crawler-info.atom").read_bytes() == first_feed

    add_run(db, token="OtherBot", started=T0 + dt.timedelta(days=2))
    v2 = report(db, out, "--config", config)
    assert v2["version"] == 2
    assert any(c.startswith("Added crawler token OtherBot") for c in v2["changes"])

    config = write_config(tmp_path / "heed.toml", purpose="Train ExampleLM 3")
    v3 = report(db, out, "--config", config)
    assert v3["version"] == 3
    assert v3["changes"] == [
        "Purpose changed from Collect web text to train ExampleLM to Train ExampleLM 3"
    ]

    add_run(db, policy=Policy(robots_403_allow=True), started=T0 + dt.timedelta(days=3))
    v4 = report(db, out, "--config", config)
    assert v4["version"] == 4
    assert (
        "robots.txt 401/403 policy changed from complete disallow to no crawl restrictions"
        in (v4["changes"])
    )

    feed = parse_feed(out)
    assert feed.tag == f"{A}feed"
    assert feed.findtext(f"{A}id", "").startswith("urn:uuid:")
    assert feed.findtext(f"{A}title") == "Crawler information: Example AI SAS"
    assert feed.findtext(f"{A}author/{A}name") == "Example AI SAS"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert links == {"self": "crawler-info.atom", "alternate": "https://example.ai/bot"}
    entries = feed.findall(f"{A}entry")
    assert [e.findtext(f"{A}title") for e in entries] == [
        f"Crawler information, version {n}" for n in (4, 3, 2, 1)
    ]
    assert len({e.findtext(f"{A}id") for e in entries}) == 4
    assert feed.findtext(f"{A}updated") == entries[0].findtext(f"{A}updated") == v4["published_at"]
    assert entries[1].findtext(f"{A}summary") == v3["changes"][0]
    assert "Purpose changed" in entries[1].findtext(f"{A}content", "")
    assert entries[-1].findtext(f"{A}summary") == "First publication"
    # Ids are permanent: the first entry keeps its id after three more versions.
    old_first = ET.fromstring(first_feed).findall(f"{A}entry")[0]
    assert old_first.findtext(f"{A}id") == entries[-1].findtext(f"{A}id")
    assert ET.fromstring(first_feed).findtext(f"{A}id") == feed.findtext(f"{A}id")

    engine = make_engine(resolve_url(db))
    try:
        versions = history(engine, "crawler-info")
    finally:
        engine.dispose()
    assert [v.version for v in versions] == [1, 2, 3, 4]
    assert versions[2].changes == tuple(v3["changes"])


def test_base_url_and_page(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    out = tmp_path / "site"
    report(db, out, "--base-url", "https://example.ai/crawler/")
    links = {link.get("rel"): link.get("href") for link in parse_feed(out).findall(f"{A}link")}
    assert links["self"] == "https://example.ai/crawler/crawler-info.atom"
    assert links["alternate"] == "https://example.ai/crawler/crawler-info.html"
    page = (out / "crawler-info.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert '<span class="tbp">to be provided</span>' in page
    assert 'type="application/atom+xml"' in page
    assert "Version 1, published" in page
    assert "RFC 9309" in page


def test_preview_publishes_nothing(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    result = heed("report", "crawler-info", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] is None
    assert "crawler-info preview: would be version 1; nothing recorded" in result.stderr
    engine = make_engine(resolve_url(db))
    try:
        assert history(engine, "crawler-info") == []
    finally:
        engine.dispose()


def test_cli_errors(tmp_path: Path) -> None:
    missing = heed("report", "crawler-info", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 1
    assert "no audit database" in missing.output
    db = empty_db(str(tmp_path / "a.db"))
    bad = tmp_path / "bad.toml"
    bad.write_text('[provider]\nnmae = "x"\n', encoding="utf-8")
    result = heed("report", "crawler-info", "--db", db, "--config", str(bad))
    assert result.exit_code == 1
    assert "unknown keys in [provider]" in result.output
    assert heed("report", "crawler-info", "--bogus").exit_code == 2


# -- change sentences ---------------------------------------------------------------------------


def _info(tmp_path: Path, **settings: Any) -> dict[str, Any]:
    db = empty_db(str(tmp_path / f"{len(list(tmp_path.iterdir()))}.db"))
    add_run(db, settings=settings)
    out: dict[str, Any] = report(db, tmp_path / "o", "--preview")["information"]
    return out


def test_change_sentences(tmp_path: Path) -> None:
    old = _info(tmp_path)
    new = _info(tmp_path, OPTOUT_AI_TXT=False, OPTOUT_DEFER_TTL=60.0)
    # A parser upgrade is said once per protocol family, not once per technique.
    for proto in old["protocols"]:
        if proto["family"].startswith("W3C TDM"):
            proto["parser"] = "heed-tdmrep/0"
    changes = describe_changes(old, new)
    assert (
        changes.count(
            "Protocol W3C TDM Reservation Protocol (TDMRep) parser heed-tdmrep/0 → heed-tdmrep/1"
        )
        == 1
    )
    assert "Protocol Spawning ai.txt no longer honoured" in changes
    assert "Cache setting retry_unreachable_seconds changed from 600.0 to 60.0" in changes
    assert describe_changes(None, new) == ["First publication"]
    assert describe_changes(new, new) == ["Information changed"]
    removed = dict(new, crawlers=[])
    assert describe_changes(new, removed) == ["Removed crawler token HeedBot"]


@pytest.mark.parametrize(
    ("knob", "before", "after", "words"),
    [
        (
            "robots_max_redirects",
            5,
            6,
            "'robots.txt redirects followed, at most' changed from 5 to 6",
        ),
        (
            "lenient_values",
            True,
            False,
            "are read as what they evidently mean' changed from yes to no",
        ),
        ("purpose", "train-ai", "search", "changed from AI training (train-ai) to search"),
        ("robots_parse_limit", 2 * 1024 * 1024, 600 * 1024, "changed from 2 MiB to 600 KiB"),
    ],
)
def test_other_knob_changes_are_named(knob: str, before: object, after: object, words: str) -> None:
    """A policy setting's change is described by the choice it makes, in words, not its name."""
    old = {"robots_txt": {"policy": {"knobs": {knob: before}}}}
    new = {"robots_txt": {"policy": {"knobs": {knob: after}}}}
    [change] = describe_changes(old, new)
    assert change.startswith("Policy setting '")
    assert change.endswith(words)
    assert knob not in change
