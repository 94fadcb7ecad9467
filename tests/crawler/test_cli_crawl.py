"""``heed crawl`` options, ``heed.toml`` and ``scrapy crawl web``: settings and real runs."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from audit import AuditStore
from crawler.run import (
    CrawlConfigError,
    build_settings,
    load_config,
    make_options,
    spider_arguments,
)
from crawler.seeds import read_seeds
from heed.cli import main
from tests.audit.conftest import PG_ENV, postgres_schema
from tests.crawler.crawlrun import ROOT, heed_env, query, read_dataset, run_heed
from tests.support.services import service_url
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


def test_command_defaults_never_override_an_explicit_setting() -> None:
    """-s HEED_STORE=both and -s LOG_LEVEL=WARNING stay as given when --store and --log-level
    are not; an option that is given wins (Scrapy's order: defaults < project < -s < options)."""
    given = {"HEED_STORE": "both", "LOG_LEVEL": "WARNING"}
    options = make_options({}, {}, seeds=["http://a.test/"], set_settings=given)
    scrapy_settings = build_settings(options)
    assert scrapy_settings.get("HEED_STORE") == "both"
    assert scrapy_settings.get("LOG_LEVEL") == "WARNING"
    options = make_options(
        {}, {}, seeds=["http://a.test/"], set_settings=given, store="body", log_level="ERROR"
    )
    scrapy_settings = build_settings(options)
    assert (scrapy_settings.get("HEED_STORE"), scrapy_settings.get("LOG_LEVEL")) == (
        "body",
        "ERROR",
    )
    plain = build_settings(make_options({}, {}, seeds=["http://a.test/"]))
    assert (plain.get("HEED_STORE"), plain.get("LOG_LEVEL")) == ("text", "INFO")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("OPTOUT_ENABLEDD", "did you mean OPTOUT_ENABLED?"),
        ("HEED_STOR", "did you mean HEED_STORE?"),
    ],
)
def test_a_misspelt_heed_setting_is_refused_with_a_hint(name: str, hint: str) -> None:
    """An OPTOUT_*/HEED_* name Heed does not have is refused in one line with the nearest
    name, never silently ignored (which would leave the default in place)."""
    result = CliRunner().invoke(main, ["crawl", "http://a.test/", "-s", f"{name}=False"])
    assert result.exit_code == 2, result.output
    assert f"unknown setting {name}; {hint}" in result.output
    assert "Traceback" not in result.output


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
    """No audit trail, no crawl: `heed crawl` says so in one line before Scrapy starts, and
    the spider of `scrapy crawl web` closes before any request is sent."""
    missing = str(tmp_path / "no/dir/h.db")
    with VirtualWeb() as web:
        web.site("site.test", {"/robots.txt": "", "/": "<html>hi</html>"})
        proc = run_heed(web, "crawl", "http://site.test/", "--db", missing)
        assert proc.returncode == 1
        assert proc.stderr == f"Error: directory does not exist: {tmp_path / 'no/dir'}\n"
        assert web.requests == []
        command = [sys.executable, "-m", "scrapy", "crawl", "web", "-a", "urls=http://site.test/"]
        proc = subprocess.run(
            [*command, "-s", f"HEED_DB={missing}"],
            cwd=ROOT,
            env=heed_env(web),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
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


# -- bad input: one line, the rest of the work goes on ---------------------------------------------

#: A seeds file with a bad seed of every kind between good ones; line numbers matter.
SEEDS = (
    b"\xef\xbb\xbf# seeds\n"  # 1 (a UTF-8 byte order mark is not part of the text)
    b"http://site.test/a\n"  # 2
    b"{bad json\n"  # 3
    b'{"meta": {"x": 1}}\n'  # 4
    b"ftp://site.test/c\n"  # 5
    b"http://site.test:99999/d\n"  # 6
    b"http://site.test/\xff\xfe\n"  # 7
    b'{"url": "http://site.test/b", "meta": {"k": 1}}\n'  # 8
    b"http://bad_host!.test/\n"  # 9
    b'{"url": "http://site.test/m", "meta": [1]}\r\n'  # 10
)
SEED_PROBLEMS = [
    "seeds.txt:3: bad JSON: Expecting property name enclosed in double quotes (column 2)",
    'seeds.txt:4: JSON seed without a "url" string',
    "seeds.txt:5: not an http(s) URL: 'ftp://site.test/c'",
    "seeds.txt:6: bad port in URL: 'http://site.test:99999'",
    "seeds.txt:7: not UTF-8 text",
    "seeds.txt:9: bad host name 'bad_host!.test' in 'http://bad_host!.test/'",
    'seeds.txt:10: "meta" of a JSON seed must be an object',
]


def test_seeds_are_checked_one_by_one(tmp_path: Path) -> None:
    """Every bad seed is a problem naming its line (or argument); the good ones are kept."""
    (tmp_path / "seeds.txt").write_bytes(SEEDS)
    seeds = read_seeds(tmp_path / "seeds.txt", ["http://site.test/", "mailto:x@y", "site.test/"])
    assert [e["url"] for e in seeds.entries] == [
        "http://site.test/a",
        "http://site.test/b",
        "http://site.test/",
    ]
    assert seeds.entries[1]["meta"] == {"k": 1}
    assert seeds.problems == [
        *(f"{tmp_path}/{p}" for p in SEED_PROBLEMS),
        "argument 2: not an absolute URL: 'mailto:x@y'",
        "argument 3: not an absolute URL: 'site.test/'",
    ]
    unreadable = read_seeds(tmp_path, [])  # a directory
    assert unreadable.entries == []
    assert unreadable.problems == [f"{tmp_path}: cannot read the seeds file: Is a directory"]


def test_the_spider_skips_bad_seeds_and_refuses_when_none_is_left(tmp_path: Path) -> None:
    """`scrapy crawl web` reads seeds the same way; no valid seed at all is a ValueError."""
    from crawler.spiders.web import WebSpider

    spider = WebSpider(urls="http://site.test/ ftp://site.test/")
    assert spider.seed_entries == [{"url": "http://site.test/"}]
    assert spider.seeds.problems == ["argument 2: not an http(s) URL: 'ftp://site.test/'"]
    assert spider.run_arguments["seeds"] == ["http://site.test/"]
    with pytest.raises(ValueError, match=r"no valid seed: all 2 were skipped; the first: arg"):
        WebSpider(urls=["ftp://a.test/", "http://b.test:0x/"])


def test_bad_seeds_are_skipped_with_a_warning_and_the_rest_crawled(tmp_path: Path) -> None:
    """A bad line of --seeds FILE, or a bad URL argument: a warning FILE:LINE (argument N),
    counted in the stats and the summary; the good seeds are crawled and recorded."""
    (tmp_path / "seeds.txt").write_bytes(SEEDS)
    with VirtualWeb() as web:
        page = "<html><body>words</body></html>"
        web.site("site.test", {"/robots.txt": "", "/": page, "/a": page, "/b": page})
        proc = run_heed(
            web,
            "crawl", "--seeds", "seeds.txt", "http://site.test/", "http://:80/",
            "--db", "heed.db", "--out", "data", "--depth", "0",
            cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
    warnings = [line.partition("WARNING: ")[2] for line in proc.stderr.splitlines()]
    for problem in [*SEED_PROBLEMS, "argument 2: URL without a host: 'http://:80'"]:
        assert f"{problem} (seed skipped)" in warnings, problem
    assert "Traceback" not in proc.stderr
    assert "Seeds:   8 skipped as invalid" in proc.stdout
    lines, _ = read_dataset(tmp_path / "data" / "dataset.jsonl")
    crawled = {"http://site.test/", "http://site.test/a", "http://site.test/b"}
    assert {line["url"] for line in lines} == crawled
    assert {url for (url,) in query(tmp_path / "heed.db", "SELECT url FROM decision")} == crawled


def test_no_valid_seed_refuses_to_start(tmp_path: Path) -> None:
    """Seeds given, none valid: each skipped seed, then one error line; exit 2, no request,
    no database."""
    (tmp_path / "seeds.txt").write_bytes(b"{oops\nftp://site.test/\n")
    with VirtualWeb() as web:
        proc = run_heed(web, "crawl", "--seeds", "seeds.txt", "gopher://x/", cwd=tmp_path)
        assert web.requests == []
    assert proc.returncode == 2
    assert proc.stdout == ""
    bad_json = "seeds.txt:1: bad JSON: Expecting property name enclosed in double quotes (column 2)"
    assert proc.stderr.splitlines() == [
        f"skipped: {bad_json}",
        "skipped: seeds.txt:2: not an http(s) URL: 'ftp://site.test/'",
        "skipped: argument 1: not an http(s) URL: 'gopher://x/'",
        f"Error: no valid seed: all 3 were skipped; the first: {bad_json}",
    ]
    assert not (tmp_path / "heed.db").exists()
    with VirtualWeb() as web:
        proc = run_heed(web, "crawl", "http://:8080/", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "Error: no valid seed: argument 1: URL without a host: 'http://:8080'"
    )


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["-s", "ROBOTSTXT_OBEY=True"], {}, "ROBOTSTXT_OBEY must be False"),
        (["-s", "COOKIES_ENABLED=1"], {}, "COOKIES_ENABLED must be False"),
        (["-s", "RETRY_HTTP_CODES=500,403"], {}, "RETRY_HTTP_CODES must not contain [403]"),
        (
            ["-s", "OPTOUT_DENYLIST=missing.txt"],
            {},
            "OPTOUT_DENYLIST 'missing.txt': cannot read it: No such file or directory",
        ),
        (
            ["--config", "heed.toml"],
            {"heed.toml": "[settings]\nOPTOUT_POLICY = { robots_403_alow = true }\n"},
            "OPTOUT_POLICY: unknown knobs ['robots_403_alow']",
        ),
        (["-s", 'OPTOUT_POLICY={"purpose": tdm}'], {}, "OPTOUT_POLICY: Expecting value"),
        (
            ["--config", "heed.toml"],
            {"heed.toml": '[crawl]\ntoken = "Heed Bot/1.0"\n'},
            "OPTOUT_USER_AGENT_TOKEN 'Heed Bot/1.0': a product token uses only letters",
        ),
        (["-s", "OPTOUT_CACHE_SIZE=lots"], {}, "OPTOUT_CACHE_SIZE: invalid literal for int()"),
        (
            ["--config", "heed.toml"],
            {"heed.toml": b"[crawl]\ndepth = 2\n\x00\xff\xfe\x89PNG"},
            "heed.toml:3: not a TOML file: not UTF-8 text (byte 20)",
        ),
        (
            ["--config", "heed.toml"],
            {"heed.toml": "[crawl]\ndepth = 2\nscope = \n"},
            "heed.toml:3: Invalid value (column 9)",
        ),
        (
            ["--config", "heed.toml"],
            {"heed.toml": '[crawl]\nseeds = ["http://site.test/"\n'},
            "heed.toml:2: Unclosed array (at the end)",
        ),
    ],
)
def test_a_configuration_that_refuses_to_start_is_one_line(
    tmp_path: Path, args: list[str], files: dict[str, str | bytes], message: str
) -> None:
    """What the middleware would refuse during Scrapy's start-up (and an unreadable or broken
    heed.toml) is checked before Scrapy starts: `Error: <reason>`, exit 2, nothing requested,
    no database written."""
    for name, content in files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with VirtualWeb() as web:
        web.site("site.test", {"/robots.txt": "", "/": "hi"})
        proc = run_heed(web, "crawl", "http://site.test/", *args, cwd=tmp_path, timeout=30)
        assert web.requests == []
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("Error: ")
    assert message in proc.stderr
    assert not (tmp_path / "heed.db").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "heed.toml:1: not a TOML file: not UTF-8 text (byte 1)"),
        (b"[settings]\nCOOKIES_ENABLED = yes\n", "heed.toml:2: Invalid value (column 19)"),
        (b"[settings]\nCOOKIES_ENABLED = true\n", "COOKIES_ENABLED must be False"),
    ],
)
def test_heed_check_config_errors_are_one_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """`heed check --config` reads heed.toml with the same loader: the same one-line errors."""
    (tmp_path / "heed.toml").write_bytes(content)
    with VirtualWeb() as web:
        proc = run_heed(web, "check", "http://site.test/", "--config", "heed.toml", cwd=tmp_path)
        assert web.requests == []
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith(f"Error: {message}")


