"""The head scan parses the head and only the places where an element may stand (issue 13).

``parse_head`` parses a page's head until it ends, to know where it ends; its ``<meta>`` and
``<link>`` elements are read where they may begin (each ``<meta`` or ``<link``), wherever they
stand (misplaced in the body: N13). Whatever a parse of the whole text collects, and whatever
Chromium's DOM holds, the scan collects too: compared here on realistic pages and on random
mixes of awkward markup (one of which showed html.parser missing a meta after ``<!-->``, a
comment browsers close at once).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from optout.html_head import DEFAULT_LIMIT, parse_head

NOAI = '<meta name="robots" content="noai">'


class _Everything(HTMLParser):
    """The reference: every meta and link start tag of the whole text, as html.parser sees it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a: dict[str, str] = {}
        for k, v in attrs:  # the first of a repeated attribute wins, as in the DOM
            a.setdefault(k.lower(), v or "")
        line = self.getpos()[0]
        if tag == "meta":
            name = (a.get("name") or a.get("property") or a.get("http-equiv") or "").strip()
            if name:
                self.found.append(("meta", name.lower() + "=" + a.get("content", ""), line))
        elif tag == "link" and a.get("rel", "").split():
            self.found.append(("link", " ".join(a["rel"].lower().split()), line))

    handle_startendtag = handle_starttag


def _reference(text: str) -> list[tuple[str, str, int]]:
    parser = _Everything()
    parser.feed(text)
    parser.close()
    return parser.found


def _scanned(text: str) -> list[tuple[str, str, int]]:
    head = parse_head(text)
    return [("meta", f"{m.name}={m.content}", m.line) for m in head.metas] + [
        ("link", " ".join(link.rel), link.line) for link in head.links
    ]


def _covers(scanned: list[tuple[str, str, int]], reference: list[tuple[str, str, int]]) -> bool:
    rest = list(scanned)
    for element in reference:
        if element not in rest:
            return False
        rest.remove(element)
    return True


def _page(head: str, body: str) -> str:
    return f"<!DOCTYPE html>\n<html><head>\n{head}\n</head>\n<body>\n{body}\n</body></html>"


def test_misplaced_elements_far_into_the_body_are_read() -> None:
    """A reservation 200 KB into the body, in any case, with a long tag, still counts."""
    filler = "<div><p>" + "words and more words " * 10 + "</p></div>\n"
    long_attr = "x" * 5000
    body = (
        filler * 1000
        + '<META NAME="tdm-reservation" CONTENT="1">\n'
        + filler * 10
        + f'<link data-x="{long_attr}" rel="License" href="/licence.xml">'
        + filler
        + NOAI
    )
    text = _page("<title>t</title>", body)
    assert len(text) < DEFAULT_LIMIT
    head = parse_head(text)
    assert head.incomplete is None
    assert [m.name for m in head.metas] == ["tdm-reservation", "robots"]
    assert [link.rel for link in head.links] == [("license",)]
    assert _covers(_scanned(text), _reference(text))
    assert head.metas[0].line == text[: text.index("<META")].count("\n") + 1


def test_a_realistic_page_is_read_as_a_whole_parse_reads_it() -> None:
    """A CMS-like page: head elements and a few microdata metas in the body, lines included."""
    head = "\n".join(
        [
            '<meta charset="utf-8">',
            "<title>An article</title>",
            '<meta name="description" content="d">',
            '<link rel="stylesheet" href="/s.css">',
            "<style>" + "p{margin:0}\n" * 300 + "</style>",
            "<script>" + "var a = '<meta name=fake content=1>';\n" * 50 + "</script>",
            '<meta name="tdm-reservation" content="0">',
        ]
    )
    body = (
        '<header><nav><a href="/">Home</a></nav></header>\n'
        + '<article itemscope><meta itemprop="x" name="author" content="A. Writer">\n'
        + "<p>text</p>\n" * 400
        + '<link rel="license" href="/licence">\n'
        + "</article>\n<!-- <meta name='robots' content='noai'> -->\n<footer>f</footer>"
    )
    text = _page(head, body)
    scanned = _scanned(text)
    assert _covers(scanned, _reference(text))
    names = [s for kind, s, _ in scanned if kind == "meta"]
    assert "author=A. Writer" in names
    assert "tdm-reservation=0" in names
    # Past the head, a tag written inside a comment counts too: more reservations, never fewer.
    assert "robots=noai" in names


FRAGMENTS = [
    "<title>a <b>b</b></title>",
    "<style>p{}</style>",
    "<style>",
    "</style>",
    "<script>var s = '</scr' + 'ipt>';</script>",
    "<script>",
    "</script>",
    "<noscript><img src=x></noscript>",
    "<template><div>t</div></template>",
    "<!-- c -->",
    "<!--",
    "-->",
    "<!DOCTYPE html>",
    "<?xml version='1.0'?>",
    "</head>",
    "<body>",
    "<div>",
    "</div>",
    "<p>text</p>",
    "text",
    "\n",
    " ",
    '<a href="/x" title="<meta name=in content=attr>">l</a>',
    '<div class="a>b">',
    '<div a"b>',
    "<meta name=robots content=noai>",
    '<META NAME="TDM-Reservation" CONTENT="1"/>',
    '<meta property="og:title" content="x">',
    "<meta name=x content='a>b'>",
    '<link rel="license" href="/l">',
    "<LINK REL=License HREF=/l>",
    "<link rel=stylesheet href=s.css>",
    "<metadata>",
    '<meta name="robots" name="x" content="noai">',
    "<meta name=robots content=no'ai>",
    '<meta name=robots content="noai>',
    "<meta name = robots content= noai /",
    "<link rel=license href=/l title='&amp;'>",
    "<meta",
    "<link",
    ">",
    "<",
    '"',
    "'",
    "&amp;",
    "<br/>",
]
_FRAGMENTS = st.sampled_from(FRAGMENTS)


