"""``heed recheck`` → ``heed purge-list`` → ``heed dataset filter`` (issue 16): a local web is
crawled, then changes — robots.txt disallows a section, a tdmrep.json appears, a site answers
503, a registry entry is added — and the re-check finds exactly the affected items, requests
nothing robots.txt disallows (and no page at all), records its decisions with their evidence,
and the filtered dataset lacks exactly the purged items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from audit import add_registry_entry, open_publisher
from tests.crawler.crawlrun import query, run_heed
from tests.support.virtualweb import Response, VirtualWeb

OPEN = "User-agent: *\nAllow: /\n"
PAGE = Response(body="<html><body><p>Some text.</p></body></html>", content_type="text/html")
URLS = {
    "stable": "http://stable.test/a",
    "section-kept": "http://robots.test/public/a",
    "section-closed": "http://robots.test/private/b",
    "tdm": "http://tdm.test/article",
    "down": "http://down.test/page",
    "registry": "http://reg.test/archive/x",
    "registry-other": "http://reg.test/today",
}
AFFECTED = {"section-closed", "tdm", "registry"}


def _web(web: VirtualWeb) -> None:
    for name, url in URLS.items():
        host = url.split("/")[2]
        web.add(f"http://{host}/robots.txt", body=OPEN)
        web.add(url, body=PAGE.body, content_type="text/html")
        assert name


def _change(web: VirtualWeb, db: Path) -> None:
    web.add("http://robots.test/robots.txt", body="User-agent: *\nDisallow: /private/\n")
    web.add(
        "http://tdm.test/.well-known/tdmrep.json",
        body='[{"location": "/*", "tdm-reservation": 1}]',
        content_type="application/json",
    )
    web.add("http://down.test/robots.txt", status=503, body="busy")
    engine = open_publisher(str(db))
    try:
        add_registry_entry(engine, "http://reg.test/archive/", source="letter L-9", actor="t")
    finally:
        engine.dispose()


def _items(dataset: Path) -> dict[str, dict[str, Any]]:
    lines = (dataset / "dataset.jsonl").read_text().splitlines()
    by_url = {json.loads(line)["url"]: json.loads(line) for line in lines}
    return {name: by_url[url] for name, url in URLS.items()}


@pytest.mark.parametrize("unknown", ["purge", "keep"])
def test_recheck_purge_list_and_filter(tmp_path: Path, unknown: str) -> None:
    db, out = tmp_path / "heed.db", tmp_path / "dataset"
    with VirtualWeb() as web:
        _web(web)
        done = run_heed(
            web, "crawl", *URLS.values(), "--db", str(db), "--out", str(out), "--depth", "0",
            "--log-level", "warning", "--progress", "off", timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        items = _items(out)
        _change(web, db)
        web.clear_log()
        done = run_heed(web, "recheck", "--db", str(db), "--concurrency", "4", timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        requested = {f"http://{r.host}{r.path}" for r in web.requests}
    web.assert_no_errors()
    # Only site-level documents: no page, nothing robots.txt disallows.
    assert not requested & set(URLS.values()), requested
    assert "http://robots.test/robots.txt" in requested
    assert "http://down.test/.well-known/tdmrep.json" not in requested  # robots.txt unreadable
    lines = done.stdout.splitlines()
    assert lines[0].startswith("recheck run recheck-")
    assert lines[0].endswith(": 5 origins, 7 items")
    assert lines[1:4] == [
        "  may still be used             3",
        "  reserved since                3",
        "  unknown (unreadable)          1",
    ]
    run_key = lines[0].split()[2].rstrip(":")
    rows = query(
        db,
        "SELECT d.request_key, d.action FROM decision d JOIN crawl_run r ON r.id = d.run_id "
        "WHERE r.kind = 'recheck' ORDER BY d.request_key",
    )
    actions = {int(key.split(":")[1]): action for key, action in rows}
    by_name = {name: actions[item["item_id"]] for name, item in items.items()}
    assert by_name == {
        "stable": "rechecked-usable",
        "section-kept": "rechecked-usable",
        "section-closed": "rechecked-reserved",
        "tdm": "rechecked-reserved",
        "down": "rechecked-unknown",
        "registry": "rechecked-reserved",
        "registry-other": "rechecked-usable",
    }
    # the documents read are evidence of the re-check run
    kinds = dict(
        query(
            db,
            "SELECT f.kind, COUNT(*) FROM document_fetch f JOIN crawl_run r ON r.id = f.run_id "
            "WHERE r.run_key = ? GROUP BY f.kind",
            run_key,
        )
    )
    assert kinds["robots.txt"] == 5
    assert kinds["registry"] == 1

    purge = tmp_path / "purge.jsonl"
    with VirtualWeb() as web:
        done = run_heed(
            web, "purge-list", "--db", str(db), "--unknown", unknown, "--out", str(purge)
        )
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line) for line in purge.read_text().splitlines()]
    expected = AFFECTED | ({"down"} if unknown == "purge" else set())
    assert [e["item_id"] for e in listed] == sorted(items[n]["item_id"] for n in expected)
    by_item = {e["item_id"]: e for e in listed}
    tdm = by_item[items["tdm"]["item_id"]]
    assert tdm["url"] == URLS["tdm"]
    assert tdm["content_sha256"] == items["tdm"]["sha256"]
    assert tdm["evidence_sha256"]  # the tdmrep.json that reserves
    assert query(db, "SELECT COUNT(*) FROM document WHERE sha256 = ?", tdm["evidence_sha256"]) == [
        (1,)
    ]
    assert "letter L-9" in by_item[items["registry"]["item_id"]]["reason"]
    manifest = json.loads((tmp_path / "purge.jsonl.manifest.json").read_text())
    assert manifest["recheck_runs"] == [run_key]
    assert manifest["items"] == len(expected)

    filtered = tmp_path / "filtered"
    with VirtualWeb() as web:
        done = run_heed(
            web, "dataset", "filter", str(out), "--purge-list", str(purge), "--out", str(filtered)
        )
    assert done.returncode == 0, done.stderr
    left = {
        json.loads(line)["url"] for line in (filtered / "dataset.jsonl").read_text().splitlines()
    }
    assert left == {URLS[n] for n in URLS if n not in expected}
    if unknown == "keep":
        return
    # The Parquet export says when each item was last re-checked.
    export = tmp_path / "export.parquet"
    with VirtualWeb() as web:
        done = run_heed(web, "dataset", "export", str(out), "--out", str(export), "--db", str(db))
    assert done.returncode == 0, done.stderr
    import pyarrow.parquet as pq

    rows = pq.read_table(export).to_pylist()
    assert len(rows) == len(URLS)
    assert all(r["rechecked_at"] is not None and r["rechecked_at"] > r["crawled_at"] for r in rows)
    use = {r["url"]: r["use"] for r in rows}  # the latest verdict: a later re-check's counts
    assert use[URLS["tdm"]] == use[URLS["registry"]] == "reserved"
    assert use[URLS["down"]] == "unknown"
    assert use[URLS["stable"]] == "not-reserved"
    # heed status shows the crawl's decision, then the re-check after it.
    with VirtualWeb() as web:
        done = run_heed(web, "status", URLS["tdm"], "--db", str(db), "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert [s["action"] for s in shown] == ["fetched-stored", "rechecked-reserved"]
    # The copyright policy and the summary state the latest re-check.
    with VirtualWeb() as web:
        policy = run_heed(
            web, "report", "policy", "--db", str(db), "--format", "json", cwd=tmp_path
        )
        summary = run_heed(
            web, "report", "summary", "--db", str(db), "--format", "json", cwd=tmp_path
        )
    assert policy.returncode == 0, policy.stderr
    recheck = json.loads(policy.stdout)["document"]["sections"]["1.3"]["recheck"]
    (said,) = recheck["statements"]
    assert said.startswith("Content kept by earlier crawls is re-checked against the opt-outs")
    assert ": 1 re-check so far, the latest on " in said
    assert "which found 3 of 7 kept items reserved since and 1 whose site could not be read" in said
    measures = next(
        f["value"]
        for f in json.loads(summary.stdout)["sections"]["3.1"]["fields"]
        if f["key"] == "measures"
    )
    assert said in measures
    # The portal's look-up counts the re-check per action, not as requests.
    from audit import domain_view, open_reader

    engine = open_reader(str(db))
    try:
        view = domain_view(engine, "reg.test")
    finally:
        engine.dispose()
    assert view.total.decisions == 2  # the two pages the crawl requested
    assert view.total.by_action["rechecked-reserved"] == 1
    assert view.total.by_action["rechecked-usable"] == 1
