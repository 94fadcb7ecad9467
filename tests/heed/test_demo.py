"""``heed demo``: runs offline, fast, idempotently, and shows every behaviour it promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from audit.checkpoint import open_checkpoint, parse_verifier_key
from heed.cli.demo import ACTION_TEXT
from heed.demo.documents import EXAMPLE_CONFIG, INFO_URL
from heed.demo.sites import RESERVED_MARK, SITES, expected
from tests.crawler.crawlrun import ROOT, query, read_dataset


def run_demo(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``heed demo`` in *tmp_path* with no proxy of its own and no network."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["HTTP_PROXY"] = "http://127.0.0.1:9"  # a user's proxy: the demo must not use it
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "heed", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def table_rows(stdout: str) -> dict[str, str]:
    """Return ``{url: action label}`` from the demo's table."""
    rows = {}
    labels = sorted((text for text, _ in ACTION_TEXT.values()), key=len, reverse=True)
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("http://demo-"):
            rest = line.split(parts[0], 1)[1].strip()
            rows[parts[0]] = next(label for label in labels if rest.startswith(label))
    return rows


def test_demo_shows_every_behaviour_and_starts_afresh(tmp_path: Path) -> None:
    """Every demo URL with its expected action; the same table again on a second run."""
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = table_rows(first.stdout)
    wanted = {url: ACTION_TEXT[action][0] for url, action in expected().items()}
    assert rows == wanted
    for site in SITES:
        assert f"{site.host} — {site.shows}" in first.stdout
    assert "none for a URL skipped before the request" in first.stdout
    assert "heed status demo-news.test --db heed-demo/heed.db" in first.stdout
    demo = tmp_path / "heed-demo"
    lines, torn = read_dataset(demo / "dataset" / "dataset.jsonl")
    stored = sorted(u for u, a in expected().items() if a == "fetched-stored")
    assert sorted(line["url"] for line in lines) == stored
    assert not torn
    assert RESERVED_MARK not in (demo / "dataset" / "dataset.jsonl").read_text(encoding="utf-8")
    finals = "SELECT count(*) FROM decision WHERE action <> 'redirected'"
    assert query(demo / "heed.db", finals) == [(len(expected()),)]
    # The redirect itself was a request on the wire: it has its own decision.
    hops = "SELECT url FROM decision WHERE action = 'redirected'"
    assert query(demo / "heed.db", hops) == [("http://demo-redirect.test/old-page",)]
    # The published documents of the example provider, from the same evidence.
    published = demo / "published"
    summary = json.loads((published / "summary.json").read_text(encoding="utf-8"))
    assert "1.1" in summary["sections"]
    assert summary["sections"]["2.3"]["crawlers"] == ["HeedBot"]
    assert summary["sections"]["2.3"]["top_domains"] == ["demo-open.test"]
    for name in ("summary.html", "copyright-policy.html", "crawler-info.html", "crawler-info.atom"):
        assert (published / name).stat().st_size > 500, name
    assert "Published: heed-demo/published/" in first.stdout
    # The crawl ended with a checkpoint signed by a throwaway key; the crawler page publishes
    # the key's public half and the signed note beside it, never the key file's secret.
    assert "checkpoint signed (throwaway key heed-demo/heed-log.key)" in first.stdout
    crawler_info = json.loads((published / "crawler-info.json").read_text(encoding="utf-8"))
    name, public = parse_verifier_key(crawler_info["information"]["log_verifier_key"])
    note = (published / "log-checkpoint.txt").read_text(encoding="utf-8")
    [(log_size,)] = query(demo / "heed.db", "SELECT size FROM log_state")
    assert open_checkpoint(note, name, public).size == log_size
    secret = (demo / "heed-log.key").read_text(encoding="utf-8").split("+")[-1].strip()
    assert all(secret not in p.read_text(encoding="utf-8") for p in published.iterdir())
    # One identity: the User-Agent the demo crawled with names the page its crawler-info
    # publishes (the example heed.toml's [crawler] info_url).
    info = json.loads((published / "crawler-info.json").read_text(encoding="utf-8"))
    [crawler] = info["information"]["crawlers"]
    assert info["information"]["info_url"] == INFO_URL
    assert query(demo / "heed.db", "SELECT DISTINCT user_agent FROM crawl_run") == [
        (crawler["user_agents"][0],)
    ]
    assert f"+{INFO_URL})" in crawler["user_agents"][0]
    assert f'info_url = "{INFO_URL}"' in EXAMPLE_CONFIG

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert table_rows(second.stdout) == rows
    assert query(demo / "heed.db", "SELECT count(*) FROM crawl_run") == [(1,)]
    assert len(read_dataset(demo / "dataset" / "dataset.jsonl")[0]) == len(stored)


def test_demo_refuses_a_directory_that_is_not_its_own(tmp_path: Path) -> None:
    """``heed demo --dir .`` in a directory with someone's files: refused in one line (exit 2),
    and nothing there is touched; an empty directory is fine (and becomes the demo's)."""
    from click.testing import CliRunner

    from heed.cli import main

    theirs = tmp_path / "project"
    theirs.mkdir()
    (theirs / "heed.db").write_bytes(b"precious")
    (theirs / "heed.toml").write_text("[provider]\nname = 'Mine'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--dir", str(theirs)])
    assert result.exit_code == 2, result.output
    assert "not a previous Heed demo's" in result.output
    assert "Traceback" not in result.output
    assert (theirs / "heed.db").read_bytes() == b"precious"
    assert sorted(p.name for p in theirs.iterdir()) == ["heed.db", "heed.toml"]

    from heed.demo.runner import MARKER, check_directory, prepare

    empty = tmp_path / "empty"
    empty.mkdir()
    check_directory(empty)
    prepare(empty)
    assert (empty / MARKER).is_file()
    check_directory(empty)  # now the demo's own: reused
