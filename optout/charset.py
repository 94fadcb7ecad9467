"""Character encodings of fetched text: which one a document is in, and reading it in that one.

Pure standard-library code (``codecs``), shared by everything that turns fetched bytes into text
so that the reservation check and the dataset read a page identically:

* HTML (:func:`sniff_html`, :func:`decode_html`) is decoded the way browsers do, in the order of
  the WHATWG encoding sniffing algorithm: a byte-order mark first, then the ``charset`` of the
  ``Content-Type`` header, then a ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` in the
  first 1024 bytes (the WHATWG *prescan*), then an XML declaration, else a default: UTF-8 when
  the bytes are valid UTF-8, otherwise windows-1252 (what browsers fall back to). Labels are read
  through the WHATWG label table (``latin1`` and ``ascii`` mean windows-1252, ``utf-16`` means
  UTF-16LE, ``gb2312`` means GBK, …).
* Extensions, each on the conservative side (they only ever let Heed read *more* of a page):
  UTF-32 byte-order marks and ``charset=utf-32`` are honoured (browsers do not know UTF-32); a
  label WHATWG does not know but Python does (``cp500``, …) is decoded with Python's codec; an
  unmarked ``utf-16`` / ``utf-32`` label takes its byte order from the first code unit.
* Whatever was determined, the bytes either decode in it or they do not. :func:`decode` never
  raises: undecodable bytes become U+FFFD (so a ``<meta>`` that is there is still seen) *and* the
  result carries an error saying where. The HTML reader also refuses text whose markup cannot
  have survived the decoding (``<`` next to NUL characters: UTF-16 or UTF-32 read as a one-byte
  encoding; ``<`` in the bytes but none in the text: the wrong byte order). A caller treats such
  an error as a page-level read that did not complete: DEFER, never "no reservation".
* robots.txt (:func:`decode_robots`) is UTF-8 by RFC 9309 §2.3; see that function.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

#: Bytes the WHATWG prescan looks at for a ``<meta charset>`` (HTML spec: 1024).
PRESCAN_BYTES = 1024
#: Bytes examined when deciding whether an undeclared page is UTF-8 (the default's check).
DEFAULT_CHECK_BYTES = 512 * 1024

_WS = b" \t\n\f\r"
_WS_STR = " \t\n\f\r"

#: WHATWG Encoding Standard labels (https://encoding.spec.whatwg.org/#names-and-labels): one
#: encoding a line, ``name codec: labels`` (indented lines continue the labels), where *codec* is
#: the Python codec that decodes it (``-`` for none). Python's own spellings of the UTF-16 names
#: are listed as labels too; the ``utf-16`` line holds the generic labels, whose byte order is
#: checked when there is no BOM (WHATWG says little-endian); the UTF-32 lines are Heed's own.
_TABLE = """
utf-8 utf-8: unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8
ibm866 cp866: 866 cp866 csibm866 ibm866
iso-8859-2 iso8859-2: csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2
    iso_8859-2:1987 l2 latin2
iso-8859-3 iso8859-3: csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3
    iso_8859-3:1988 l3 latin3
iso-8859-4 iso8859-4: csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4
    iso_8859-4:1988 l4 latin4
iso-8859-5 iso8859-5: csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595
    iso_8859-5 iso_8859-5:1988
iso-8859-6 iso8859-6: arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114
    iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6
    iso_8859-6:1987
iso-8859-7 iso8859-7: csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126
    iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek
iso-8859-8 iso8859-8: csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138
    iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual
iso-8859-8-i iso8859-8: csiso88598i iso-8859-8-i logical
iso-8859-10 iso8859-10: csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6
iso-8859-13 iso8859-13: iso-8859-13 iso8859-13 iso885913
iso-8859-14 iso8859-14: iso-8859-14 iso8859-14 iso885914
iso-8859-15 iso8859-15: csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9
iso-8859-16 iso8859-16: iso-8859-16
koi8-r koi8-r: cskoi8r koi koi8 koi8-r koi8_r
koi8-u koi8-u: koi8-ru koi8-u
macintosh mac-roman: csmacintosh mac macintosh x-mac-roman
windows-874 cp874: dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874
windows-1250 cp1250: cp1250 windows-1250 x-cp1250
windows-1251 cp1251: cp1251 windows-1251 x-cp1251
windows-1252 -: ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100
    iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252
windows-1253 cp1253: cp1253 windows-1253 x-cp1253
windows-1254 cp1254: cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9
    iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254
