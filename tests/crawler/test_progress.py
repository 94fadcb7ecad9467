"""What a crawl shows while it runs: a live line on a terminal, plain lines in a log, a summary.

The lines are pure functions of the counts (:func:`live_line`, :func:`log_line`); the live line's
redrawing is checked on a string stream read back as a terminal would show it, then for real: a
``heed crawl`` whose stderr is a pseudo-terminal (:mod:`pty`), and one whose stderr is a pipe.
Both crawls hold one page back until the test has seen a progress line drawn while the crawl was
running, so that no test waits a fixed time.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.config import OptoutConfigError
from crawler.extensions.progress import (
    Progress,
    RecentRate,
    format_elapsed,
    live_line,
    log_line,
    progress_mode,
)
from crawler.liveline import LiveLine
from crawler.run import CrawlOutcome
from heed.cli.crawl import summary
from tests.crawler.crawlrun import heed_command, heed_env
from tests.support.virtualweb import Request, Response, VirtualWeb

SKIPPED = {"robots": 97, "reservation": 31, "excluded": 0, "deferred": 6, "error": 2}
NOW = Progress(decided=1234, stored=1100, skipped=SKIPPED, rate=205.25, elapsed=83.9, queued=312)


def screen(output: str) -> list[str]:
    """Return the lines a terminal shows after *output*: a carriage return goes back to the
    start of the line, a newline to the next one, and text overwrites what is under it."""
    lines: list[list[str]] = [[]]
    column = 0
    for char in output:
        if char == "\r":
            column = 0
        elif char == "\n":
            lines.append([])
            column = 0
        else:
            line = lines[-1]
            line.extend(" " * (column + 1 - len(line)))
            line[column] = char
            column += 1
    return ["".join(line).rstrip() for line in lines]


# -- the lines -----------------------------------------------------------------------------------


def test_the_live_line_shows_rate_counts_queue_and_time() -> None:
    """Pages/s, decided, stored, queued, skipped by reason (those counted), time elapsed."""
    assert live_line(NOW, 200) == (
        "Heed 0:01:23 | 205.2 pages/s | 1,234 decided | 1,100 stored | 312 queued | "
        "136 skipped: robots 97, reservation 31, deferred 6, error 2"
    )
    start = Progress(decided=0, stored=0, skipped={}, rate=0.0, elapsed=0.0)
    assert live_line(start, 200) == "Heed 0:00:00 | 0.0 pages/s | 0 decided | 0 stored | 0 skipped"


def test_the_live_line_fits_the_terminal() -> None:
    """Never wider than the terminal (no wrap, which would break redrawing in place): the
    reasons are cut first; plain ASCII."""
    for width in (1, 3, 4, 40, 75, 79):
        line = live_line(NOW, width)
        assert len(line) <= width
        assert line.isascii()
    assert live_line(NOW, 75) == (
        "Heed 0:01:23 | 205.2 pages/s | 1,234 decided | 1,100 stored | 312 queued..."
    )


def test_the_final_live_line_has_no_queue() -> None:
    """The last line says so, and has no queue (the scheduler is gone)."""
    final = Progress(
        decided=8, stored=5, skipped={"robots": 3}, rate=4.0, elapsed=3725.0, final=True
    )
    assert live_line(final, 200) == (
        "Heed (final) 1:02:05 | 4.0 pages/s | 8 decided | 5 stored | 3 skipped: robots 3"
    )


def test_the_log_line() -> None:
    """The same counts, one plain line every HEED_PROGRESS_INTERVAL seconds, and the final one."""
    assert log_line(NOW) == (
        "Heed: 1,234 decided (205.2 pages/s), 1,100 stored, 136 skipped (robots 97, "
        "reservation 31, deferred 6, error 2), 312 queued, 0:01:23 elapsed"
    )
    final = Progress(decided=1, stored=1, skipped={}, rate=0.5, elapsed=2.0, final=True)
    assert log_line(final) == (
        "Heed (final): 1 decided (0.5 pages/s), 1 stored, 0 skipped, 0:00:02 elapsed"
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.0, "0:00:00"),
        (59.99, "0:00:59"),
        (83.0, "0:01:23"),
        (10805.0, "3:00:05"),
        (-1, "0:00:00"),
    ],
)
def test_elapsed_time(seconds: float, shown: str) -> None:
    """H:MM:SS."""
    assert format_elapsed(seconds) == shown


def test_the_live_rate_is_the_last_seconds() -> None:
    """The live line's rate is over the last few seconds, not since the start."""
    rate = RecentRate(start=0.0, window=5.0)
    assert rate.add(1.0, 100) == 100.0  # since the start, at first
    assert rate.add(5.0, 500) == 100.0
    assert rate.add(10.0, 510) == pytest.approx(2.0)  # 10 in the last 5 s
    assert rate.add(11.0, 520) == pytest.approx(20 / 6)
    assert rate.add(11.0, 520) == pytest.approx(20 / 6)


