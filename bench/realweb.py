"""A realistic synthetic web for the benchmarks: many hosts of pages laid out as sites are.

Each page is what a content management system serves: a head with a title, a dozen ``<meta>``
and ``<link>`` elements, inline CSS, JSON-LD and analytics scripts; a body with a header and its
navigation menu, breadcrumbs, the article (headline, byline, paragraphs with inline links and
emphasis, a figure, a list, a subheading or two), an aside of related links, a newsletter form, a
footer of link columns, a cookie banner and the scripts loaded at the end. Links go to pages of the
same host and to other hosts. Everything is deterministic in (host, page).

    page_bytes(host, n, hosts=40, pages=100)     # 20–60 KB of HTML (``size`` scales it)
    robots_txt(host)                             # a robots.txt with a few Disallow lines
    host_name(i)                                 # "site07.test"
"""

from __future__ import annotations

import random
import zlib

_VOCAB_TEXT = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no will "
    "more can out up about who some them into time only other could new these two may than then "
    "first any like now my such make over our even most after also did many before must through "
    "years where much your way well down should because each just those people how too little "
    "state good very world still own see men work long here get both between life being under "
    "never day same another know while last might us great old year off come since against go "
    "came right used take three himself few house use during without again place around however "
    "home small found thought went say part once general high upon school every does got united "
    "left number course war until always away something fact though water less public put think "
    "almost hand enough far took head yet government system better set told nothing night end why "
    "called didn eyes find going look asked later knew point next program city business give group "
    "toward young days let room president side social given present several order national "
    "possible rather second face per among form important often things looked early white case "
    "john become large big need four within felt along children saw best church ever least power "
    "development light thing seemed family interest want members mind country area others done "
    "turned although open god service certain kind problem began different door thus help sense "
    "means whole matter perhaps itself york times law human line above name example action company "
    "local show whether five history gave today either act feet across taken past quite anything "
    "seen having death week experience body word half really field am car words already themselves "
    "information tell together college shall money period held keep sure probably free seems "
    "political real behind cannot miss question air office making brought whose special major "
    "heard problems federal became study ago moment available known result street economic boy"
)
_VOCAB = _VOCAB_TEXT.split()
_SECTIONS_TEXT = (
    "News World Politics Business Technology Science Health Sport Culture Opinion Travel Food "
    "Books Music Film Education Climate Money Property Careers"
)
_SECTIONS = _SECTIONS_TEXT.split()
_FOOTER_TEXT = (
    "About us|Contact|Careers|Advertise|Press|Privacy policy|Cookie settings|Terms of use|"
    "Accessibility|Sitemap|Help centre|Newsletters|Subscriptions|Corrections|Archive|RSS feeds|"
    "Apps|Events|Shop|Podcasts|Jobs|Partners|Licensing|Syndication"
)
_FOOTER = _FOOTER_TEXT.split("|")

CSS = (
    "body{margin:0;font-family:Georgia,serif;color:#222;background:#fff}"
    ".site-header{display:flex;align-items:center;padding:0 1rem;border-bottom:1px solid #ddd}"
    ".nav-menu li{display:inline-block;margin:0 .5rem}.nav-menu a{color:#005;text-decoration:none}"
    ".breadcrumbs{font-size:.8rem;color:#666}.article-body p{line-height:1.6;max-width:42rem}"
    ".related li{margin:.3rem 0}.site-footer{background:#111;color:#ccc;padding:2rem}"
    ".cookie-banner{position:fixed;bottom:0;left:0;right:0;background:#333;color:#fff}"
    "@media (max-width:600px){.nav-menu{display:none}.article-body p{font-size:1.1rem}}"
) * 4
ANALYTICS = (
    "(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
    "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s),"
    "dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src='https://tags.example/gtm.js?id='+i+dl;"
    "f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-XXXX');"
    'window.__CONFIG__={"ads":{"slots":["top","side","bottom"],"lazy":true},'
    '"consent":{"version":3,"vendors":[1,2,3,4,5,6,7,8,9,10]}};'
) * 3


def host_name(i: int) -> str:
    """Return the name of host *i*."""
    return f"site{i:02d}.test"


def robots_txt(host: int) -> bytes:
    """Return host *host*'s robots.txt: a few paths disallowed that no page links to."""
    return (
        "# robots.txt\nUser-agent: *\nDisallow: /admin/\nDisallow: /search\nDisallow: /cart\n"
        f"Allow: /\n\nSitemap: http://{host_name(host)}/sitemap.xml\n"
    ).encode()