def test_a_component_that_still_refuses_to_start_is_one_line(tmp_path: Path) -> None:
    """A refusal only a component can make (the middleware needs the asyncio reactor) ends
    the crawl with one line, exit 2, not Twisted's "Unhandled error in Deferred"."""
    reactor = "TWISTED_REACTOR=twisted.internet.pollreactor.PollReactor"
    with VirtualWeb() as web:
        proc = run_heed(web, "crawl", "http://site.test/", "-s", reactor, cwd=tmp_path)
        assert web.requests == []
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        "Error: RightsReservationMiddleware needs Scrapy's asyncio support"
    )
    assert "Traceback" not in proc.stderr
    assert "Unhandled error" not in proc.stderr


def garble(path: Path, pages: range, page_size: int = 4096) -> None:
    """Write random bytes over *pages* (numbered from 1) of the SQLite file at *path*."""
    rng = random.Random(11)
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(rng.randbytes(page_size))


def test_heed_crawl_refuses_a_damaged_or_foreign_database(tmp_path: Path) -> None:
    """A damaged audit database, or another application's: one line, exit 1, no request, and
    the foreign database keeps exactly its own tables."""
    damaged = tmp_path / "damaged.db"
    with AuditStore.open(str(damaged)) as store:
        store.start_run(crawler_name="heed/web", product_token="HeedBot", user_agent="UA")
    garble(damaged, range(2, query(damaged, "PRAGMA page_count")[0][0] + 1))
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('mine')")
    conn.close()
    before = foreign.read_bytes()
    with VirtualWeb() as web:
        web.site("site.test", {"/robots.txt": "", "/": "hi"})
        bad = run_heed(web, "crawl", "http://site.test/", "--db", str(damaged), cwd=tmp_path)
        other = run_heed(web, "crawl", "http://site.test/", "--db", "notes.db", cwd=tmp_path)
        assert web.requests == []
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == f"Error: cannot use database {damaged}: database disk image is malformed\n"
    assert (other.returncode, other.stdout) == (1, "")
    assert other.stderr == (
        "Error: notes.db is not a Heed audit database (it has tables notes and no Heed schema "
        "revision); use another --db\n"
    )
    assert foreign.read_bytes() == before


