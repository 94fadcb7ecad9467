"""audit/recheck.py on SQLite and PostgreSQL: the kept items to re-check, each item's latest
re-check (the raw-cursor path included), the findings of a purge list and the published
figures."""

from __future__ import annotations

import datetime as dt

from audit import Action, AuditStore, open_reader, recheck_figures
from audit.recheck import ITEM_KEY, findings, kept_items, latest_rechecks
from optout.document import FetchResult
from optout.site import Site, SiteDocuments

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _site(origin: str, robots: str) -> Site:
    doc = FetchResult(
        url=origin + "/robots.txt",
        status=200,
        body=robots.encode(),
        fetched_at="2026-03-01T00:00:00Z",
    )
    return Site(SiteDocuments(origin=origin, robots=doc), token="HeedBot")


def test_latest_recheck_per_item(db_url: str) -> None:
    open_site = _site("http://a.test", "User-agent: *\nAllow: /\n")
    closed = _site("http://a.test", "User-agent: *\nDisallow: /x\n")
    with AuditStore.open(db_url) as store:
        crawl = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="t")
        items = []
        for n in range(3):
            url = f"http://a.test/x{n}"
            did = store.record_decision(
                crawl, open_site.before_request(url), Action.FETCHED_STORED, time=T0
            )
            items.append(
                store.record_item(
                    did, url=url, content_type="text/html", size=10, content_sha256=f"{n:064x}"
                )
            )
        store.flush()
        runs = []
        for day, site in ((1, closed), (2, open_site)):
            run = store.start_run(
                crawler_name="HeedBot", product_token="HeedBot", user_agent="t", kind="recheck"
            )
            runs.append(run)
            for item, n in zip(items[:2], range(2), strict=True):
                when = T0 + dt.timedelta(days=day, seconds=n)
                decision = site.before_request(f"http://a.test/x{n}")
                action = Action.RECHECKED_RESERVED if site is closed else Action.RECHECKED_USABLE
                if site is open_site and n == 1:  # the second item stays reserved
                    decision, action = (
                        closed.before_request("http://a.test/x1"),
                        Action.RECHECKED_RESERVED,
                    )
                store.record_decision(
                    run, decision, action, time=when, request_key=f"{ITEM_KEY}{item}"
                )
            store.end_run(run)
    engine = open_reader(db_url)
    try:
        kept = kept_items(engine)
        assert list(kept) == ["http://a.test"]
        assert [k.item_id for k in kept["http://a.test"]] == items
        latest = latest_rechecks(engine)
        assert latest[items[0]] == (T0 + dt.timedelta(days=2), "rechecked-usable")
        assert latest[items[1]] == (T0 + dt.timedelta(days=2, seconds=1), "rechecked-reserved")
        assert items[2] not in latest
        (finding,) = list(findings(engine))
        assert finding.item_id == items[1]
        assert finding.url == "http://a.test/x1"
        assert finding.content_sha256 == f"{1:064x}"
        assert finding.found_at == T0 + dt.timedelta(days=2, seconds=1)
        assert "robots.txt" in finding.reason
        assert finding.evidence_sha256 == closed.docs.robots.sha256
        # --since: the re-checks at or after it only (here all of them: the latest decides)
        early = list(findings(engine, since=T0))
        assert [f.item_id for f in early] == [items[1]]
        figures = recheck_figures(engine)
        assert (figures.runs, figures.items, figures.reserved, figures.unknown) == (2, 2, 1, 0)
    finally:
        engine.dispose()