windows-1255 cp1255: cp1255 windows-1255 x-cp1255
windows-1256 cp1256: cp1256 windows-1256 x-cp1256
windows-1257 cp1257: cp1257 windows-1257 x-cp1257
windows-1258 cp1258: cp1258 windows-1258 x-cp1258
x-mac-cyrillic mac-cyrillic: x-mac-cyrillic x-mac-ukrainian
gbk gb18030: chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk
gb18030 gb18030: gb18030
big5 big5hkscs: big5 big5-hkscs cn-big5 csbig5 x-x-big5
euc-jp euc_jp: cseucpkdfmtjapanese euc-jp x-euc-jp
iso-2022-jp iso2022_jp: csiso2022jp iso-2022-jp
shift_jis cp932: csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis
euc-kr cp949: cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989
    ksc5601 ksc_5601 windows-949
replacement -: csiso2022kr hz-gb-2312 iso-2022-cn iso-2022-cn-ext iso-2022-kr replacement
utf-16be utf-16-be: unicodefffe utf-16be utf-16-be
utf-16le utf-16-le: utf-16le utf-16-le
utf-16 utf-16-le: csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16
x-user-defined -: x-user-defined
utf-32be utf-32-be: utf-32be utf-32-be
utf-32le utf-32-le: utf-32le utf-32-le
utf-32 utf-32-le: utf-32 ucs-4 iso-10646-ucs-4 csucs4
"""


def _read_table(text: str) -> tuple[dict[str, str], dict[str, str]]:
    labels: dict[str, str] = {}
    codecs_by_name: dict[str, str] = {}
    name = ""
    for line in text.strip().splitlines():
        if not line.startswith(" "):
            head, _, line = line.partition(":")
            name, codec = head.split()
            codecs_by_name[name] = "" if codec == "-" else codec
        labels.update(dict.fromkeys(line.split(), name))
    return labels, codecs_by_name


#: label → encoding name; encoding name → Python codec ("" where Heed decodes by itself: the
#: WHATWG windows-1252 and x-user-defined tables, and the replacement encoding).
_LABELS, _CODEC = _read_table(_TABLE)
#: Encodings in which ASCII markup is not written as ASCII bytes.
_WIDE = frozenset({"utf-16be", "utf-16le", "utf-16", "utf-32be", "utf-32le", "utf-32"})
#: Byte-order marks, longest first (a UTF-32LE mark begins with the UTF-16LE one).
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32le"),
    (codecs.BOM_UTF32_BE, "utf-32be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
)
#: WHATWG windows-1252: the five bytes cp1252 leaves undefined are the C1 controls of the same
#: value, so every byte decodes.
_WINDOWS_1252 = {
    b: ord(bytes([b]).decode("cp1252", errors="replace"))
    for b in range(0x80, 0xA0)
    if bytes([b]).decode("cp1252", errors="replace") != "\ufffd"
}
_USER_DEFINED = {b: 0xF780 + b - 0x80 for b in range(0x80, 0x100)}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The encoding a document is read in, and how it was determined."""

    #: The encoding's WHATWG name (lower-case), or Heed's extension name (``utf-32le``, ``cp500``).
    encoding: str
    #: ``bom``, ``content-type``, ``meta``, ``xml-declaration`` or ``default``.
    source: str
    #: Length of the byte-order mark to skip (0 without one).
    bom: int = 0


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes, with the encoding used and what went wrong, if anything."""

    text: str
    encoding: str
    source: str
    #: Why the text is not a faithful reading of the bytes (None: it is).
    error: str | None = None


def lookup(label: str) -> str | None:
    """Return the encoding name a *label* stands for, or None if it names no text encoding.

    The WHATWG label table first; a label only Python knows is accepted as Python's codec.
    """
    key = label.strip(_WS_STR + "\v").lower()
    if not key:
        return None
    name = _LABELS.get(key)
    if name is not None:
        return name
    try:
        info = codecs.lookup(key)
        "<".encode(info.name)  # a bytes-to-bytes codec (base64, zlib) is refused here
    except (LookupError, UnicodeError, ValueError):
        return None
    return _LABELS.get(info.name, info.name)


def content_type_charset(content_type: str | None) -> str | None:
    """Return the ``charset`` parameter of a ``Content-Type`` value, unquoted, or None."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, sep, value = param.partition("=")
        if sep and key.strip().lower() == "charset":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            return value.strip() or None
    return None


def bom_encoding(body: bytes) -> tuple[str, int] | None:
    """Return (encoding, BOM length) when *body* starts with a byte-order mark."""
    for mark, name in _BOMS:
        if body.startswith(mark):
            return name, len(mark)
    return None


