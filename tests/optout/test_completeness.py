"""Partial reads are never complete (fail closed): issue 11, item 3.

A page-level source read only in part — an HTML head that did not end within the scan, bytes
that cannot be decoded, more XMP packets or values than examined — gives a decision that is not
complete, whose use is not "not-reserved" and whose reasons say what was not read. A reservation
that *was* read still reserves.
"""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from optout import aitxt, asset_meta, tdmrep
from optout.decision import Crawl, Decision, Policy, Purpose, Use, Verdict, combine
from optout.document import FetchResult, normalize_headers
from optout.html_head import DEFAULT_LIMIT, parse_head
from optout.robots_fetch import outcome
from optout.site import Site, SiteDocuments
from optout.tdmrep.assets import MAX_PACKETS, find_xmp_packets, tdm_packets

ORIGIN = "https://site.example"
URL = ORIGIN + "/page"
TDM_META = '<meta name="tdm-reservation" content="1">'
NOAI_META = '<meta name="robots" content="noai">'
#: Inline CSS larger than the head scan limit.
BIG_STYLE = "<style>" + "a{color:red}\n" * (DEFAULT_LIMIT // 13 + 100) + "</style>"
BIG_SCRIPT = "<script>" + "var x = 1;\n" * (DEFAULT_LIMIT // 11 + 100) + "</script>"


def _site(robots: bytes = b"User-agent: *\nAllow: /\n") -> Site:
    docs = SiteDocuments(
        origin=ORIGIN, robots=FetchResult(url=ORIGIN + "/robots.txt", status=200, body=robots)
    )
    return Site(docs, token="MyBot", policy=Policy())


def _page(body: bytes, content_type: str | None = "text/html", **kw: Any) -> Decision:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = FetchResult(url=URL, status=200, headers=normalize_headers(headers), body=body, **kw)
    return _site().after_response(URL, response)


def _stored(decision: Decision) -> bool:
    """The crawler's storage rule: crawl allow and use not-reserved."""
    return decision.crawl is Crawl.ALLOW and decision.use is Use.NOT_RESERVED


def _html(head: str, body: str = "<p>text</p>") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


# -- 1. the HTML head must be read to its end --------------------------------------------------


@pytest.mark.parametrize("filler", [BIG_STYLE, BIG_SCRIPT], ids=["style", "script"])
@pytest.mark.parametrize("meta", [TDM_META, NOAI_META], ids=["tdm-reservation", "noai"])
def test_reservation_behind_a_large_inline_element_defers(filler: str, meta: str) -> None:
    """A reservation meta after 512 KiB of <head>: not seen, so the decision is not complete."""
    decision = _page(_html(filler + meta))
    assert not decision.complete
    assert decision.use is Use.UNKNOWN
    assert decision.purposes[Purpose.TRAIN_AI] is Verdict.DEFER
    assert not _stored(decision)
    tag = "<style>" if "style" in filler else "<script>"
    assert any(
        f"HTML head not read to its end (scan limit of {DEFAULT_LIMIT} bytes reached inside {tag})"
        in r
        for r in decision.reasons
    ), decision.reasons


def test_head_scan_reports_where_it_stopped() -> None:
    """parse_head says the head did not end, and where the scan stopped."""
    head = parse_head(_html("<title>t</title>" + BIG_STYLE + TDM_META))
    assert head.truncated
    assert not head.head_ended
    assert head.incomplete is not None
    assert "inside <style>" in head.incomplete
    bare = parse_head(("<html><head>" + " " * DEFAULT_LIMIT + TDM_META).encode())
    assert bare.incomplete is not None
    assert "inside <head>" in bare.incomplete


def test_head_that_ends_within_the_limit_is_complete() -> None:
    """A head that ends before the limit is complete, however large the body after it."""
    decision = _page(_html("<title>t</title>", BIG_SCRIPT + "<p>" + "words " * 200_000))
    assert decision.complete
    assert decision.use is Use.NOT_RESERVED
    head = parse_head(_html("<title>t</title>", BIG_SCRIPT))
    assert head.head_ended
    assert head.truncated
    assert head.incomplete is None


@pytest.mark.parametrize(
    "start",
    [
        "<html><head><title>t</title></head>",  # </head>
        "<html><head><title>t</title><body>",  # <body>
        "<!doctype html><meta charset=utf-8><title>t</title><div>",  # a body element
        "<title>t</title>Some text",  # text outside the head's elements
    ],
)
def test_every_way_a_head_ends(start: str) -> None:
    """</head>, <body>, any other element, or text: the head has ended."""
    assert parse_head((start + BIG_SCRIPT).encode()).incomplete is None


@pytest.mark.parametrize(
    "start",
    [
        "<html><head><title>a <b>bold</b> title</title>",  # markup inside <title> is its text
        "<html><head><noscript><img src=pixel.gif></noscript>",  # noscript in head
        "<html><head><template><div>x</div></template>",
        "<html><head><template><template></template><div>x</div></template>",
        "<html><head><title>t</title><script>document.write('</head><body>')</script>",
    ],
)
def test_markup_inside_head_text_elements_does_not_end_the_head(start: str) -> None:
    """Tags inside <title>, <noscript>, <template> or a script's text do not end the head."""
    head = parse_head((start + BIG_STYLE + TDM_META).encode())
    assert not head.head_ended
    assert head.incomplete is not None


def test_small_document_without_a_head_end_is_complete() -> None:
    """A document read to its very end is complete wherever its head ends."""
    decision = _page(f"<html><head>{TDM_META}".encode())
    assert decision.complete
    assert decision.use is Use.RESERVED
    head = parse_head("<meta name=x content=y>")
    assert head.incomplete is None
    assert not head.truncated


def test_reservation_read_before_the_cut_still_reserves() -> None:
    """What was read reserves; the decision still records that the read was incomplete."""
    decision = _page(_html(TDM_META + BIG_STYLE))
    assert decision.use is Use.RESERVED
    assert not decision.complete
    tdm = [s for s in decision.signals if s.protocol.value == "tdmrep-meta"]
    assert tdm
    assert tdm[0].purposes[Purpose.TDM] is Verdict.RESERVED
    assert "incomplete" in tdm[0].flags


def test_reservation_in_a_header_stands_when_the_head_is_incomplete() -> None:
    """A tdm-reservation header is not lifted by an unreadable meta layer."""
    headers = normalize_headers({"Content-Type": "text/html", "tdm-reservation": "1"})
    response = FetchResult(url=URL, status=200, headers=headers, body=_html(BIG_STYLE))
    decision = _site().after_response(URL, response)
    assert decision.use is Use.RESERVED


def test_body_cut_by_the_download_cap_inside_the_head() -> None:
    """A body the I/O layer cut short inside <head>: incomplete; after the head: complete."""
    cut = _page(b"<html><head><title>t</title><style>a{}", truncated=True)
    assert not cut.complete
    assert cut.use is Use.UNKNOWN
    assert any("body cut at the download size limit inside <style>" in r for r in cut.reasons)
    whole_head = _page(_html("<title>t</title>", "<p>partial"), truncated=True)
    assert whole_head.complete
    assert whole_head.use is Use.NOT_RESERVED


def test_head_scan_stays_bounded() -> None:
    """A many-megabyte head is scanned only up to the limit (and deferred)."""
    head = parse_head(b"<html><head><style>" + b"x" * (20 * 1024 * 1024))
    assert head.truncated
    assert head.incomplete is not None


# -- 2. XMP packets beyond the scan limit ---------------------------------------------------------


def _xmp(value: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:tdm="http://www.w3.org/ns/tdmrep/">'
        f"<tdm:reservation>{value}</tdm:reservation></rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _plain_xmp(n: int) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>image {n}</dc:title></rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _pdf(*packets: str) -> bytes:
    body = b"%PDF-1.7\n"
    for n, packet in enumerate(packets, start=1):
        data = packet.encode()
        body += b"%d 0 obj\n<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % (
            n,
            len(data),
        )
        body += data + b"\nendstream\nendobj\n"
    return body + b"trailer\n<< >>\n%%EOF\n"


def test_reservation_in_a_packet_past_the_limit_defers() -> None:
    """More TDMRep packets than examined: DEFER with the reason, never the zeros read."""
    body = _pdf(*[_xmp("0")] * MAX_PACKETS, _xmp("1"))
    sig = tdmrep.from_pdf(body, source=URL)
    assert sig is not None
    assert sig.purposes[Purpose.TDM] is Verdict.DEFER
    assert "incomplete" in sig.flags
    assert f"more than {MAX_PACKETS} XMP packets" in sig.reason
    decision = _page(body, "application/pdf")
    assert not decision.complete
    assert decision.use is Use.UNKNOWN
    assert not _stored(decision)
    assert any(f"more than {MAX_PACKETS} XMP packets" in r for r in decision.reasons)


def test_packets_without_tdmrep_do_not_count_towards_the_limit() -> None:
    """Image packets that never mention TDMRep are skipped: the late reservation is read."""
    body = _pdf(*[_plain_xmp(n) for n in range(3 * MAX_PACKETS)], _xmp("1"))
    assert len(find_xmp_packets(body)) == MAX_PACKETS  # the old reader stopped here
    packets, more = tdm_packets(body)
    assert (len(packets), more) == (1, False)
    decision = _page(body, "application/pdf")
    assert decision.use is Use.RESERVED
    assert decision.complete


def test_reserved_packet_within_the_limit_reserves_despite_more() -> None:
    """A reservation among the packets read stands (flagged incomplete)."""
    sig = tdmrep.from_pdf(_pdf(_xmp("1"), *[_xmp("0")] * MAX_PACKETS), source=URL)
    assert sig is not None
    assert sig.purposes[Purpose.TDM] is Verdict.RESERVED
    assert "incomplete" in sig.flags


def test_exactly_max_packets_is_complete() -> None:
    """MAX_PACKETS packets are all examined: complete."""
    decision = _page(_pdf(*[_xmp("0")] * MAX_PACKETS), "application/pdf")
    assert decision.complete
    assert decision.use is Use.NOT_RESERVED


def _data_mining(value: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">'
        f"<plus:DataMining>{value}</plus:DataMining></rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def test_more_data_mining_values_than_examined_defer() -> None:
    """More DataMining values than MAX_VALUES: the later ones may reserve."""
    allowed = "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"
    prohibited = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED"
    packet = _data_mining(allowed)
    many = packet.replace(
        f"<plus:DataMining>{allowed}</plus:DataMining>",
        f"<plus:DataMining>{allowed}</plus:DataMining>" * asset_meta.MAX_VALUES
        + f"<plus:DataMining>{prohibited}</plus:DataMining>",
    )
    sig = asset_meta.from_xmp(many, source=URL)
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.DEFER
    assert "incomplete" in sig.flags
    few = asset_meta.from_xmp(packet, source=URL)
    assert few is not None
    assert few.purposes[Purpose.TRAIN_AI] is Verdict.NOT_RESERVED


def test_data_mining_past_the_byte_limit_defers() -> None:
    """An image whose DataMining property lies past MAX_XMP_BYTES: not read, so DEFER."""
    value = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
    body = b"\x89PNG\r\n\x1a\n" + b"\x00" * asset_meta.MAX_XMP_BYTES + _data_mining(value).encode()
    sig = asset_meta.from_xmp(body, source=URL)
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.DEFER
    decision = _page(body, "image/png")
    assert not decision.complete
    assert not _stored(decision)
    assert any("DataMining" in r for r in decision.reasons)
    small = asset_meta.from_xmp(b"\x89PNG" + _data_mining(value).encode(), source=URL)
    assert small is not None
    assert small.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED


# -- 3. page encodings ---------------------------------------------------------------------------

RESERVED_PAGE = "<html><head>" + TDM_META + "</head><body><p>text</p></body></html>"
NOAI_PAGE = "<html><head>" + NOAI_META + "</head><body><p>text</p></body></html>"


@pytest.mark.parametrize("page", [RESERVED_PAGE, NOAI_PAGE], ids=["tdm", "noai"])
@pytest.mark.parametrize(
    ("python", "content_type"),
    [
        ("utf-16-le", "text/html; charset=utf-16le"),  # no BOM, declared
        ("utf-16-be", "text/html; charset=UTF-16BE"),
        ("utf-32", "text/html; charset=utf-32"),  # declared UTF-32 (with its BOM)
        ("utf-32-le", "text/html; charset=utf-32"),  # declared UTF-32, no BOM
        ("utf-32-be", "text/html; charset=utf-32be"),
        ("utf-8-sig", None),  # UTF-8 BOM, no Content-Type
        ("utf-16", None),  # UTF-16 BOM, no Content-Type
        ("utf-16", "text/html; charset=iso-8859-1"),  # the BOM beats the header
        ("cp1251", "text/html; charset=windows-1251"),
    ],
)
def test_reservation_in_any_encoding_is_read(
    page: str, python: str, content_type: str | None
) -> None:
    """The page is decoded as a browser would: the reservation is seen."""
    decision = _page(page.encode(python), content_type)
    assert decision.use is Use.RESERVED, decision.reasons
    assert decision.complete


def test_meta_charset_is_honoured() -> None:
    """A <meta charset> in the first 1024 bytes names the encoding (here KOI8-R)."""
    body = ("<html><head><meta charset=koi8-r>" + TDM_META + "</head><body>привет").encode("koi8-r")
    decision = _page(body, "text/html")
    assert decision.use is Use.RESERVED
    assert decision.complete


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # declared UTF-8, but a byte that is not UTF-8 before the (would-be) meta
        (
            b"<html><head><title>caf\xe9</title></head><body>x</body></html>",
            "text/html;charset=utf-8",
        ),
        # UTF-16 without a BOM and without a declaration: markup unreadable as one byte each
        ("<html><head></head><body>x</body></html>".encode("utf-16-le"), "text/html"),
        ("<html><head></head><body>x</body></html>".encode("utf-16-be"), None),
        # declared little-endian, written big-endian
        (
            "<html><head></head><body>x</body></html>".encode("utf-16-be"),
            "text/html; charset=utf-16le",
        ),
        # a charset browsers refuse to decode
        (b"<html><head></head><body>x</body></html>", "text/html; charset=iso-2022-kr"),
    ],
    ids=[
        "invalid-utf8",
        "utf16le-undeclared",
        "utf16be-untyped",
        "wrong-byte-order",
        "replacement",
    ],
)
def test_undecodable_page_defers(body: bytes, content_type: str | None) -> None:
    """Bytes that cannot be decoded in the encoding determined: not complete, never stored."""
    decision = _page(body, content_type)
    assert not decision.complete
    assert decision.use is Use.UNKNOWN
    assert not _stored(decision)
    assert any("HTML page not decodable" in r for r in decision.reasons), decision.reasons


def test_undecodable_page_still_counts_a_reservation_it_shows() -> None:
    """The fallback never drops a meta: what can be read still reserves."""
    body = b"<html><head><title>\xff</title>" + NOAI_META.encode() + b"</head><body>x"
    decision = _page(body, "text/html; charset=utf-8")
    assert decision.use is Use.RESERVED
    assert not decision.complete


# -- 4. robots.txt encodings ---------------------------------------------------------------------

ROBOTS = "User-agent: *\nDisallow: /private/\n"


@pytest.mark.parametrize("python", ["utf-16", "utf-16-be-bom", "utf-32", "utf-8-sig"])
def test_robots_with_a_bom_is_read_in_its_encoding(python: str) -> None:
    """A UTF-16/32 robots.txt with a BOM is read, not taken for an empty allow-all file."""
    body = (
        ("\ufeff" + ROBOTS).encode("utf-16-be")
        if python.endswith("-bom")
        else ROBOTS.encode(python)
    )
    site = _site(body)
    assert not site.robots_allows(ORIGIN + "/private/x")
    assert site.robots_allows(ORIGIN + "/public")
    assert "robots_bom" in site.robots_outcome.flags


@pytest.mark.parametrize(
    "body",
    [ROBOTS.encode("utf-16-le"), ROBOTS.encode("utf-32-be"), bytes(range(256)) * 4],
    ids=["utf16-no-bom", "utf32-no-bom", "binary"],
)
def test_robots_that_is_not_text_defers_the_origin(body: bytes) -> None:
    """A 200 robots.txt that cannot be read as text: the origin defers, no URL is allowed."""
    result = FetchResult(url=ORIGIN + "/robots.txt", status=200, body=body)
    out = outcome(result, Policy())
    assert out.crawl_all is Crawl.DEFER
    assert out.signal is not None
    assert "not readable as text" in out.signal.reason
    assert "robots_undecodable" in out.flags
    site = _site(body)
    assert not site.robots_allows(ORIGIN + "/public")
    assert not site.crawls_anything


def test_robots_in_latin1_keeps_its_rules() -> None:
    """A non-UTF-8 byte is read as its octet: a Latin-1 rule matches the URLs written with its
    bytes (path matching compares octets), and the ASCII rules are unaffected."""
    site = _site(b"User-agent: *\nDisallow: /caf\xe9\nDisallow: /private/\n")
    assert not site.robots_allows(ORIGIN + "/caf%E9/menu")
    assert not site.robots_allows(ORIGIN + "/private/x")
    assert site.robots_allows(ORIGIN + "/cafe")
    assert "robots_non_utf8" in site.robots_outcome.flags


def test_ai_txt_that_is_not_text_defers() -> None:
    """ai.txt, read with the same decoder: not text ⇒ train-ai DEFER; UTF-16 with a BOM is read."""
    binary = FetchResult(url=ORIGIN + "/ai.txt", status=200, body=bytes(range(256)) * 4)
    parsed = aitxt.parse(binary)
    assert parsed.deferred == "undecodable"
    sig = parsed.evaluate("/a.jpg", token="MyBot")
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.DEFER
    utf16 = FetchResult(
        url=ORIGIN + "/ai.txt", status=200, body="User-agent: *\nDisallow: *.jpg\n".encode("utf-16")
    )
    sig = aitxt.parse(utf16).evaluate("/a.jpg", token="MyBot")
    assert sig is not None
    assert sig.purposes[Purpose.TRAIN_AI] is Verdict.RESERVED


# -- the decision model --------------------------------------------------------------------------


def test_gaps_make_a_decision_incomplete_with_reasons() -> None:
    """combine(gaps=...) is never complete and says why."""
    decision = combine(URL, (), gaps=["HTML head not read to its end (x)"])
    assert not decision.complete
    assert decision.use is Use.UNKNOWN
    assert decision.reasons == ("train-ai: not complete, HTML head not read to its end (x)",)
    assert combine(URL, ()).use is Use.NOT_RESERVED


def test_failed_response_names_its_gap() -> None:
    """A response that failed says so in the decision's reasons."""
    decision = _site().after_response(URL, FetchResult(url=URL, error="timeout"))
    assert not decision.complete
    assert any("page-level signals not read (timeout)" in r for r in decision.reasons)


def test_bom_only_page_without_content_type_is_html() -> None:
    """A UTF-8 BOM before the markup does not hide the page from the HTML reader."""
    body = codecs.BOM_UTF8 + NOAI_PAGE.encode()
    assert _page(body, None).use is Use.RESERVED