@settings(max_examples=400, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=60), st.integers(min_value=0, max_value=3000))
def test_the_scan_sees_whatever_a_whole_parse_sees(parts: list[str], pad: int) -> None:
    """Random markup, after a head of varying length: nothing a whole parse collects is missed."""
    text = "<html><head><title>" + "t" * pad + "</title>" + "".join(parts)
    assert _covers(_scanned(text), _reference(text))


# -- what a browser sees -------------------------------------------------------------------------

_BROWSER_METAS = """() => [
    ...Array.from(document.querySelectorAll('meta'), (m) => ['meta',
        ((m.getAttribute('name') || m.getAttribute('property') || m.getAttribute('http-equiv')
          || '').trim().toLowerCase()) + '=' + (m.getAttribute('content') || '')]),
    ...Array.from(document.querySelectorAll('link'), (l) => ['link',
        (l.getAttribute('rel') || '').toLowerCase().split(/[ \\t\\n\\f\\r]+/).filter(Boolean)
          .join(' ')]),
].filter(([kind, value]) => kind === 'link' ? value !== '' : !value.startsWith('='))"""


def _browser_documents() -> list[str]:
    """Documents of awkward markup (fixed random mixes of the fragments) and realistic pages."""
    import random

    fragments = FRAGMENTS
    rnd = random.Random(13)
    documents = [
        "<html><head><title>"
        + "t" * rnd.randrange(3000)
        + "</title>"
        + "".join(rnd.choices(fragments, k=rnd.randrange(60)))
        for _ in range(40)
    ]
    documents += ["<html><head>" + fragment + "</head>" for fragment in fragments]
    documents.append(
        _page(
            "<meta charset=utf-8><title>t</title>" + NOAI,
            "<p>x</p>" * 500
            + '<meta name="tdm-reservation" content="1"><link rel=license href=/l>',
        )
    )
    return documents


def test_the_scan_sees_every_element_the_browser_sees(tmp_path: Path) -> None:
    """Chromium's DOM: every meta and link it has, the scan has too (same name and content)."""
    from tests.support.browser import launch_browser

    documents = _browser_documents()
    with launch_browser() as browser:
        for n, document in enumerate(documents):
            path = tmp_path / f"doc{n}.html"
            path.write_text(document, encoding="utf-8")
            with browser.open(path) as loaded:
                seen = [tuple(found) for found in loaded.page.evaluate(_BROWSER_METAS)]
            scanned = [(kind, value) for kind, value, _ in _scanned(document)]
            rest = list(scanned)
            for element in seen:
                assert element in rest, (n, element, document)
                rest.remove(element)


def test_attributes_are_read_as_the_dom_has_them() -> None:
    """The first of a repeated attribute wins (html.parser would take the last: a reservation
    hidden from it); a quote inside an unquoted value is part of it; references are decoded."""
    head = parse_head(
        '<meta name="tdm-reservation" name="x" content="1" content="0">'
        "<meta name=robots content=no'ai><link rel=license href='/l?a=1&amp;b=2'>"
    )
    assert [(m.name, m.content) for m in head.metas] == [
        ("tdm-reservation", "1"),
        ("robots", "no'ai"),
    ]
    assert [link.href for link in head.links] == ["/l?a=1&b=2"]
    unended = parse_head('<meta name=robots content="noai>' + "<p>text</p>" * 10)
    assert unended.metas == ()  # the quote never closes: the tag runs to the end, dropped


def test_unclosed_tags_are_bounded_work_and_not_complete() -> None:
    """A page of unclosed ``<meta a='`` (the parser's worst case: quadratic per tag) is read in
    bounded work and said not complete, so it defers; a long tag that ends is still read."""
    from optout.html_head import parse_head

    hostile = parse_head(("<head></head><body>" + "<meta a='" * 50_000).encode())
    assert hostile.incomplete is not None
    assert "without an end" in hostile.incomplete
    # A head of unended tags past the scan limit: where the head ends is parsed only so far,
    # never again from each '<' at the end (html.parser's close() is quadratic on it).
    unended = parse_head(("<html><head>" + "<p a=x " * 100_000).encode())
    assert unended.incomplete is not None
    assert "scan limit" in unended.incomplete
    icon = "<head><link rel=icon href='data:" + "A" * 70_000 + "'>"
    fine = parse_head((icon + "<meta name=robots content=noai></head>").encode())
    assert fine.incomplete is None
    assert [(m.name, m.content) for m in fine.metas] == [("robots", "noai")]