def test_the_summary_rate_is_the_whole_crawls() -> None:
    """Every attempt decided over the whole crawl's elapsed time."""
    stats = {"optout/decisions": 2418, "elapsed_time_seconds": 13.2}
    text = summary(CrawlOutcome(reason="finished", stats=stats))
    assert text == "Crawl finished: 2,418 request attempts decided in 13.2 s (183.2 pages/s)"
    stats = {"optout/decisions": 0, "elapsed_time_seconds": 0.0}
    assert summary(CrawlOutcome(reason="finished", stats=stats)) == (
        "Crawl finished: 0 request attempts decided in 0.0 s"
    )


@pytest.mark.parametrize(
    ("value", "mode"),
    [("live", "live"), ("log", "log"), ("off", "off"), ("LIVE", "live"), ("auto", "log")],
)
def test_progress_modes(value: str, mode: str) -> None:
    """HEED_PROGRESS; auto is live on a terminal only (pytest's stderr is not one)."""
    assert progress_mode(get_crawler(settings_dict={"HEED_PROGRESS": value})) == mode


def test_an_unknown_progress_mode_is_refused() -> None:
    """A configuration error (one line, exit 2 from ``heed crawl``), not a silent default."""
    with pytest.raises(OptoutConfigError, match="HEED_PROGRESS 'bar'"):
        progress_mode(get_crawler(settings_dict={"HEED_PROGRESS": "bar"}))


# -- the live line on a stream -------------------------------------------------------------------


def live_on(columns: int = 60) -> tuple[LiveLine, io.StringIO]:
    """Return a live line on a string stream *columns* wide, and the stream."""
    stream = io.StringIO()
    return LiveLine(stream, columns=lambda: columns), stream


def test_the_line_is_redrawn_in_place() -> None:
    """Each redraw goes back to the start of the line and covers what was longer before."""
    line, stream = live_on()
    line.show("Heed 0:00:01 | 10 decided")
    line.show("Heed 0:00:02 | 9")
    assert screen(stream.getvalue()) == ["Heed 0:00:02 | 9"]
    assert "\n" not in stream.getvalue()
    line.close("Heed (final) 0:00:03 | 12 decided")
    assert screen(stream.getvalue()) == ["Heed (final) 0:00:03 | 12 decided", ""]
    line.show("after close")  # nothing: the line is over
    assert screen(stream.getvalue())[-1] == ""


def test_the_line_never_wraps() -> None:
    """Cut to one column less than the terminal's width."""
    line, stream = live_on(columns=20)
    line.show("x" * 50)
    assert screen(stream.getvalue()) == ["x" * 16 + "..."]


def test_a_warning_logged_under_the_line_is_not_garbled() -> None:
    """A log record clears the line, is written on its own line, and the line comes back
    beneath it; once the line is closed, the handler writes to the terminal stream again."""
    line, stream = live_on()
    logger = logging.getLogger("tests.progress.garble")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        line.attach(logger)
        line.show("Heed 0:00:01 | 100 decided | 40 skipped: robots 40")
        logger.warning("short")
        line.show("Heed 0:00:02 | 200 decided")
        logger.warning("a warning longer than the live line, in the middle of the crawl")
        assert screen(stream.getvalue()) == [
            "WARNING: short",
            "WARNING: a warning longer than the live line, in the middle of the crawl",
            "Heed 0:00:02 | 200 decided",
        ]
        line.close("Heed (final) 0:00:03 | 300 decided")
        assert handler.stream is stream
        logger.warning("after")
    finally:
        logger.removeHandler(handler)
    assert screen(stream.getvalue())[-3:] == [
        "Heed (final) 0:00:03 | 300 decided",
        "WARNING: after",
        "",
    ]


def test_a_partial_write_does_not_share_the_line() -> None:
    """Text that does not end a line is left alone; the next redraw starts a line of its own."""
    line, stream = live_on()
    line.show("Heed 0:00:01")
    line.write("prompt> ")
    line.show("Heed 0:00:02")
    assert screen(stream.getvalue()) == ["prompt>", "Heed 0:00:02"]


