"""``heed crawl`` options, ``heed.toml`` and ``scrapy crawl web``: settings and real runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.run import (
    CrawlConfigError,
    build_settings,
    load_config,
    make_options,
    spider_arguments,
)
from heed.cli import main
from tests.crawler.crawlrun import ROOT, heed_env, query, read_dataset, run_heed
from tests.support.virtualweb import VirtualWeb

CONFIG = """
[crawl]
seeds = ["http://site.test/"]
token = "ConfigBot"
scope = "all"
depth = 2
max_pages = 50
db = "from-config.db"
out = "data"
store = "both"

[settings]
CONCURRENT_REQUESTS = 4
OPTOUT_POLICY = { robots_403_allow = true }
"""


def test_config_file_then_command_line(tmp_path: Path) -> None:
    """[settings], then [crawl], then -s, then options: later wins; the token sets the UA."""
    path = tmp_path / "heed.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config, settings = load_config(path)
    options = make_options(
        config, settings, db="cli.db", set_settings={"CONCURRENT_REQUESTS": "2"}, depth=None
    )
    scrapy_settings = build_settings(options)
    assert scrapy_settings.get("HEED_DB") == "cli.db"
    assert scrapy_settings.get("HEED_OUT") == "data"
    assert scrapy_settings.get("HEED_STORE") == "both"
    assert scrapy_settings.getint("CONCURRENT_REQUESTS") == 2
    assert scrapy_settings.getdict("OPTOUT_POLICY") == {"robots_403_allow": True}
    assert scrapy_settings.get("OPTOUT_USER_AGENT_TOKEN") == "ConfigBot"
    assert "ConfigBot/" in scrapy_settings.get("USER_AGENT")
    assert scrapy_settings.get("ROBOTSTXT_OBEY") is False  # the project's settings underneath
    args = spider_arguments(options)
    assert (args["urls"], args["scope"], args["depth"], args["max_pages"]) == (
        ["http://site.test/"],
        "all",
        2,
        50,
    )
    replaced = make_options(config, settings, seeds=("http://other.test/",))
    assert replaced.seeds == ["http://other.test/"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[crawl]\nseeds = [\n", "heed.toml"),
        ("[crawl]\nspeed = 3\n", "unknown [crawl] keys ['speed']"),
        ("[crawlr]\n", "unknown tables ['crawlr']"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    """A broken or misspelt heed.toml is a clear error."""
    path = tmp_path / "heed.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CrawlConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no seeds"),
        (["http://a.test/", "-s", "NOEQUALS"], "-s expects NAME=VALUE"),
        (["http://a.test/", "--warc"], "WARC output needs an output directory"),
        (["http://a.test/", "--scope", "world"], "Invalid value for '--scope'"),
        (["--seeds", "missing.txt"], "seeds file not found"),
        (["--config", "missing.toml", "http://a.test/"], "cannot read missing.toml"),
    ],
)
def test_bad_command_lines_are_usage_errors(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Bad options stop before anything is crawled, with a message and exit code 2."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["crawl", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_unavailable_audit_database_means_no_request(tmp_path: Path) -> None:
    """No audit trail, no crawl: the spider closes before any request is sent."""
    with VirtualWeb() as web:
        web.site("site.test", {"/robots.txt": "", "/": "<html>hi</html>"})
        proc = run_heed(web, "crawl", "http://site.test/", "--db", str(tmp_path / "no/dir/h.db"))
        assert proc.returncode == 1
        assert "audit_unavailable" in proc.stderr + proc.stdout
        assert web.requests == []


def test_config_file_and_seed_file_drive_a_real_crawl(tmp_path: Path) -> None:
    """heed crawl --config heed.toml --seeds FILE: the token, store and out dir take effect."""
    (tmp_path / "heed.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "seeds.txt").write_text("# seeds\nhttp://site.test/page\n", encoding="utf-8")
    with VirtualWeb() as web:
        page = "<html><body>words</body></html>"
        web.site("site.test", {"/robots.txt": "", "/": page, "/page": page})
        proc = run_heed(web, "crawl", "--config", "heed.toml", "--seeds", "seeds.txt", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert all("ConfigBot/" in (r.header("User-Agent") or "") for r in web.requests)
    lines, _ = read_dataset(tmp_path / "data" / "dataset.jsonl")
    urls = {line["url"] for line in lines}
    assert urls == {"http://site.test/", "http://site.test/page"}  # config seed and file seed
    assert all("text" in line and "body" in line for line in lines)  # store = "both"
    assert query(tmp_path / "from-config.db", "SELECT count(*) FROM stored_item") == [(2,)]


def test_scrapy_crawl_web_from_the_project_root(tmp_path: Path) -> None:
    """`scrapy crawl web -a ...` uses the project settings: checks, audit and dataset on."""
    with VirtualWeb() as web:
        web.site(
            "site.test",
            {"/robots.txt": "User-agent: *\nDisallow: /no\n", "/": '<a href="/no">x</a> text'},
        )
        env = heed_env(web)
        env.pop("SCRAPY_SETTINGS_MODULE", None)
        command = [
            sys.executable, "-m", "scrapy", "crawl", "web",
            "-a", "urls=http://site.test/",
            "-s", f"HEED_DB={tmp_path / 'heed.db'}",
            "-s", f"HEED_OUT={tmp_path / 'out'}",
        ]  # fmt: skip
        proc = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert not web.requested("http://site.test/no")
    assert query(tmp_path / "heed.db", "SELECT url, action FROM decision ORDER BY id") == [
        ("http://site.test/", "fetched-stored"),
        ("http://site.test/no", "skipped-robots"),
    ]
    assert [line["url"] for line in read_dataset(tmp_path / "out" / "dataset.jsonl")[0]] == [
        "http://site.test/"
    ]
    assert os.path.exists(tmp_path / "heed.db")


def test_gc_tuning_is_applied_while_crawling_and_restored() -> None:
    """HEED_GC_THRESHOLDS while the spider is open; the collector as it was afterwards."""
    import gc

    from scrapy.utils.test import get_crawler

    from crawler.extensions.gctune import GcTuningExtension

    before = gc.get_threshold()
    extension = GcTuningExtension(get_crawler(settings_dict={"HEED_GC_THRESHOLDS": "900,11,120"}))
    try:
        extension.spider_opened(None)  # type: ignore[arg-type]
        assert gc.get_threshold() == (900, 11, 120)
        assert gc.get_freeze_count() > 0
    finally:
        extension.spider_closed(None, "finished")  # type: ignore[arg-type]
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
