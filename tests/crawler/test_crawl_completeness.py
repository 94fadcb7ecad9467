"""Partial reads end to end: a real Scrapy crawl keeps nothing whose signals were not all read.

One crawl (tests/crawler/crawlrun.py) over one host per defect class of issue 11, item 3: an HTML
head longer than the scan, a PDF with more XMP packets than examined, pages in UTF-16/UTF-32 or
behind a BOM, and robots.txt files in UTF-16. Proved from the items (the dataset) and from the
web's own request log.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import pytest

from tests.crawler.crawlrun import CrawlOutput, run_crawl
from tests.support.virtualweb import Response, VirtualWeb

ALLOW_ALL = "User-agent: *\nAllow: /\n"
MARK = "RESERVED-TEXT"
TDM_META = '<meta name="tdm-reservation" content="1">'
NOAI_META = '<meta name="robots" content="noai">'
BIG_STYLE = "<style>" + "a{color:red}\n" * 45_000 + "</style>"  # > 512 KiB
BIG_SCRIPT = "<script>" + "var x = 1;\n" * 50_000 + "</script>"


def page(head: str, text: str) -> str:
    """Return an HTML document."""
    return f"<!doctype html><html><head>{head}</head><body><p>{text}</p></body></html>"


def html(body: str | bytes, content_type: str | None = "text/html; charset=utf-8") -> Response:
    """Return an HTML response (no Content-Type header when *content_type* is None)."""
    return Response(body=body, content_type=content_type)


def xmp(value: str, n: int = 0) -> bytes:
    """Return an XMP packet stating tdm:reservation *value*."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="#{n}" xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
        f"<tdm:reservation>{value}</tdm:reservation></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def pdf(*packets: bytes) -> Response:
    """Return a PDF response with *packets* as metadata streams."""
    body = b"%PDF-1.7\n"
    for n, packet in enumerate(packets, start=1):
        body += b"%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % (
            n,
            len(packet),
        )
        body += packet + b"\nendstream\nendobj\n"
    return Response(body=body + b"%%EOF\n", content_type="application/pdf")


ROBOTS = "User-agent: *\nDisallow: /private/\n"
RESERVED = [
    "http://bighead.test/style-tdm",
    "http://bighead.test/script-noai",
    "http://pdf.test/many.pdf",
    "http://enc.test/utf16le",
    "http://enc.test/utf32",
    "http://enc.test/bom",
    "http://enc.test/bad-utf8",
]
STORED = ["http://bighead.test/big-body", "http://enc.test/utf16-free", "http://robots16.test/ok"]
NEVER_REQUESTED = ["http://robots16.test/private/x", "http://robotsbin.test/page"]


def build(web: VirtualWeb) -> None:
    """Serve one host per defect class."""
    web.site(
        "bighead.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/style-tdm": html(page(BIG_STYLE + TDM_META, f"{MARK} style")),
            "/script-noai": html(page(BIG_SCRIPT + NOAI_META, f"{MARK} script")),
            "/big-body": html(page("<title>t</title>", "free big body " + BIG_SCRIPT)),
        },
    )
    web.site(
        "pdf.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/many.pdf": pdf(*[xmp("0", n) for n in range(32)], xmp("1", 99)),
        },
    )
    reserved = page(TDM_META, f"{MARK} encoded")
    web.site(
        "enc.test",
        {
            "/robots.txt": ALLOW_ALL,
            "/utf16le": html(reserved.encode("utf-16-le"), "text/html; charset=utf-16le"),
            "/utf32": html(reserved.encode("utf-32"), "text/html; charset=utf-32"),
            "/bom": html(codecs.BOM_UTF8 + page(NOAI_META, f"{MARK} bom").encode(), None),
            "/bad-utf8": html(
                page("<title>caf\xe9</title>", f"{MARK} bad").encode("latin-1"),
                "text/html; charset=utf-8",
            ),
            # WHATWG: the label "utf-16" means little-endian (w3lib, and so Scrapy, read it as
            # big-endian: the dataset text would be CJK noise).
            "/utf16-free": html(
                page("<title>t</title>", "free ünïcöde text").encode("utf-16-le"),
                "text/html; charset=utf-16",
            ),
        },
    )
    web.site(
        "robots16.test",
        {
            "/robots.txt": Response(body=ROBOTS.encode("utf-16"), content_type="text/plain"),
            "/private/x": html(page("", f"{MARK} private")),
            "/ok": html(page("", "free robots16")),
        },
    )
    web.site(
        "robotsbin.test",
        {
            "/robots.txt": Response(body=ROBOTS.encode("utf-16-le"), content_type="text/plain"),
            "/page": html(page("", f"{MARK} binary robots")),
        },
    )


SEEDS = [*RESERVED, *STORED, *NEVER_REQUESTED]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VirtualWeb, CrawlOutput]]:
    """Crawl every seed once."""
    workdir = tmp_path_factory.mktemp("completeness")
    with VirtualWeb() as web:
        build(web)
        out = run_crawl(web, workdir, list(SEEDS), {"DOWNLOAD_TIMEOUT": 10})
        yield web, out
    web.assert_no_errors()


def test_nothing_reserved_or_unread_is_stored(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """Pages whose signals were read only in part, or reserve, are not in the dataset."""
    _web, out = crawl
    assert out.item_urls() == set(STORED)
    for item in out.items:
        assert MARK not in (item.get("text") or "")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://bighead.test/style-tdm", "HTML head not read to its end"),
        ("http://bighead.test/script-noai", "HTML head not read to its end"),
        ("http://pdf.test/many.pdf", "more than 32 XMP packets"),
        ("http://enc.test/bad-utf8", "HTML page not decodable"),
    ],
)
def test_partial_reads_defer_with_their_reason(
    crawl: tuple[VirtualWeb, CrawlOutput], url: str, reason: str
) -> None:
    """The decision of a partly read page is not "not-reserved", and says what was not read."""
    _web, out = crawl
    decision = out.decision(url)
    assert decision["use"] == "unknown"
    assert any(reason in r for r in decision["reasons"]), decision["reasons"]


@pytest.mark.parametrize(
    "url", ["http://enc.test/utf16le", "http://enc.test/utf32", "http://enc.test/bom"]
)
def test_encoded_reservations_are_read(crawl: tuple[VirtualWeb, CrawlOutput], url: str) -> None:
    """A reservation in a UTF-16/UTF-32 page or behind a UTF-8 BOM is seen: reserved."""
    _web, out = crawl
    assert out.decision(url)["use"] == "reserved"


def test_dataset_text_uses_the_same_decoding(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """A UTF-16LE page without a reservation is stored with its text decoded as it was checked."""
    _web, out = crawl
    item = next(i for i in out.items if i["url"] == "http://enc.test/utf16-free")
    assert item["text"] == "free ünïcöde text"


def test_robots_txt_encodings(crawl: tuple[VirtualWeb, CrawlOutput]) -> None:
    """UTF-16 robots.txt with a BOM is obeyed; one without a BOM defers the whole origin."""
    web, out = crawl
    for url in NEVER_REQUESTED:
        assert not web.requested(url), url
    assert out.decision("http://robots16.test/private/x")["crawl"] == "disallow"
    unreadable = out.decision("http://robotsbin.test/page")
    assert unreadable["crawl"] == "defer"
    assert any("not readable as text" in r for r in unreadable["reasons"])