# -- real crawls ---------------------------------------------------------------------------------

#: The pages of the crawled site: 8 attempts, 5 stored, 3 skipped by robots.txt.
LINKS = ["/p1", "/p2", "/p3", "/no1", "/no2", "/no3", "/slow"]


def build(web: VirtualWeb, release: threading.Event) -> None:
    """A site whose /slow page is answered only once *release* is set (or after 30 s)."""
    home = "".join(f'<a href="{link}">{link}</a>' for link in LINKS)

    def slow(request: Request) -> Response:
        release.wait(30)
        return Response(body="<p>slow</p>", content_type="text/html")

    web.site(
        "a.test",
        {
            # Crawl-delay over OPTOUT_CRAWL_DELAY_MAX: a warning in the middle of the crawl.
            "/robots.txt": "User-agent: *\nDisallow: /no\nCrawl-delay: 60\n",
            "/": f"<html><body>{home}</body></html>",
            **{f"/p{i}": f"<html><body><p>page {i}</p></body></html>" for i in (1, 2, 3)},
        },
    )
    web.add("http://a.test/slow", handler=slow)


def crawl_args(tmp_path: Path, *more: str) -> list[str]:
    """Return the argv of a crawl of a.test into *tmp_path* (with a denylist: the warnings are
    the Crawl-delay's)."""
    (tmp_path / "denylist.txt").write_text("# version: t\n", encoding="utf-8")
    return heed_command(
        "crawl", "http://a.test/",
        "--db", str(tmp_path / "heed.db"),
        "--out", str(tmp_path / "out"),
        "-s", "OPTOUT_CRAWL_DELAY_MAX=0.001",
        "-s", "OPTOUT_DENYLIST=" + str(tmp_path / "denylist.txt"),
        *more,
    )  # fmt: skip


def read_until_closed(fd: int, seen: Callable[[str], bool], deadline: float) -> str:
    """Read the pseudo-terminal *fd* until its other side is closed; call *seen* with what was
    read so far after each read."""
    chunks: list[bytes] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
        seen(b"".join(chunks).decode("utf-8", "replace"))
    return b"".join(chunks).decode("utf-8", "replace")


