"""Character encodings (optout/charset.py): browser-like sniffing of HTML, BOM-led robots.txt."""

from __future__ import annotations

import codecs

import pytest

from optout import charset
from optout.charset import decode_html, decode_robots, lookup, prescan, sniff_html

HTML = '<html><head><meta name="tdm-reservation" content="1"></head><body>café</body></html>'


# -- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("UTF-8", "utf-8"),
        (" utf8 ", "utf-8"),
        ("latin1", "windows-1252"),  # WHATWG: ISO-8859-1 and ASCII labels mean windows-1252
        ("ISO-8859-1", "windows-1252"),
        ("us-ascii", "windows-1252"),
        ("latin-1", "windows-1252"),  # Python's spelling, mapped through its canonical name
        ("utf-16", "utf-16"),
        ("UTF-16LE", "utf-16le"),
        ("unicodeFFFE", "utf-16be"),
        ("utf-32", "utf-32"),
        ("gb2312", "gbk"),
        ("sjis", "shift_jis"),
        ("iso-2022-kr", "replacement"),
        ("cp500", "cp500"),  # known to Python only: read with Python's codec
        ("base64", None),  # a bytes-to-bytes codec is no text encoding
        ("no-such-charset", None),
        ("", None),
    ],
)
def test_labels(label: str, name: str | None) -> None:
    """Labels resolve through the WHATWG table, then Python's codecs."""
    assert lookup(label) == name


def test_every_codec_in_the_table_exists() -> None:
    """Each encoding the table names is decodable by a Python codec (or by Heed itself)."""
    for name in set(charset._LABELS.values()):
        codec = charset.codec_name(name)
        if codec is not None:
            codecs.lookup(codec)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("text/html; charset=UTF-16LE", "UTF-16LE"),
        ('text/html;charset="utf-32"', "utf-32"),
        ("text/html; foo=bar; Charset = 'koi8-r' ", "koi8-r"),
        ("text/html", None),
        (None, None),
    ],
)
def test_content_type_charset(value: str | None, label: str | None) -> None:
    """The charset parameter of a Content-Type value, unquoted."""
    assert charset.content_type_charset(value) == label


# -- the WHATWG sniffing order -------------------------------------------------------------------


def test_bom_beats_content_type() -> None:
    """A BOM wins over a contradicting Content-Type (WHATWG step 1)."""
    body = codecs.BOM_UTF8 + HTML.encode()
    sniffed = sniff_html(body, "text/html; charset=utf-16le")
    assert (sniffed.encoding, sniffed.source, sniffed.bom) == ("utf-8", "bom", 3)


@pytest.mark.parametrize(
    ("mark", "python", "name"),
    [
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32be"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16be"),
    ],
)
def test_bom_kinds(mark: bytes, python: str, name: str) -> None:
    """UTF-32 marks are told from UTF-16 ones (FF FE 00 00 is not UTF-16LE + NUL)."""
    sniffed = sniff_html(mark + HTML.encode(python))
    assert (sniffed.encoding, sniffed.bom) == (name, len(mark))
    assert decode_html(mark + HTML.encode(python)).text == HTML


def test_content_type_beats_meta() -> None:
    """The Content-Type charset wins over a <meta charset> (WHATWG step 2 before the prescan)."""
    body = b'<meta charset="koi8-r"><p>x'
    assert sniff_html(body, "text/html; charset=iso-8859-2").encoding == "iso-8859-2"
    assert sniff_html(body, "text/html").encoding == "koi8-r"
    assert sniff_html(body, "text/html; charset=bogus").encoding == "koi8-r"  # unknown: ignored


