"""The published pages in a real headless Chromium: they load cleanly, offline, and lay out.

First the harness itself (tests/support/browser.py, tests/support/png.py) on tiny pages written
here, so a failure of the page tests below is never the harness's own. Then the pages ``heed
report`` writes from the seeded database (``seeded_summary_db``, tests/policy/conftest.py): the
summary, the copyright policy and its public summary, the crawler information page.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from heed.cli import main as heed
from policy.summary.labels import SECTIONS
from tests.support.browser import VIEWPORT, Browser, LoadedPage, launch_browser
from tests.support.png import read_png

WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Yield one headless Chromium for the module (skips when none is installed)."""
    with launch_browser() as launched:
        yield launched


# --- the harness ---------------------------------------------------------------------------


def _page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    """Write a self-contained HTML page with *body* and return its path."""
    path = tmp_path / name
    path.write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>t</title>"
        "<style>body{margin:0;background:#fff} #block{width:200px;height:120px;"
        "margin:40px 0 0 30px;background:rgb(11,92,173)}</style></head>"
        f"<body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


def test_clean_page_reports_nothing(browser: Browser, tmp_path: Path) -> None:
    """A self-contained page with a script that behaves: no errors, no requests, real layout."""
    path = _page(tmp_path, "<h1>Clean</h1><div id='block'></div><script>console.log('hi')</script>")
    with browser.open(path) as page:
        assert page.errors == []
        assert not page.left_page
        assert [(e.type, e.text) for e in page.console] == [("log", "hi")]
        (box,) = page.boxes("#block")
        assert (box.x, box.width, box.height) == (30, 200, 120)
        assert page.texts("h1") == ["Clean"]
        assert page.visible("h1, #block") == [True, True]
        assert page.document_height() == VIEWPORT[1]  # shorter than the viewport


def test_console_error_and_exception_are_caught(browser: Browser, tmp_path: Path) -> None:
    """console.error and an uncaught exception both surface in ``errors``."""
    path = _page(tmp_path, "<script>console.error('boom'); throw new Error('kaput');</script>")
    with browser.open(path) as page:
        assert page.console_errors == ["boom"]
        assert len(page.page_errors) == 1
        assert "kaput" in page.page_errors[0]
        assert len(page.errors) == 2


def test_requests_leaving_the_page_are_caught_and_blocked(browser: Browser, tmp_path: Path) -> None:
    """Any resource beyond the file itself is recorded and aborted, local files included."""
    inline = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    path = _page(
        tmp_path,
        f"<img src='{inline}'><img src='https://example.invalid/pixel.png'>"
        "<link rel='stylesheet' href='sibling.css'>",
    )
    (tmp_path / "sibling.css").write_text("body { color: red }")
    with browser.open(path) as page:
        assert page.left_page
        assert sorted(page.requests) == sorted(
            ["https://example.invalid/pixel.png", (tmp_path / "sibling.css").as_uri()]
        )
        assert len(page.failed_loads) == 2  # blocked, so never fetched
        assert page.errors  # Chromium logs each failed load as a console error


def test_screenshot_is_a_full_page_png(browser: Browser, tmp_path: Path) -> None:
    """The screenshot is the whole page at one pixel per CSS pixel, in the page's colours."""
    path = _page(tmp_path, "<div id='block'></div><div style='height:1500px'></div>")
    with browser.open(path) as page:
        height = page.document_height()
        shot = page.screenshot(tmp_path / "shot.png")
    image = read_png(shot)
    assert (image.width, image.height) == (VIEWPORT[0], height)
    assert height > VIEWPORT[1]  # taller than the viewport: the full page, not the screen
    assert image.rgb(130, 100) == (11, 92, 173)  # inside #block (30..230, 40..160)
    assert image.rgb(500, 100) == (255, 255, 255)
    assert image.share_not((255, 255, 255), (30, 40, 230, 160)) == 1.0


def _encode_png(rows: list[bytes], width: int, filters: list[int]) -> bytes:
    """Return an RGB PNG of *rows*, filtering row *y* with ``filters[y]`` (PNG §9.2)."""

    def paeth(a: int, b: int, c: int) -> int:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    raw, prior = bytearray(), bytes(width * 3)
    for row, kind in zip(rows, filters, strict=True):
        out = bytearray([kind])
        for i, x in enumerate(row):
            a = row[i - 3] if i >= 3 else 0
            b, c = prior[i], prior[i - 3] if i >= 3 else 0
            predictor = (0, a, b, (a + b) >> 1, paeth(a, b, c))[kind]
            out.append((x - predictor) & 0xFF)
        raw += out
        prior = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def test_png_reader_undoes_every_filter(tmp_path: Path) -> None:
    """Rows filtered with None, Sub, Up, Average and Paeth all decode to the original bytes."""
    width = 37
    rows = [
        bytes((x * 7 + y * 31 + (x * y) % 13) & 0xFF for x in range(width * 3)) for y in range(10)
    ]
    path = tmp_path / "filters.png"
    path.write_bytes(_encode_png(rows, width, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]))
    image = read_png(path)
    assert (image.width, image.height, image.channels) == (width, 10, 3)
    assert [image.row(y) for y in range(10)] == rows
    assert [image.row(y) for y in reversed(range(10))] == rows[::-1]
    damaged = bytearray(path.read_bytes())
    damaged[40] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match="corrupt"):
        read_png(path)


