"""audit.reporting: the read-only queries the published documents are built from, as values.

The documents' own tests (tests/policy/) check what is published; these check the functions'
contract on each backend: runs oldest first with their recorded settings, a run's policy,
denylist versions by first run, action counters, and the summary's scope by run keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import Engine

from audit import (
    NO_SIGNAL,
    SCOPE_METHOD,
    Action,
    AuditStore,
    DenylistVersion,
    action_counts,
    crawl_runs,
    denylist_versions,
    open_reader,
    policy_record,
    summary_data,
)
from optout.decision import Policy, Purpose
from tests.audit.conftest import T0, decide, header_signal, robots_fetch, robots_signal

ORIGIN = "https://a.example"
ALLOW = robots_signal(robots_fetch(ORIGIN))
DISALLOW = robots_signal(robots_fetch(ORIGIN), allowed=False)


def _run(
    store: AuditStore,
    key: str,
    config: Mapping[str, Any] | str,
    *,
    started: dt.datetime,
    **kw: Any,
) -> int:
    """Start run *key* of HeedBot with the configuration *config*; return its id."""
    return store.start_run(
        crawler_name="heed/heedbot",
        product_token="HeedBot",
        user_agent="Mozilla/5.0 (compatible; HeedBot/1.0; +https://example.ai/bot)",
        config=config,
        run_key=key,
        started_at=started,
        **kw,
    )


@pytest.fixture
def reader(db_url: str) -> Iterator[Engine]:
    """Seed three runs, then yield a reader engine on the database.

    ``first``: recorded settings without a denylist, one stored page and one robots.txt skip;
    ``second`` (policy purpose tdm): a denylist configured, one denylisted request and a page
    whose TDMRep header reserved it; ``foreign``: configuration text that is not JSON.
    """
    with AuditStore.open(db_url) as store:
        first = _run(store, "first", {"settings": {"OPTOUT_AI_TXT": False}}, started=T0)
        did = store.record_decision(first, decide(f"{ORIGIN}/p", ALLOW), Action.FETCHED_STORED)
        store.record_item(did, url=f"{ORIGIN}/p", content_type="text/html", size=400, time=T0)
        store.record_decision(first, decide(f"{ORIGIN}/private/x", DISALLOW), Action.SKIPPED_ROBOTS)
        store.end_run(first, ended_at=T0 + dt.timedelta(hours=1))
        second = _run(
            store,
            "second",
            {"settings": {"OPTOUT_DENYLIST": "deny.txt"}},
            started=T0 + dt.timedelta(days=1),
            policy=Policy(purpose=Purpose.TDM),
        )
        store.record_decision(
            second,
            decide("https://bad.example/", ALLOW),
            Action.DENYLISTED,
            denylist_version="eu-1",
        )
        reserved = decide(f"{ORIGIN}/r", ALLOW, header_signal(f"{ORIGIN}/r", reserved=True))
        store.record_decision(second, reserved, Action.FETCHED_EXCLUDED)
        _run(store, "foreign", "not json", started=T0 + dt.timedelta(days=2))
    engine = open_reader(db_url)
    yield engine
    engine.dispose()


def test_crawl_runs_oldest_first_with_recorded_settings(reader: Engine) -> None:
    """Runs come oldest first; settings are the ``settings`` table of the recorded configuration,
    and a configuration that is not Heed's yields none."""
    runs = crawl_runs(reader)
    assert [r.run_key for r in runs] == ["first", "second", "foreign"]
    assert (runs[0].settings, runs[0].has_settings) == ({"OPTOUT_AI_TXT": False}, True)
    assert (runs[2].settings, runs[2].has_settings) == ({}, False)
    assert runs[0].ended_at is not None
    assert runs[2].ended_at is None


def test_policy_record_of_a_run(reader: Engine) -> None:
    """A run's policy comes back with its knobs; an unknown id gives None."""
    second = crawl_runs(reader)[1]
    policy = policy_record(reader, second.policy_id)
    assert policy is not None
    assert (policy.id, policy.knobs["purpose"]) == (second.policy_id, "tdm")
    assert policy_record(reader, 10**9) is None


def test_denylist_versions_by_first_run(reader: Engine) -> None:
    """Each version once, with the first run that recorded it."""
    runs = crawl_runs(reader)
    assert denylist_versions(reader, runs) == [DenylistVersion("eu-1", runs[1].id)]


def test_action_counts_per_run(reader: Engine) -> None:
    """The runs' counters, per run id and action, sorted."""
    first, second, _ = crawl_runs(reader)
    assert action_counts(reader) == {
        first.id: {"fetched-stored": 1, "skipped-robots": 1},
        second.id: {"denylisted": 1, "fetched-excluded": 1},
    }


def test_summary_data_scope_by_run_keys(reader: Engine) -> None:
    """Run keys select the scope; unknown keys are reported, not an error."""
    data = summary_data(reader, ["first", "gone"])
    assert (data.scope.all_runs, [r.key for r in data.scope.runs]) == (False, ["first"])
    assert data.scope.missing_keys == ("gone",)
    assert [(g.domain, g.items, g.bytes) for g in data.domains] == [("a.example", 1, 400)]
    assert [e.reason for e in data.exclusions] == ["robots.txt"]
    assert data.denylists == []
    assert set(data.queries) == {"items", "actions", "denylists", "exclusions"}
    assert "stored_item" in data.queries["items"]
    assert "outcome.use" in SCOPE_METHOD


def test_summary_data_every_run(reader: Engine) -> None:
    """None means every run: the exclusions name the protocol or the action behind them."""
    data = summary_data(reader, None)
    assert data.scope.all_runs
    assert data.scope.missing_keys == ()
    assert {e.reason: e.urls for e in data.exclusions} == {
        "denylisted": 1,
        "robots.txt": 1,
        "tdmrep-header": 1,
    }
    assert data.denylists == ["eu-1"]
    assert NO_SIGNAL not in {e.reason for e in data.exclusions}