def _byte_order(name: str, body: bytes) -> str:
    """Return the byte order of an unmarked generic UTF-16/32 label, from the first code unit."""
    if name == "utf-16":
        return "utf-16be" if body[:1] == b"\x00" and body[1:2] not in (b"", b"\x00") else "utf-16le"
    if name == "utf-32":
        return "utf-32be" if body[:3] == b"\x00\x00\x00" and body[3:4] != b"\x00" else "utf-32le"
    return name


def sniff_html(body: bytes, content_type: str | None = None) -> Sniffed:
    """Return the encoding of an HTML document: BOM, Content-Type, prescan, XML, else default."""
    bom = bom_encoding(body)
    if bom is not None:
        return Sniffed(bom[0], "bom", bom[1])
    label = content_type_charset(content_type)
    name = lookup(label) if label else None
    if name is not None:
        return Sniffed(_byte_order(name, body), "content-type")
    found = prescan(body[:PRESCAN_BYTES])
    if found is not None:
        return Sniffed(found, "meta")
    found = xml_declaration(body[:PRESCAN_BYTES])
    if found is not None:
        return Sniffed(found, "xml-declaration")
    return Sniffed(
        _default(body[:DEFAULT_CHECK_BYTES], len(body) <= DEFAULT_CHECK_BYTES), "default"
    )


def _default(prefix: bytes, final: bool) -> str:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final)
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _ascii_compatible(name: str) -> str:
    """Return *name*, or UTF-8 for an encoding a meta found in ASCII bytes cannot be written in."""
    if name in _WIDE:
        return "utf-8"  # WHATWG: a meta saying UTF-16 was read as ASCII, so it is not UTF-16
    if name == "x-user-defined":
        return "windows-1252"
    codec = _CODEC.get(name, name)
    if not codec:
        return name
    try:
        ok = b"<meta charset=>".decode(codec) == "<meta charset=>"
    except (UnicodeError, LookupError):
        ok = False
    return name if ok else "utf-8"


def codec_name(encoding: str) -> str | None:
    """Return the Python codec that decodes *encoding* as Heed does, None if Heed decodes it by
    itself (WHATWG windows-1252 and x-user-defined, the replacement encoding)."""
    codec = _CODEC.get(encoding, encoding)
    return codec or None


def decode(data: bytes, encoding: str, *, final: bool = True) -> tuple[str, str | None]:
    """Return (text, error) of *data* in *encoding*: never raises.

    Undecodable bytes become U+FFFD and *error* says where the first one is. With *final*
    False, *data* is the start of a longer document: a character cut at its end is left out
    rather than counted as an error.
    """
    if encoding == "windows-1252":
        return data.decode("latin-1").translate(_WINDOWS_1252), None
    if encoding == "x-user-defined":
        return data.decode("latin-1").translate(_USER_DEFINED), None
    codec = _CODEC.get(encoding, encoding)
    if not codec:  # the replacement encoding (windows-1252 and x-user-defined are above)
        return ("\ufffd" if data else ""), f"{encoding} encoding cannot be decoded"
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(data, final), None
    except UnicodeDecodeError as exc:
        text = codecs.getincrementaldecoder(codec)("replace").decode(data, final)
        return text, f"byte {exc.start} is not valid {encoding}"
    except LookupError:
        return data.decode("utf-8", errors="replace"), f"no decoder for {encoding}"


def markup_error(text: str, raw: bytes, encoding: str) -> str | None:
    """Return why *text* cannot be the markup *raw* holds, or None.

    Catches a wide encoding read as a narrow one (``<`` next to NUL characters) and the wrong
    byte order of a wide one (``<`` among the bytes, none in the text).
    """
    # A one-character search first: several times faster than the two-character ones, which
    # run only on the (rare) text that has a NUL at all.
    if "\x00" in text and ("<\x00" in text or "\x00<" in text):
        return f"NUL characters around markup: the bytes are not {encoding}"
    if b"<" in raw and "<" not in text:
        return f"no markup left after decoding: the bytes are not {encoding}"
    return None


def decode_html(
    body: bytes,
    content_type: str | None = None,
    *,
    limit: int | None = None,
    truncated: bool = False,
) -> Decoded:
    """Return the text of an HTML document (its first *limit* bytes when given).

    *truncated* says *body* is itself only the start of the document. ``error`` is set when the
    bytes cannot be read in the encoding determined (:func:`decode`, :func:`markup_error`).
    """
    sniffed = sniff_html(body, content_type)
    start = sniffed.bom
    cut = limit is not None and len(body) - start > limit
    data = body[start : start + limit] if limit is not None else body[start:]
    text, error = decode(data, sniffed.encoding, final=not (cut or truncated))
    if error is None:
        error = markup_error(text, data, sniffed.encoding)
    if error is not None:
        error = f"{error} (encoding from {sniffed.source})"
    return Decoded(text, sniffed.encoding, sniffed.source, error)