def test_heed_crawl_on_damaged_tables_stops_before_any_request(tmp_path: Path) -> None:
    """Damage the schema check does not read (the tables' pages): the run cannot be recorded,
    so nothing is requested; the reason is logged and the last line says what happened."""
    db = tmp_path / "audit.db"
    with AuditStore.open(str(db)):
        pass
    roots = query(db, "SELECT rootpage FROM sqlite_master WHERE tbl_name <> 'alembic_version'")
    garble(db, sorted(page for (page,) in roots if page))
    with VirtualWeb() as web:
        web.site("site.test", {"/robots.txt": "", "/": "hi"})
        proc = run_heed(web, "crawl", "http://site.test/", "--db", str(db), cwd=tmp_path)
        assert web.requests == []
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [
        line
        for line in proc.stderr.splitlines()
        if "] ERROR: " in line or line.startswith("Error: ")
    ]
    assert errors[0].endswith(
        f"ERROR: Audit database {db} unavailable, not crawling: (sqlite3.DatabaseError) "
        "database disk image is malformed"
    )
    assert errors[-1] == (
        "Error: the crawl did not finish normally (audit_unavailable: the audit database could "
        "not be used, nothing was requested; the error is logged above)"
    )


def test_heed_crawl_refuses_a_foreign_postgresql_database(tmp_path: Path) -> None:
    """The same on PostgreSQL: a schema with another application's tables gets no Heed table."""
    with postgres_schema(service_url(PG_ENV)) as (url, admin, schema):
        with admin.begin() as conn:
            conn.execute(text(f'CREATE TABLE "{schema}".invoices (id integer)'))
        with VirtualWeb() as web:
            proc = run_heed(web, "crawl", "http://site.test/", "--db", url, cwd=tmp_path)
            assert web.requests == []
        assert proc.returncode == 1
        assert len(proc.stderr.splitlines()) == 1
        assert "is not a Heed audit database (it has tables invoices" in proc.stderr
        with admin.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            )
            assert tables.scalars().all() == ["invoices"]


