"""The portal's own pages: Jinja2 templates in the published documents' style, and links.

The environment is policy/render.py's, with one more template folder in front: autoescaping on
for every HTML template (a domain typed into the look-up form, a provider statement, a signal
document's text are all untrusted), undefined variables are errors, and the pages extend the
published documents' ``_base.html.j2`` (one file, stylesheet inline, no script). The published
documents themselves are rendered by policy/'s own functions; the portal only puts its
navigation bar after their ``<body>`` (:func:`with_nav`), so that every page leads back.

Links are absolute when ``--public-url`` is given (the Atom feed needs absolute links anyway:
then the request's own base URL, which behind a trusted proxy is the forwarded one).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from heed.serve.settings import ServeSettings

#: The portal's navigation: path → label.
NAV = (
    ("/", "Home"),
    ("/lookup", "Was my opt-out honoured?"),
    ("/crawler-info", "Crawler information"),
    ("/policy", "Copyright policy"),
    ("/summary", "Training-content summary"),
    ("/versions", "All versions"),
    ("/complaints", "Complaints"),
)
_NAV_STYLE = "margin:0 0 1.5rem;padding:.5rem 0;border-bottom:1px solid #d0d7de;font-size:.95rem"


@cache
def environment() -> Environment:
    """Return the portal's Jinja2 environment (its templates, then policy/'s)."""
    env = Environment(
        loader=ChoiceLoader(
            [PackageLoader("heed.serve", "templates"), PackageLoader("policy", "templates")]
        ),
        autoescape=select_autoescape(("html", "xml", "html.j2", "xml.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = lambda n: f"{int(n):,}"
    env.filters["day"] = day
    env.filters["moment"] = moment
    return env


def day(value: Any) -> str:
    """Return a datetime as ``4 December 2026`` (UTC), or an em dash for None."""
    if value is None:
        return "—"
    return f"{value.day} {value:%B %Y}"


def moment(value: Any) -> str:
    """Return a datetime as ``4 December 2026, 19:15 UTC``, or an em dash for None."""
    if value is None:
        return "—"
    return f"{day(value)}, {value:%H:%M} UTC"


def settings_of(request: Request) -> ServeSettings:
    """Return the server's settings."""
    settings: ServeSettings = request.app.state.settings
    return settings


def base_url(request: Request) -> str:
    """Return the portal's base URL without a trailing slash: ``--public-url``, else the
    request's."""
    return settings_of(request).base() or str(request.base_url).rstrip("/")


def link(request: Request, path: str) -> str:
    """Return the link to *path* (``/lookup``): absolute with ``--public-url``, else as given."""
    base = settings_of(request).base()
    return base + path if base else path


def nav(request: Request) -> Markup:
    """Return the navigation bar."""
    links = " · ".join(
        f'<a href="{escape(link(request, path))}">{escape(label)}</a>' for path, label in NAV
    )
    return Markup(f'<nav class="portal" style="{_NAV_STYLE}">{links}</nav>')


def with_nav(request: Request, html: str) -> str:
    """Return a published page with the portal's navigation bar after its ``<body>``."""
    head, found, rest = html.partition("<body>")
    if not found:
        return html
    return f"{head}<body>\n{nav(request)}{rest}"


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render the portal template *template* as an HTML response."""
    settings = settings_of(request)
    html = (
        environment()
        .get_template(template)
        .render(
            nav=nav(request),
            link=lambda path: link(request, path),
            heed_version=settings.heed_version,
            provider=request.app.state.statements.provider.name,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)