def test_a_crawl_on_a_terminal_shows_a_live_line(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """stderr a terminal: one line redrawn in place with the numbers while the crawl runs, a
    warning above it on a line of its own, the final line left on screen; no Scrapy lines."""
    release = threading.Event()
    build(virtual_web, release)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    try:
        proc = subprocess.Popen(
            crawl_args(tmp_path, "-s", "HEED_PROGRESS_REFRESH=0.02"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            env=heed_env(virtual_web),
            cwd=tmp_path,
        )
        os.close(secondary)

        def seen(output: str) -> None:
            # The line, redrawn while /slow is held back: the three skips are counted.
            if re.search(r"\rHeed 0:00:\d\d \| [\d.]+ pages/s \| \d+ decided .*robots 3", output):
                release.set()

        output = read_until_closed(primary, seen, time.monotonic() + 60)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        release.set()
        os.close(primary)
    assert proc.returncode == 0, output[-3000:]
    lines = screen(output.replace("\r\n", "\n"))
    # Redrawn in place, more than once, while the crawl was running.
    live = [x for x in output.split("\r") if x.startswith("Heed 0:")]
    assert len(live) >= 2, output
    assert any("queued" in x and "robots 3" in x for x in live)
    # Every line on screen is one thing: a log line or the progress line, never both.
    warning = [x for x in lines if "WARNING: Crawl-delay 60.0s of http://a.test capped" in x]
    assert len(warning) == 1, lines
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[crawler\.middleware\] WARNING", warning[0])
    assert all(x.startswith("Heed (final)") or "Heed 0:" not in x for x in lines), lines
    assert not any("[scrapy" in x for x in lines), lines
    assert re.fullmatch(
        r"Heed \(final\) 0:00:\d\d \| [\d.]+ pages/s \| 8 decided \| 5 stored \| "
        r"3 skipped: robots 3",
        lines[-2],
    ), lines
    assert lines[-1] == ""
    took = re.search(
        rb"Crawl finished: 8 request attempts decided in [\d.]+ s \(([\d.]+) pages/s\)", stdout
    )
    assert took is not None, stdout
    assert f"| {took[1].decode()} pages/s |" in lines[-2]  # one rate for the whole crawl


def test_a_crawl_in_a_log_prints_plain_periodic_lines(
    virtual_web: VirtualWeb, tmp_path: Path
) -> None:
    """stderr not a terminal: one plain progress line every HEED_PROGRESS_INTERVAL seconds,
    with the queue and the time elapsed; no carriage return; no Scrapy or Alembic INFO line."""
    release = threading.Event()
    build(virtual_web, release)
    progress = re.compile(
        r"\[crawler\.extensions\.progress\] INFO: Heed: \d+ decided \([\d.]+ pages/s\), "
        r"\d+ stored, \d+ skipped( \(robots \d\))?, \d+ queued, 0:00:\d\d elapsed$"
    )
    proc = subprocess.Popen(
        crawl_args(tmp_path, "-s", "HEED_PROGRESS_INTERVAL=0.02"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=heed_env(virtual_web),
        cwd=tmp_path,
        text=True,
    )
    assert proc.stderr is not None
    lines = []
    try:
        for line in proc.stderr:  # /slow is held until a progress line has been logged
            lines.append(line.rstrip("\n"))
            if progress.search(line.rstrip("\n")):
                release.set()
        stdout, _ = proc.communicate(timeout=60)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, "\n".join(lines[-50:])
    stderr = "\n".join(lines)
    assert "\r" not in stderr
    assert len([x for x in lines if progress.search(x)]) >= 1
    assert not re.search(r"\[(scrapy|alembic|twisted)[\w.]*\] (INFO|DEBUG)", stderr), stderr
    assert re.search(
        r"INFO: Heed \(final\): 8 decided \([\d.]+ pages/s\), 5 stored, 3 skipped \(robots 3\), "
        r"0:00:\d\d elapsed$",
        lines[-1],
    ), lines[-5:]
    # The summary's rate: 8 attempts over the whole crawl's time (shown to 0.1 s).
    took = re.search(r"decided in ([\d.]+) s \(([\d.]+) pages/s\)", stdout)
    assert took is not None, stdout
    seconds, rate = float(took[1]), float(took[2])
    assert 8 / (seconds + 0.05) - 0.05 <= rate <= 8 / max(seconds - 0.05, 0.01) + 0.05
    # The final progress line says the same.
    assert f"Heed (final): 8 decided ({took[2]} pages/s)" in lines[-1]


def test_progress_off_shows_nothing(virtual_web: VirtualWeb, tmp_path: Path) -> None:
    """--progress off: neither a live line nor progress lines (warnings still show)."""
    release = threading.Event()
    release.set()
    build(virtual_web, release)
    proc = subprocess.run(
        crawl_args(tmp_path, "--progress", "off", "-s", "HEED_PROGRESS_INTERVAL=0.01"),
        capture_output=True,
        env=heed_env(virtual_web),
        cwd=tmp_path,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pages/s" not in proc.stderr
    assert "\r" not in proc.stderr
    assert "WARNING: Crawl-delay" in proc.stderr
    assert "Crawl finished: 8 request attempts" in proc.stdout


def test_how_progress_is_shown_is_not_part_of_the_run_configuration() -> None:
    """Resuming with another --progress is not a configuration change of the audit run."""
    from crawler import defaults
    from crawler.extensions.auditrun import VOLATILE_SETTINGS

    shown = {name for name in dir(defaults) if name.startswith("HEED_PROGRESS")}
    assert shown == {"HEED_PROGRESS", "HEED_PROGRESS_INTERVAL", "HEED_PROGRESS_REFRESH"}
    assert shown <= VOLATILE_SETTINGS


def test_a_quiet_crawl_still_answers_ctrl_c(caplog: pytest.LogCaptureFixture) -> None:
    """Scrapy's "Received SIGINT, shutting down gracefully" shows; its other INFO lines do not."""
    import logging

    from crawler.run import SHUTDOWN_LOGGER, quiet_framework_logging

    logger = logging.getLogger(SHUTDOWN_LOGGER)
    saved = logger.level, list(logger.filters)
    try:
        quiet_framework_logging()
        with caplog.at_level(logging.INFO, logger=SHUTDOWN_LOGGER):
            logger.info("Overridden settings: %s", {"X": 1})
            logger.info("Received %(signame)s, shutting down gracefully.", {"signame": "SIGINT"})
        assert [r.getMessage() for r in caplog.records] == [
            "Received SIGINT, shutting down gracefully."
        ]
    finally:
        logger.setLevel(saved[0])
        logger.filters[:] = saved[1]