def test_a_crawl_without_a_dataset_keeps_nothing_and_says_so(tmp_path: Path) -> None:
    """No --out, HEED_OUT or FEEDS: usable pages are recorded fetched-not-kept, never "stored";
    no stored item exists for the EU summary to count; the final report says nothing was kept."""
    with VirtualWeb() as web:
        web.site("keep.test", {"/robots.txt": "User-agent: *\nAllow: /\n", "/": "<p>page</p>"})
        db = tmp_path / "h.db"
        proc = run_heed(web, "crawl", "http://keep.test/", "--db", str(db), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert query(db, "SELECT action FROM decision") == [("fetched-not-kept",)]
    assert query(db, "SELECT count(*) FROM stored_item") == [(0,)]
    assert "fetched-not-kept" in proc.stdout
    assert "Dataset: none" in proc.stdout
    assert "stored in the dataset" not in proc.stdout


def test_one_identity_the_user_agent_names_the_published_crawler_page(tmp_path: Path) -> None:
    """The crawl's User-Agent is built from the heed.toml statements that crawler-info
    publishes ([crawl] token, [crawler] info_url): the page and the wire say the same."""
    (tmp_path / "heed.toml").write_text(
        '[crawl]\ntoken = "ExampleBot"\n\n[crawler]\ninfo_url = "https://example.ai/bot"\n',
        encoding="utf-8",
    )
    with VirtualWeb() as web:
        web.site("id.test", {"/robots.txt": "User-agent: *\nAllow: /\n", "/": "<p>x</p>"})
        db = str(tmp_path / "h.db")
        proc = run_heed(
            web, "crawl", "http://id.test/", "--config", "heed.toml", "--db", db, cwd=tmp_path
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        sent = {{k.lower(): v for k, v in r.headers}.get("user-agent") for r in web.requests}
        published = run_heed(
            web, "report", "crawler-info", "--db", db, "--config", "heed.toml",
            "--out", str(tmp_path / "site"), cwd=tmp_path,
        )  # fmt: skip
    assert published.returncode == 0, published.stderr[-3000:]
    (agent,) = sent
    assert "ExampleBot/" in agent
    assert agent.endswith("+https://example.ai/bot)")
    info = (tmp_path / "site" / "crawler-info.json").read_text(encoding="utf-8")
    assert json.dumps(agent)[1:-1] in info


def test_a_contradicting_info_url_is_refused(tmp_path: Path) -> None:
    """[crawler] info_url and a different [settings] OPTOUT_INFO_URL: one line, exit 2."""
    (tmp_path / "heed.toml").write_text(
        '[crawler]\ninfo_url = "https://example.ai/bot"\n\n'
        '[settings]\nOPTOUT_INFO_URL = "https://other.example/"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["crawl", "http://a.test/", "--config", str(tmp_path / "heed.toml")]
    )
    assert result.exit_code == 2, result.output
    assert "differ" in result.output


def test_a_default_crawl_is_quiet_and_its_final_rate_is_the_whole_crawls(tmp_path: Path) -> None:
    """By default Heed prints its own lines and warnings, not Scrapy's INFO logging (no stats
    dump); --log-level INFO brings that back. The final progress rate is over the whole crawl."""
    with VirtualWeb() as web:
        web.site("q.test", {"/robots.txt": "User-agent: *\nAllow: /\n", "/": "<p>x</p>"})
        quiet = run_heed(web, "crawl", "http://q.test/", "--db", "q.db", cwd=tmp_path)
        loud = run_heed(
            web, "crawl", "http://q.test/", "--db", "l.db", "--log-level", "INFO", cwd=tmp_path
        )
    assert quiet.returncode == loud.returncode == 0, quiet.stderr[-2000:]
    assert "Dumping Scrapy stats" not in quiet.stderr
    assert "[scrapy.core.engine] INFO" not in quiet.stderr
    assert "Heed (final): 1 decided" in quiet.stderr
    assert "Dumping Scrapy stats" in loud.stderr
    assert len(quiet.stderr.splitlines()) < len(loud.stderr.splitlines()) / 3
