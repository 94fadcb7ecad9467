"""``heed check``: ask, live, whether URLs may be crawled and whether their use is reserved."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import textwrap
from functools import partial
from typing import Any

import click

from crawler.config import OptoutConfig, OptoutConfigError
from crawler.denylist import Denylist
from crawler.registry import load_registry
from heed.checkrun import check_each
from heed.cli.errors import ConfigRefused
from heed.livecheck import CheckResult
from optout.decision import Crawl, Use
from optout.registry import Registry
from optout.robots import product_token

#: Wrap at spaces only: URLs and rule text must stay copy-pastable.
_wrap = partial(textwrap.wrap, break_long_words=False, break_on_hyphens=False)

_CRAWL_STYLE = {Crawl.ALLOW: "green", Crawl.DISALLOW: "red", Crawl.DEFER: "yellow"}
_USE_STYLE = {Use.NOT_RESERVED: "green", Use.RESERVED: "red", Use.UNKNOWN: "yellow"}


class HumanTable:
    """The readable table, printed row by row as results arrive (column widths from the URLs
    asked, so that no row waits for the others)."""

    def __init__(self, urls: list[str], purpose: str) -> None:
        self.width = min(shutil.get_terminal_size((100, 20)).columns, 140)
        self.url_w = max(20, min(60, max((len(u) for u in urls), default=20)))
        self.use_w = max(len(f"USE ({purpose})"), 12)
        self.purpose = purpose

    def head(self) -> str:
        """Return the heading and its rule."""
        use = f"USE ({self.purpose})"
        head = f"{'URL':<{self.url_w}}  {'CRAWL':<8}  {use:<{self.use_w}}  A CRAWL WOULD"
        return click.style(head, bold=True) + "\n" + "-" * min(self.width, len(head) + 20)

    def row(self, r: CheckResult) -> str:
        """Return one URL's block: its verdicts, reasons, notes and the signals behind them."""
        d, url_w, width = r.decision, self.url_w, self.width
        url = r.url if len(r.url) <= url_w else r.url[: url_w - 1] + "…"
        crawl = click.style(f"{d.crawl.value:<8}", fg=_CRAWL_STYLE[d.crawl])
        use = click.style(f"{d.use.value:<{self.use_w}}", fg=_USE_STYLE[d.use])
        lines = [f"{url:<{url_w}}  {crawl}  {use}  {r.action.value}"]
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
        return "\n".join(lines) + "\n"


def check_config(
    config_file: str | None, set_settings: tuple[str, ...], token: str | None, info_url: str | None
) -> tuple[OptoutConfig, Denylist | None, Registry, int]:
    """Return the checks' configuration, read as ``heed crawl`` reads it (``[settings]``,
    ``[crawl] token``, ``-s``, then the options), the denylist, the reservations registry of the
    audit database a crawl with these settings would write to, and the page size limit."""
    from crawler.run import CrawlConfigError, load_config, parse_setting, project_settings

    try:
        crawl_table, overrides = load_config(config_file) if config_file else ({}, {})
    except CrawlConfigError as exc:
        raise ConfigRefused(str(exc)) from None
    try:
        overrides = dict(overrides) | dict(parse_setting(s) for s in set_settings)
    except CrawlConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    token = token or crawl_table.get("token")
    if token:
        overrides["OPTOUT_USER_AGENT_TOKEN"] = token
    if info_url:
        overrides["OPTOUT_INFO_URL"] = info_url
    settings = project_settings(overrides)
    try:
        config = OptoutConfig.from_settings(settings)
        denylist = config.load_denylist()
        registry = load_registry(settings)
    except OptoutConfigError as exc:
        raise ConfigRefused(str(exc)) from None
    try:
        page_maxsize = settings.getint("DOWNLOAD_MAXSIZE")
    except ValueError as exc:
        raise ConfigRefused(f"DOWNLOAD_MAXSIZE: {exc}") from None
    return config, denylist, registry, page_maxsize


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option(
    "--token",
    default=None,
    help="Crawler product token (letters, '-' and '_'; default: the configured one, HeedBot).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per URL.")
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds per request (documents: at most OPTOUT_DOCUMENT_TIMEOUT).",
)
@click.option("--user-agent", default=None, help="Full User-Agent (default: built from the token).")
@click.option(
    "--info-url",
    default=None,
    help="Crawler info URL in the User-Agent (default: OPTOUT_INFO_URL).",
)
@click.option(
    "--deadline",
    default=120.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds for the whole run; URLs still unanswered then defer (0: no deadline).",
)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="A heed.toml file.")
@click.option("-s", "--set", "set_settings", multiple=True, metavar="NAME=VALUE", help="Setting.")
def check(
    urls: tuple[str, ...],
    token: str | None,
    as_json: bool,
    timeout: float,
    user_agent: str | None,
    info_url: str | None,
    deadline: float,
    config_file: str | None,
    set_settings: tuple[str, ...],
) -> None:
    """Check URLs live: may they be crawled, and is their use for AI training reserved?

    The same checks as `heed crawl`, with the same settings (--config heed.toml, -s NAME=VALUE):
    per origin robots.txt first, then /.well-known/tdmrep.json, /ai.txt and RSL licences when
    some URL may be crawled; a page is requested only where a crawl would request it, and its
    headers and HTML meta are read. The reservations registry of the audit database a crawl
    would write to (HEED_DB, else $HEED_DB, else ./heed.db, when it exists) applies as in a
    crawl. Nothing is recorded. Honours HTTP_PROXY / HTTPS_PROXY.

    Exit status: 0 when every URL may be crawled and used for the configured purpose, 1 when
    any is disallowed, deferred, reserved or unknown, 2 on a usage or configuration error.

    \b
    Example:
      heed check https://example.org/article --json
    """
    if token is not None and (product_token(token) != token.lower() or token == "*"):
        raise click.BadParameter(
            "a product token uses only letters, '-' and '_' (RFC 9309 §2.2.1)", param_hint="--token"
        )
    config, denylist, registry, page_maxsize = check_config(
        config_file, set_settings, token, info_url
    )
    ua = user_agent or config.user_agent
    if config.token.lower() not in ua.lower():
        raise click.BadParameter(
            "the User-Agent must contain the product token", param_hint="--user-agent"
        )
    usable = asyncio.run(
        _run(
            list(urls),
            config,
            as_json=as_json,
            user_agent=ua,
            denylist=denylist,
            registry=registry,
            timeout=timeout,
            page_maxsize=page_maxsize,
            deadline=deadline or None,
        )
    )
    if not usable:
        sys.exit(1)  # some URL may not be crawled, or its use is reserved or unknown


async def _run(urls: list[str], config: OptoutConfig, *, as_json: bool, **options: Any) -> bool:
    """Print each URL's result as soon as it is known; return True if every URL may be crawled
    and used for the configured purpose."""
    table = HumanTable(urls, config.policy.purpose.value)
    if not as_json:
        click.echo(table.head())
    usable = True
    async for result in check_each(urls, config, **options):
        decision = result.decision
        usable = usable and decision.crawl is Crawl.ALLOW and decision.use is Use.NOT_RESERVED
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        else:
            click.echo(table.row(result))
    return usable