# --- the published pages -------------------------------------------------------------------

#: Numbered headings of the summary's sections, as the template prints them (1.1 … 3.3).
SECTION_HEADINGS = [f"{number} {title}" for number, title in SECTIONS.items()]
_SECTION_NUMBER = re.compile(r"^\d\.\d ")


def _heed(*args: str) -> None:
    """Run ``heed`` in-process; fail the test with its output when it fails."""
    result = CliRunner().invoke(heed, list(args))
    assert result.exit_code == 0, result.output


def _sources(db: str, config: Path) -> tuple[str, ...]:
    """Return the options naming the audit database and heed.toml."""
    return ("--db", db, "--config", str(config))


def _summary_page(db: str, config: Path, out: Path) -> Path:
    """Write the HTML summary of the seeded database to *out* and return it."""
    _heed("report", "summary", *_sources(db, config), "--format", "html", "--out", str(out))
    return out


def _assert_clean(page: LoadedPage) -> None:
    """The page loaded without errors, requested nothing and fits the viewport's width."""
    assert page.errors == []
    assert page.requests == []
    assert page.document_width() == VIEWPORT[0]  # no horizontal scrolling
    assert all(page.visible("h1"))


def test_summary_page_renders_offline_with_every_section_in_order(
    browser: Browser, seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    """The HTML summary: clean load, headings 1.1 … 3.3 shown in order, two charts drawn."""
    db, config = seeded_summary_db
    with browser.open(_summary_page(db, config, tmp_path / "summary.html")) as page:
        _assert_clean(page)
        selector = "h2, h3, h4"
        numbered = [
            (text, box, shown)
            for text, box, shown in zip(
                page.texts(selector), page.boxes(selector), page.visible(selector), strict=True
            )
            if _SECTION_NUMBER.match(text)
        ]
        assert [text for text, _, _ in numbered] == SECTION_HEADINGS
        assert all(shown for _, _, shown in numbered)
        tops = [box.y for _, box, _ in numbered]
        assert tops == sorted(tops)  # top to bottom, in order
        assert len(set(tops)) == len(tops)
        charts = page.boxes("figure svg")
        assert len(charts) == 2
        for chart in charts:
            assert not chart.empty
            assert chart.x >= 0
            assert chart.x + chart.width <= VIEWPORT[0]


@pytest.mark.parametrize("public", [False, True], ids=["policy", "policy-public"])
def test_policy_page_renders_offline(
    browser: Browser, seeded_summary_db: tuple[str, Path], tmp_path: Path, public: bool
) -> None:
    """The copyright policy (and its public summary): clean load, Measures 1.1 … 1.5 shown."""
    db, config = seeded_summary_db
    out = tmp_path / "policy.html"
    extra = ["--public"] if public else []
    _heed("report", "policy", *_sources(db, config), *extra, "--format", "html", "--out", str(out))
    with browser.open(out) as page:
        _assert_clean(page)
        measures = [t for t in page.texts("h2") if t.startswith("Measure ")]
        assert [m.split(":")[0] for m in measures] == [f"Measure 1.{n}" for n in range(1, 6)]


def test_crawler_info_page_renders_offline(
    browser: Browser, seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    """The crawler information page: clean load, with its headings laid out."""
    db, config = seeded_summary_db
    _heed("report", "crawler-info", *_sources(db, config), "--out", str(tmp_path))
    with browser.open(tmp_path / "crawler-info.html") as page:
        _assert_clean(page)
        assert page.texts("h1") == ["Crawler information"]
        assert len(page.texts("h2")) >= 3
        assert all(page.visible("h2"))


def test_summary_screenshot(
    browser: Browser, seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    """A full-page screenshot of the summary: the page's size, real content, charts drawn.

    No golden image: fonts differ between machines, so only stable properties are checked.
    """
    db, config = seeded_summary_db
    with browser.open(_summary_page(db, config, tmp_path / "summary.html")) as page:
        height = page.document_height()
        charts = page.boxes("figure svg")
        shot = page.screenshot(tmp_path / "summary.png")
    image = read_png(shot)
    assert image.width == VIEWPORT[0]
    assert image.height == height
    assert 2 * VIEWPORT[1] < height < 50_000  # a long document, not an empty or runaway page
    top = image.colours((0, 0, image.width, 400), step=2)  # title, header table
    assert len(top) > 10  # text and rules, not a single colour
    assert top.most_common(1)[0][0] == WHITE  # on the page's white background
    assert len(charts) == 2
    for chart in charts:
        box = (int(chart.x), int(chart.y), int(chart.x + chart.width), int(chart.y + chart.height))
        assert image.share_not(WHITE, box) > 0.02  # bars and labels were painted