def starts_with_markup(body: bytes) -> bool:
    """Return True if *body*, after any BOM and whitespace, starts with ``<`` in any byte width.

    For responses without a Content-Type: UTF-16 and UTF-32 bytes count, so that a page in a
    wide encoding is read as HTML (and its encoding checked) rather than passed over.
    """
    bom = bom_encoding(body)
    head = body[bom[1] if bom else 0 :][:256].replace(b"\x00", b"")
    return head.lstrip(_WS)[:1] == b"<"


# -- the WHATWG prescan ------------------------------------------------------------------------


def prescan(data: bytes) -> str | None:
    """Return the encoding a ``<meta>`` in *data* declares (WHATWG "prescan a byte stream")."""
    pos, end = 0, len(data)
    lower = data.lower()
    while pos < end:
        if lower.startswith(b"<!--", pos):
            close = data.find(b"-->", pos + 2)
            if close < 0:
                return None
            pos = close + 3
            continue
        if lower.startswith(b"<meta", pos) and pos + 5 < end and data[pos + 5] in _WS + b"/":
            pos, found = _meta(data, pos + 5)
            if found is not None:
                return found
            continue
        if data[pos : pos + 1] == b"<" and (
            data[pos + 1 : pos + 2].isalpha()
            or (data[pos + 1 : pos + 2] == b"/" and data[pos + 2 : pos + 3].isalpha())
        ):
            pos += 2
            while pos < end and data[pos] not in _WS and data[pos] != 0x3E:
                pos += 1
            while True:
                pos, attr = _attribute(data, pos)
                if attr is None:
                    break
        elif lower.startswith((b"<!", b"</", b"<?"), pos):
            close = data.find(b">", pos + 2)
            if close < 0:
                return None
            pos = close
        pos += 1
    return None


def _meta(data: bytes, pos: int) -> tuple[int, str | None]:
    """Read one meta element's attributes; return (next position, encoding it declares)."""
    seen: set[str] = set()
    got_pragma = False
    need_pragma: bool | None = None
    charset: str | None = None
    while True:
        pos, attr = _attribute(data, pos)
        if attr is None:
            break
        name, value = attr
        if name in seen:
            continue
        seen.add(name)
        if name == "http-equiv":
            got_pragma = got_pragma or value == "content-type"
        elif name == "content" and charset is None:
            label = _charset_in_content(value)
            charset = lookup(label) if label is not None else None
            if charset is not None:
                need_pragma = True
        elif name == "charset" and charset is None:
            charset, need_pragma = lookup(value), False
    if need_pragma is None or (need_pragma and not got_pragma) or charset is None:
        return pos + 1, None
    return pos + 1, _ascii_compatible(charset)


def _attribute(data: bytes, pos: int) -> tuple[int, tuple[str, str] | None]:
    """WHATWG "get an attribute": return (position, (name, value)) or (position, None)."""
    end = len(data)
    while pos < end and (data[pos] in _WS or data[pos] == 0x2F):
        pos += 1
    if pos >= end or data[pos] == 0x3E:
        return pos, None
    name = bytearray()
    value = bytearray()
    while True:  # the name
        if pos >= end:
            return pos, None
        c = data[pos]
        if c == 0x3D and name:
            pos += 1
            break
        if c in _WS:
            while pos < end and data[pos] in _WS:
                pos += 1
            if pos >= end or data[pos] != 0x3D:
                return pos, (_text(name), "")
            pos += 1
            break
        if c in (0x2F, 0x3E):
            return pos, (_text(name), "")
        name.append(c)
        pos += 1
    while pos < end and data[pos] in _WS:
        pos += 1
    if pos >= end:
        return pos, None
    c = data[pos]
    if c in (0x22, 0x27):  # a quoted value
        close = data.find(bytes([c]), pos + 1)
        if close < 0:
            return end, None
        return close + 1, (_text(name), _text(data[pos + 1 : close]))
    if c == 0x3E:
        return pos, (_text(name), "")
    while pos < end and data[pos] not in _WS and data[pos] != 0x3E:
        value.append(data[pos])
        pos += 1
    if pos >= end:
        return pos, None
    return pos, (_text(name), _text(value))


def _text(raw: bytes | bytearray) -> str:
    return bytes(raw).decode("latin-1").lower()


