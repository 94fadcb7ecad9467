"""``heed check``: ask, live, whether URLs may be crawled and whether their use is reserved."""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from functools import partial

import click

from heed.livecheck import CheckResult, check_urls
from optout.decision import DEFAULT_POLICY, Crawl, Use
from optout.robots import product_token

DEFAULT_TOKEN = "HeedBot"


def user_agent_for(token: str, info_url: str) -> str:
    """Return the User-Agent string that carries *token* (RFC 9309 §2.2.1: token as a substring)."""
    from importlib.metadata import version

    return f"Mozilla/5.0 (compatible; {token}/{version('heed')}; +{info_url})"


#: Wrap at spaces only: URLs and rule text must stay copy-pastable.
_wrap = partial(textwrap.wrap, break_long_words=False, break_on_hyphens=False)

_CRAWL_STYLE = {Crawl.ALLOW: "green", Crawl.DISALLOW: "red", Crawl.DEFER: "yellow"}
_USE_STYLE = {Use.NOT_RESERVED: "green", Use.RESERVED: "red", Use.UNKNOWN: "yellow"}


def render_human(results: list[CheckResult]) -> str:
    """Return a readable table: one row per URL, its reasons and the signals behind them."""
    width = min(shutil.get_terminal_size((100, 20)).columns, 140)
    url_w = max(20, min(60, max((len(r.url) for r in results), default=20)))
    purpose = results[0].decision.purpose.value if results else DEFAULT_POLICY.purpose.value
    head = f"{'URL':<{url_w}}  {'CRAWL':<8}  USE ({purpose})"
    lines = [click.style(head, bold=True), "-" * min(width, len(head) + 20)]
    for r in results:
        d = r.decision
        url = r.url if len(r.url) <= url_w else r.url[: url_w - 1] + "…"
        crawl = click.style(f"{d.crawl.value:<8}", fg=_CRAWL_STYLE[d.crawl])
        use = click.style(d.use.value, fg=_USE_STYLE[d.use])
        lines.append(f"{url:<{url_w}}  {crawl}  {use}")
        if r.final_url and r.final_url != r.url:
            lines.append(f"    redirected to {r.final_url}")
        for reason in d.reasons:
            lines.extend(
                _wrap(reason, width - 4, initial_indent="    why: ", subsequent_indent="         ")
            )
        for note in r.notes:
            lines.append(f"    note: {note}")
        for sig in d.signals:
            text = f"{sig.protocol.value} → {sig.verdict}: {sig.detail}"
            if sig.source and sig.source != r.url:
                text += f" ({sig.source})"
            lines.extend(
                _wrap(text, width - 4, initial_indent="    · ", subsequent_indent="      ")
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option(
    "--token",
    default=DEFAULT_TOKEN,
    show_default=True,
    help="Crawler product token (letters, '-' and '_').",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per URL.")
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds per request.",
)
@click.option("--user-agent", default=None, help="Full User-Agent (default: built from the token).")
@click.option(
    "--info-url",
    default="https://github.com/heed-project/heed",
    show_default=True,
    help="Crawler info URL in the User-Agent.",
)
def check(
    urls: tuple[str, ...],
    token: str,
    as_json: bool,
    timeout: float,
    user_agent: str | None,
    info_url: str,
) -> None:
    """Check URLs live: may they be crawled, and is their use for AI training reserved?

    Per origin, robots.txt, /.well-known/tdmrep.json and /ai.txt are fetched once; a page is
    requested only if robots.txt allows it, and its headers and HTML meta are read. Honours
    HTTP_PROXY / HTTPS_PROXY.

    \b
    Example:
      heed check https://example.org/article --json
    """
    if product_token(token) != token.lower() or token == "*":
        raise click.BadParameter(
            "a product token uses only letters, '-' and '_' (RFC 9309 §2.2.1)", param_hint="--token"
        )
    ua = user_agent or user_agent_for(token, info_url)
    if token.lower() not in ua.lower():
        raise click.BadParameter(
            "the User-Agent must contain the product token", param_hint="--user-agent"
        )
    results = asyncio.run(check_urls(list(urls), token=token, user_agent=ua, timeout=timeout))
    if as_json:
        for r in results:
            click.echo(json.dumps(r.to_dict(), ensure_ascii=False))
    else:
        click.echo(render_human(results), nl=False)