def _words(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choices(_VOCAB, k=n))


def _sentence(rnd: random.Random) -> str:
    s = _words(rnd, rnd.randint(8, 24))
    return s[0].upper() + s[1:] + rnd.choice(".....?!")


def page_path(n: int) -> str:
    """Return the path of page *n* of a host."""
    return f"/{_SECTIONS[n % len(_SECTIONS)].lower()}/article-{n}.html"


def page_index(path: str) -> int | None:
    """Return the page number of *path*, or None when it is not a page's path."""
    stem = path.rpartition("/article-")[2]
    if not stem.endswith(".html") or not stem[:-5].isdigit():
        return None
    n = int(stem[:-5])
    return n if page_path(n) == path else None


def page(host: int, n: int, *, hosts: int = 40, pages: int = 100, size: float = 1.0) -> str:
    """Return page *n* of host *host* (20–60 KB; *size* multiplies the article's length).

    Every page links to the next page of its host (so all are reachable from page 0), to about a
    dozen other pages of the host in its text, to more through its menus, tags and footer, to two
    paths robots.txt disallows, and to three pages of other hosts.
    """
    rnd = random.Random(host * 1_000_003 + n)
    name = host_name(host)
    title = _sentence(rnd).rstrip(".?!")
    section = _SECTIONS[n % len(_SECTIONS)]
    inner = [(n + 1) % pages] + [rnd.randrange(pages) for _ in range(12)]
    outer = [(rnd.randrange(hosts), rnd.randrange(pages)) for _ in range(3)]

    def here(k: int) -> str:
        return page_path(k)

    def there(h: int, k: int) -> str:
        return f"http://{host_name(h)}{page_path(k)}"

    head = [
        "<!DOCTYPE html>",
        '<html lang="en" class="no-js">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} | {section} | {name}</title>",
        f'<meta name="description" content="{_sentence(rnd)}">',
        f'<meta property="og:title" content="{title}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="http://{name}{here(n)}">',
        f'<meta property="og:image" content="http://{name}/img/{n}.jpg">',
        '<meta name="twitter:card" content="summary_large_image">',
        f'<meta name="author" content="{_words(rnd, 2).title()}">',
        '<meta name="robots" content="index, follow, max-image-preview:large">',
        f'<link rel="canonical" href="http://{name}{here(n)}">',
        '<link rel="icon" href="/favicon.ico" sizes="any">',
        '<link rel="stylesheet" href="/static/css/site.min.css?v=20261201">',
        '<link rel="preload" href="/static/fonts/serif.woff2" as="font" crossorigin>',
        f'<link rel="alternate" type="application/rss+xml" href="/{section.lower()}/feed.xml">',
        f"<style>{CSS}</style>",
        (
            '<script type="application/ld+json">{"@context":"https://schema.org","@type":'
            f'"NewsArticle","headline":"{title}","datePublished":"2026-11-{1 + n % 28:02d}",'
            f'"author":{{"@type":"Person","name":"{_words(rnd, 2).title()}"}}}}</script>'
        ),
        f"<script>{ANALYTICS}</script>",
        '<script async src="/static/js/app.min.js"></script>',
        "</head>",
    ]

    def hub(key: str) -> str:  # a menu, tag or footer link: to one of the host's pages
        return page_path(zlib.crc32(key.encode()) % pages)

    nav = "".join(f'<li class="menu-item"><a href="{hub(s)}">{s}</a></li>' for s in _SECTIONS)
    sub = "".join(
        f'<li><a href="{hub(section + w)}">{w.title()}</a></li>' for w in rnd.sample(_VOCAB, 10)
    )
    header = (
        '<body class="article-page">'
        '<a class="skip-link" href="#content">Skip to content</a>'
        '<header class="site-header" role="banner">'
        f'<a class="logo" href="{page_path(0)}"><img src="/logo.svg" alt="{name}"></a>'
        '<nav class="main-nav" aria-label="Main"><ul class="nav-menu">'
        f"{nav}</ul><ul class=sub-menu>{sub}</ul></nav>"
        '<form class="search" action="/search"><input name="q" placeholder="Search">'
        "<button>Search</button></form>"
        '<div class="account"><a href="/cart/login">Sign in</a> '
        '<a href="/search?q=subscribe">Subscribe</a>'
        "</div></header>"
        f'<nav class="breadcrumbs" aria-label="Breadcrumb"><a href="{page_path(0)}">Home</a> › '
        f'<a href="{hub(section)}">{section}</a> › <span>{title[:40]}</span></nav>'
    )
    links = iter(inner[1:])
    paragraphs = []
    for i in range(int(rnd.randint(22, 95) * size)):
        sentences = [_sentence(rnd) for _ in range(rnd.randint(3, 7))]
        if i % 3 == 1:
            k = next(links, None)
            if k is not None:
                j = rnd.randrange(len(sentences))
                sentences[j] = f'<a href="{here(k)}">{sentences[j]}</a>'
        if i % 4 == 2:
            sentences[0] = f"<em>{sentences[0]}</em>"
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
        if i == 6:
            paragraphs.append(f"<h2>{_sentence(rnd).rstrip('.?!')}</h2>")
        if i == 9:
            items = "".join(f"<li>{_sentence(rnd)}</li>" for _ in range(5))
            paragraphs.append(f"<ul>{items}</ul>")
        if i == 4:
            paragraphs.append(
                f'<figure><img src="/img/{n}-{i}.jpg" alt="{_words(rnd, 5)}" loading="lazy">'
                f"<figcaption>{_sentence(rnd)}</figcaption></figure>"
            )
    (h1, k1), (h2, k2), (h3, k3) = outer
    paragraphs.append(
        f'<p>See also <a href="{there(h1, k1)}">{_words(rnd, 4)}</a> and '
        f'<a href="{there(h2, k2)}">{_words(rnd, 5)}</a>.</p>'
    )
    article = (
        '<main id="content" class="site-main"><article class="post">'
        f'<header class="entry-header"><h1 class="entry-title">{title}</h1>'
        f'<div class="byline">By <a href="{hub(str(n % 17))}">{_words(rnd, 2).title()}</a>'
        f' · <time datetime="2026-11-{1 + n % 28:02d}">{1 + n % 28} November 2026</time>'
        "</div></header>"
        f'<div class="entry-content article-body">{"".join(paragraphs)}</div>'
        '<footer class="entry-footer"><ul class="tags">'
        + "".join(f'<li><a href="{hub(w)}">{w}</a></li>' for w in rnd.sample(_VOCAB, 6))
        + '</ul><div class="share"><a href="https://social.example/share">Share</a> '
        '<a href="mailto:?subject=x">Email</a></div></footer></article></main>'
    )
    related = "".join(f'<li><a href="{here(k)}">{_sentence(rnd)}</a></li>' for k in list(links)[:8])
    aside = (
        '<aside class="sidebar" role="complementary"><section class="widget related">'
        f"<h3>Most read</h3><ol>{related}</ol></section>"
        f'<section class="widget"><h3>From our partners</h3><ul><li><a href="{there(h3, k3)}">'
        f"{_sentence(rnd)}</a></li></ul></section>"
        '<section class="widget newsletter"><h3>Newsletter</h3><p>Get the best stories in your '
        'inbox every morning.</p><form action="/newsletter"><input type="email" name="email">'
        "<button>Sign up</button></form></section></aside>"
    )
    columns = "".join(
        "<div class='footer-col'><h4>"
        + _SECTIONS[c]
        + "</h4><ul>"
        + "".join(f'<li><a href="{hub(w)}">{w}</a></li>' for w in _FOOTER[c * 6 : c * 6 + 6])
        + "</ul></div>"
        for c in range(4)
    )
    footer = (
        f'<footer class="site-footer" role="contentinfo">{columns}'
        f"<p class='copyright'>© 2026 {name}. All rights reserved.</p></footer>"
        '<div class="cookie-banner" id="cookies"><p>We use cookies to improve your experience. '
        f'See our <a href="{hub("cookies")}">cookie policy</a>.</p><button>Accept all</button>'
        "<button>Manage</button></div>"
        f"<script>{ANALYTICS[:600]}</script>"
        '<script src="/static/js/comments.js" defer></script>'
        "</body></html>"
    )
    return "\n".join(head) + "\n" + header + article + aside + footer


def page_bytes(host: int, n: int, *, hosts: int = 40, pages: int = 100, size: float = 1.0) -> bytes:
    """Return :func:`page` encoded in UTF-8."""
    return page(host, n, hosts=hosts, pages=pages, size=size).encode()