def _charset_in_content(value: str) -> str | None:
    """WHATWG "extract a character encoding from a meta element" (the content attribute)."""
    pos = 0
    while True:
        at = value.find("charset", pos)
        if at < 0:
            return None
        pos = at + 7
        while pos < len(value) and value[pos] in _WS_STR:
            pos += 1
        if value[pos : pos + 1] != "=":
            continue
        pos += 1
        while pos < len(value) and value[pos] in _WS_STR:
            pos += 1
        if pos >= len(value):
            return None
        if value[pos] in "\"'":
            close = value.find(value[pos], pos + 1)
            return value[pos + 1 : close] if close >= 0 else None
        stop = pos
        while stop < len(value) and value[stop] not in _WS_STR + ";":
            stop += 1
        return value[pos:stop]


def xml_declaration(data: bytes) -> str | None:
    """Return the encoding an XML declaration at the start of *data* names (HTML "get an XML
    encoding"), UTF-8 for one that names a wide encoding (it was read as ASCII)."""
    if not data.startswith(b"<?xml"):
        return None
    close = data.find(b">")
    decl = data[:close] if close >= 0 else b""
    at = decl.find(b"encoding")
    if at < 0:
        return None
    rest = decl[at + 8 :].lstrip(_WS)
    if rest[:1] != b"=":
        return None
    rest = rest[1:].lstrip(_WS)
    if rest[:1] not in (b'"', b"'"):
        return None
    stop = rest.find(rest[:1], 1)
    if stop < 0:
        return None
    name = lookup(rest[1:stop].decode("latin-1"))
    return _ascii_compatible(name) if name is not None else None


# -- robots.txt --------------------------------------------------------------------------------


def _percent_octets(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each undecodable byte as its percent-escape (``%E9``)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(f"%{b:02X}" for b in bad), error.end


#: The name the handler is registered under (codecs' registry is process-wide: one name).
_AS_OCTETS = "heed.percent-octets"
codecs.register_error(_AS_OCTETS, _percent_octets)


def decode_robots(body: bytes, limit: int) -> tuple[str, tuple[str, ...]]:
    """Return the text of a robots.txt body (its first *limit* bytes) and notes.

    RFC 9309 §2.3 says the file is UTF-8. Heed reads it as:

    * a byte-order mark names the encoding: UTF-8 (a partial one is skipped too, as Google
      does), UTF-16LE/BE or UTF-32LE/BE (notes ``bom`` and the encoding when not UTF-8);
    * without one, UTF-8; a byte that is not UTF-8 is kept as its percent-escaped octet
      (``\xe9`` → ``%E9``, note ``non_utf8``): path matching compares octets
      (:mod:`optout.urlmatch` keeps an escape that is not UTF-8 as it is), so a rule written in
      Latin-1 matches exactly the URLs written with the same bytes;
    * text that is not text at all — NUL characters (UTF-16 without a BOM, binary data) or
      control characters making up more than 1 % of it — is ``undecodable``: the caller treats
      the file as unreadable (the origin is deferred), since rules it holds cannot be read.

    A body longer than *limit* is cut there and its partial last line dropped (``truncated``).
    """
    notes: list[str] = []
    bom = bom_encoding(body)
    if bom is not None:
        encoding, skip = bom
        notes.append("bom")
        if encoding != "utf-8":
            notes.append(f"encoding_{encoding}")
    else:
        encoding = "utf-8"
        skip = 2 if body[:2] == b"\xef\xbb" else 1 if body[:1] == b"\xef" else 0
        if skip:
            notes.append("bom")  # a partial BOM (GRT robots_test.cc BOM cases): skipped
    data = body[skip:]
    cut = len(data) > limit
    if cut:
        data = data[:limit]
    if encoding == "utf-8":
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(data, not cut)
        except UnicodeDecodeError:
            text = codecs.getincrementaldecoder("utf-8")(_AS_OCTETS).decode(data, not cut)
            notes.append("non_utf8")
    else:
        text, error = decode(data, encoding, final=not cut)
        if error is not None:
            notes.append("non_utf8")
    if cut:
        # Drop the partial last line: a cut rule could say something it did not.
        stop = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: stop + 1] if stop >= 0 else ""
        notes.append("truncated")
    if _binary(text):
        notes.append("undecodable")
    return text, tuple(notes)


#: C0 controls that do not appear in text files (all but TAB, LF, VT, FF, CR and DOS's
#: end-of-file SUB).
_CONTROLS = re.compile("[\x01-\x08\x0e-\x19\x1b-\x1f]")


def _binary(text: str) -> bool:
    """Return True if *text* is not text: NUL characters, or over 1 % control characters."""
    text = text.rstrip("\x00")  # NUL padding after the end of a file is not content
    if "\x00" in text:
        return True
    return len(_CONTROLS.findall(text)) * 100 > len(text)