@pytest.mark.parametrize(
    ("head", "found"),
    [
        (b'<meta charset="windows-1251">', "windows-1251"),
        (b"<META CHARSET=Shift_JIS>", "shift_jis"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">', "euc-kr"),
        (b"<meta content='text/html;charset=\"koi8-u\"' http-equiv=content-type>", "koi8-u"),
        # content= without the pragma does not count (need pragma)
        (b'<meta content="text/html; charset=koi8-r">', None),
        # the first charset attribute of one element counts
        (b'<meta charset="koi8-r" charset="utf-8">', "koi8-r"),
        # inside a comment: not a declaration
        (b'<!-- <meta charset="koi8-r"> --><p>', None),
        # an attribute value of another element is skipped
        (b'<div title="<meta charset=koi8-r>"><meta charset=iso-8859-5>', "iso-8859-5"),
        # a meta naming UTF-16 was read in ASCII bytes: UTF-8 (WHATWG)
        (b'<meta charset="utf-16">', "utf-8"),
        (b'<meta charset="utf-32le">', "utf-8"),
        (b'<meta charset="x-user-defined">', "windows-1252"),
        (b'<meta charset="nonsense"><meta charset="iso-8859-7">', "iso-8859-7"),
        (b"<metadata charset=koi8-r>", None),
    ],
)
def test_prescan(head: bytes, found: str | None) -> None:
    """The WHATWG prescan of the first 1024 bytes."""
    assert prescan(head) == found


def test_prescan_sees_only_the_first_1024_bytes() -> None:
    """A <meta charset> after the first 1024 bytes is not a declaration."""
    body = b"<html><!--" + b"x" * 1100 + b'--><meta charset="koi8-r">'
    assert sniff_html(body).source == "default"


def test_xml_declaration() -> None:
    """An XML declaration names the encoding when no meta does."""
    body = b'<?xml version="1.0" encoding="ISO-8859-2"?><html>'
    sniffed = sniff_html(body)
    assert (sniffed.encoding, sniffed.source) == ("iso-8859-2", "xml-declaration")


def test_default_is_utf8_when_valid_else_windows_1252() -> None:
    """Undeclared: UTF-8 if the bytes are UTF-8, windows-1252 otherwise (never an error)."""
    assert sniff_html("<p>café".encode()).encoding == "utf-8"
    latin = "<p>café \x81".encode("latin-1")
    sniffed = sniff_html(latin)
    assert (sniffed.encoding, sniffed.source) == ("windows-1252", "default")
    decoded = decode_html(latin)
    assert decoded.error is None
    assert decoded.text == "<p>café \x81"  # WHATWG windows-1252: the undefined byte is a C1


@pytest.mark.parametrize(("python", "name"), [("utf-16-le", "utf-16le"), ("utf-16-be", "utf-16be")])
def test_generic_utf16_label_checks_the_byte_order(python: str, name: str) -> None:
    """charset=utf-16 without a BOM: the byte order is read from the first code unit."""
    decoded = decode_html(HTML.encode(python), "text/html; charset=utf-16")
    assert (decoded.encoding, decoded.error) == (name, None)
    assert decoded.text == HTML


@pytest.mark.parametrize("python", ["utf-32-le", "utf-32-be", "utf-32"])
def test_utf32_declared(python: str) -> None:
    """charset=utf-32 (which browsers do not know) is honoured, with or without a BOM."""
    decoded = decode_html(HTML.encode(python), "text/html; charset=UTF-32")
    assert decoded.error is None
    assert decoded.text == HTML


# -- errors: never silent ------------------------------------------------------------------------


def test_invalid_bytes_are_an_error_but_keep_the_markup() -> None:
    """Bytes not valid in the declared encoding: an error, and the rest is still there."""
    decoded = decode_html(b"<p>\xff" + HTML.encode(), "text/html; charset=utf-8")
    assert decoded.error is not None
    assert "byte 3 is not valid utf-8" in decoded.error
    assert "content-type" in decoded.error
    assert HTML in decoded.text


def test_cut_character_at_the_limit_is_not_an_error() -> None:
    """A multi-byte character split by the scan limit is left out, not an error."""
    body = "<p>€€€".encode()
    decoded = decode_html(body, "text/html; charset=utf-8", limit=5)
    assert (decoded.text, decoded.error) == ("<p>", None)
    cut = decode_html(body[:5], "text/html; charset=utf-8", truncated=True)
    assert (cut.text, cut.error) == ("<p>", None)
    whole = decode_html(body[:5], "text/html; charset=utf-8")
    assert whole.error is not None  # the document really ends inside a character


def test_wide_bytes_read_as_narrow_are_an_error() -> None:
    """UTF-16 bytes declared (or defaulted) as a one-byte encoding: NULs around markup."""
    body = HTML.encode("utf-16-le")
    assert decode_html(body, "text/html; charset=iso-8859-1").error is not None
    assert decode_html(body).error is not None  # no declaration at all


def test_wrong_byte_order_is_an_error() -> None:
    """UTF-16BE bytes declared UTF-16LE decode to CJK characters: no markup left."""
    decoded = decode_html(HTML.encode("utf-16-be"), "text/html; charset=utf-16le")
    assert decoded.error is not None
    assert "no markup" in decoded.error


def test_replacement_encoding_is_an_error() -> None:
    """A charset browsers refuse (ISO-2022-KR) cannot be read: an error."""
    assert decode_html(b"<p>x", "text/html; charset=iso-2022-kr").error is not None


def test_starts_with_markup() -> None:
    """Markup is recognised after a BOM and in UTF-16/32, without a Content-Type."""
    assert charset.starts_with_markup(codecs.BOM_UTF8 + b"  <html>")
    assert charset.starts_with_markup("<html>".encode("utf-16-be"))
    assert charset.starts_with_markup("\n<html>".encode("utf-32"))
    assert not charset.starts_with_markup(b"%PDF-1.7")
    assert not charset.starts_with_markup(b"")


# -- robots.txt ----------------------------------------------------------------------------------

ROBOTS = "User-agent: *\nDisallow: /private/\n"


@pytest.mark.parametrize("python", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_robots_bom_names_the_encoding(python: str) -> None:
    """A robots.txt with a BOM is read in the encoding the BOM names."""
    body = ROBOTS.encode(python)
    if python in ("utf-16-be", "utf-32-be"):
        body = ("\ufeff" + ROBOTS).encode(python)
    text, notes = decode_robots(body, 1 << 20)
    assert text == ROBOTS
    assert "bom" in notes
    assert "undecodable" not in notes


def test_robots_non_utf8_bytes_are_kept_as_octets_and_noted() -> None:
    """Without a BOM a non-UTF-8 byte becomes its percent-escaped octet, noted non_utf8 (path
    matching compares octets, so the rule still means exactly the bytes written)."""
    text, notes = decode_robots(b"User-agent: *\nDisallow: /caf\xe9\n", 1 << 20)
    assert text == "User-agent: *\nDisallow: /caf%E9\n"
    assert notes == ("non_utf8",)


@pytest.mark.parametrize(
    "body",
    [
        ROBOTS.encode("utf-16-le"),  # UTF-16 without a BOM
        ROBOTS.encode("utf-16-be"),
        ROBOTS.encode("utf-32-le"),
        bytes(range(256)) * 8,  # binary
        b"\x1f\x8b\x08" + bytes(range(1, 200)),  # gzip served without Content-Encoding
    ],
)
def test_robots_not_text_is_undecodable(body: bytes) -> None:
    """NUL or control bytes: the file cannot be read as text."""
    assert "undecodable" in decode_robots(body, 1 << 20)[1]


def test_robots_nul_padding_and_dos_eof_are_text() -> None:
    """Trailing NUL padding and a DOS end-of-file byte do not make a file binary."""
    assert "undecodable" not in decode_robots(ROBOTS.encode() + b"\x00" * 512, 1 << 20)[1]
    assert "undecodable" not in decode_robots(ROBOTS.encode() + b"\x1a", 1 << 20)[1]


def test_robots_cut_drops_the_partial_line_in_every_encoding() -> None:
    """A cut UTF-16 file loses its partial last line, like a cut UTF-8 one."""
    body = ("\ufeff" + ROBOTS + "Disallow: /more\n").encode("utf-16-le")
    text, notes = decode_robots(body, 2 + 2 * len(ROBOTS) + 8)
    assert text == ROBOTS
    assert "truncated" in notes
