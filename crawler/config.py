"""The ``OPTOUT_*`` settings, read and checked once (the defaults and their meaning: defaults.py).

A setting that would weaken compliance does not silently lose: it stops the crawl before it
starts with :class:`~crawler.exceptions.OptoutConfigError` (only ``OPTOUT_ENABLED = False``
switches the middleware off, with Scrapy's ``NotConfigured``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, TypeVar

from crawler import defaults as d
from crawler.denylist import Denylist
from optout.decision import Policy, PolicyError, policy_from_knobs
from optout.robots import product_token, user_agent

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

#: The prefixes of Heed's own settings: every such name must be one crawler/defaults.py defines.
HEED_PREFIXES = ("OPTOUT_", "HEED_")
#: RFC 9309 §2.5: the parsing limit "MUST be at least 500 kibibytes".
MIN_ROBOTS_MAXSIZE = 500 * 1024
#: Statuses that mean "not for you": retrying them, with or without variations, is circumvention.
ACCESS_STATUSES = frozenset({401, 402, 403})

_T = TypeVar("_T")


class OptoutConfigError(ValueError):
    """A setting that would weaken compliance or cannot be honoured; raised at start-up."""


def heed_version() -> str:
    """Return the installed Heed version (``0`` when run from an uninstalled tree)."""
    try:
        return version("heed")
    except PackageNotFoundError:
        return "0"


def user_agent_for(token: str, info_url: str) -> str:
    """Return the crawler's one User-Agent, naming this Heed version (:func:`optout.robots.user_agent`)."""
    return user_agent(token, heed_version(), info_url)


@dataclass(frozen=True, slots=True, kw_only=True)
class OptoutConfig:
    """The middleware's configuration, from the ``OPTOUT_*`` settings."""

    token: str
    user_agent: str
    policy: Policy
    denylist: str | None
    crawl_delay_max: float
    cache_size: int
    robots_maxsize: int
    document_maxsize: int
    document_timeout: float
    defer_ttl: float
    min_ttl: float
    fetch_ai_txt: bool
    max_licences: int
    max_page_redirects: int
    #: True when the crawl keeps what it fetches (``HEED_OUT`` or a Scrapy ``FEEDS`` export);
    #: without one, a usable page is recorded ``fetched-not-kept``, never "stored".
    keeps_dataset: bool = True

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> OptoutConfig:
        """Return the configuration in *settings*; raise OptoutConfigError if it is unsafe.

        A missing ``OPTOUT_*`` setting takes its value from crawler/defaults.py, so the
        middleware keeps Heed's defaults when enabled in another Scrapy project.
        """
        check_heed_names(settings)
        check_scrapy_settings(settings)
        token = str(settings.get("OPTOUT_USER_AGENT_TOKEN") or d.OPTOUT_USER_AGENT_TOKEN)
        if not token or token == "*" or product_token(token) != token.lower():
            raise OptoutConfigError(
                f"OPTOUT_USER_AGENT_TOKEN {token!r}: a product token uses only letters, '-' and "
                "'_' (RFC 9309 §2.2.1)"
            )
        robots_maxsize = _read(settings.getint, "OPTOUT_ROBOTS_MAXSIZE", d.OPTOUT_ROBOTS_MAXSIZE)
        if robots_maxsize < MIN_ROBOTS_MAXSIZE:
            raise OptoutConfigError(
                f"OPTOUT_ROBOTS_MAXSIZE {robots_maxsize}: RFC 9309 §2.5 requires parsing at least "
                f"{MIN_ROBOTS_MAXSIZE} bytes"
            )
        policy = policy_from(
            _read(settings.getdict, "OPTOUT_POLICY", d.OPTOUT_POLICY), robots_maxsize
        )
        redirects = _read(settings.getint, "OPTOUT_MAX_PAGE_REDIRECTS", d.OPTOUT_MAX_PAGE_REDIRECTS)
        # Scrapy raises IgnoreRequest itself past REDIRECT_MAX_TIMES, where the middleware never
        # sees it; stopping one hop earlier keeps "one decision per attempt" true.
        redirects = max(0, min(redirects, _read(settings.getint, "REDIRECT_MAX_TIMES", 20) - 1))
        numbers = {
            "OPTOUT_CRAWL_DELAY_MAX": _read(
                settings.getfloat, "OPTOUT_CRAWL_DELAY_MAX", d.OPTOUT_CRAWL_DELAY_MAX
            ),
            "OPTOUT_CACHE_SIZE": _read(settings.getint, "OPTOUT_CACHE_SIZE", d.OPTOUT_CACHE_SIZE),
            "OPTOUT_DOCUMENT_MAXSIZE": _read(
                settings.getint, "OPTOUT_DOCUMENT_MAXSIZE", d.OPTOUT_DOCUMENT_MAXSIZE
            ),
            "OPTOUT_DOCUMENT_TIMEOUT": _read(
                settings.getfloat, "OPTOUT_DOCUMENT_TIMEOUT", d.OPTOUT_DOCUMENT_TIMEOUT
            ),
            "OPTOUT_DEFER_TTL": _read(settings.getfloat, "OPTOUT_DEFER_TTL", d.OPTOUT_DEFER_TTL),
            "OPTOUT_CACHE_MIN_TTL": _read(
                settings.getfloat, "OPTOUT_CACHE_MIN_TTL", d.OPTOUT_CACHE_MIN_TTL
            ),
        }
        for name, value in numbers.items():
            if value <= 0 and name != "OPTOUT_CACHE_MIN_TTL":
                raise OptoutConfigError(f"{name} must be positive, got {value}")
        return cls(
            token=token,
            user_agent=user_agent_for(
                token, str(settings.get("OPTOUT_INFO_URL") or d.OPTOUT_INFO_URL)
            ),
            policy=policy,
            denylist=settings.get("OPTOUT_DENYLIST", d.OPTOUT_DENYLIST) or None,
            crawl_delay_max=numbers["OPTOUT_CRAWL_DELAY_MAX"],
            cache_size=int(numbers["OPTOUT_CACHE_SIZE"]),
            robots_maxsize=robots_maxsize,
            document_maxsize=int(numbers["OPTOUT_DOCUMENT_MAXSIZE"]),
            document_timeout=numbers["OPTOUT_DOCUMENT_TIMEOUT"],
            defer_ttl=numbers["OPTOUT_DEFER_TTL"],
            min_ttl=max(0.0, numbers["OPTOUT_CACHE_MIN_TTL"]),
            fetch_ai_txt=_read(settings.getbool, "OPTOUT_AI_TXT", d.OPTOUT_AI_TXT),
            max_licences=max(
                0, _read(settings.getint, "OPTOUT_RSL_LICENCES", d.OPTOUT_RSL_LICENCES)
            ),
            max_page_redirects=redirects,
            keeps_dataset=bool(settings.get("HEED_OUT") or settings.getdict("FEEDS")),
        )

    def load_denylist(self) -> Denylist | None:
        """Return the denylist in the ``OPTOUT_DENYLIST`` file (None when there is none).

        Raise OptoutConfigError if the file cannot be read: a denylist that was asked for is
        never silently dropped.
        """
        if not self.denylist:
            return None
        try:
            return Denylist.load(self.denylist)
        except OSError as exc:
            raise OptoutConfigError(
                f"OPTOUT_DENYLIST {self.denylist!r}: cannot read it: {exc.strerror or exc}"
            ) from exc


def policy_from(knobs: dict[str, Any], robots_maxsize: int) -> Policy:
    """Return the Policy with *knobs* (``OPTOUT_POLICY``) over Heed's defaults."""
    try:
        return policy_from_knobs(knobs, robots_maxsize)
    except PolicyError as exc:
        raise OptoutConfigError(f"OPTOUT_POLICY: {exc}") from None


def _read(get: Callable[[str, Any], _T], name: str, default: Any) -> _T:
    """Return ``get(name, default)``; a value of the wrong type is an OptoutConfigError naming
    the setting (``-s OPTOUT_CACHE_SIZE=lots``)."""
    try:
        return get(name, default)
    except (ValueError, TypeError) as exc:
        raise OptoutConfigError(f"{name}: {exc}") from None


def check_heed_names(settings: BaseSettings) -> None:
    """Raise OptoutConfigError for an ``OPTOUT_*``/``HEED_*`` setting Heed does not have: a typo
    (``OPTOUT_ENABLEDD``) would otherwise leave the default silently in place."""
    known = {name for name in vars(d) if name.startswith(HEED_PREFIXES)}
    for name in sorted(str(key) for key in settings):
        if name.startswith(HEED_PREFIXES) and name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else " (see crawler/defaults.py)"
            raise OptoutConfigError(f"unknown setting {name}{hint}")


def check_scrapy_settings(settings: BaseSettings) -> None:
    """Raise OptoutConfigError if Scrapy settings would undo what the middleware guarantees."""
    if _read(settings.getbool, "ROBOTSTXT_OBEY", False):
        # The stock middleware would fetch robots.txt a second time, fail open on errors, and
        # its robots.txt request would reach Heed's middleware as a page.
        raise OptoutConfigError(
            "ROBOTSTXT_OBEY must be False: Heed's RightsReservationMiddleware replaces Scrapy's "
            "RobotsTxtMiddleware (which fails open on 5xx and network errors) and still obeys "
            "robots.txt"
        )
    if _read(settings.getbool, "COOKIES_ENABLED", False):
        # Code of Practice Measure 1.2(1)(a): no session replay around access controls.
        raise OptoutConfigError(
            "COOKIES_ENABLED must be False: Heed's crawler sends no cookies, so that no session "
            "is replayed around a login wall or paywall"
        )
    try:
        codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
    except (ValueError, TypeError) as exc:
        raise OptoutConfigError(f"RETRY_HTTP_CODES: {exc}") from None
    retried = ACCESS_STATUSES & codes
    if retried:
        raise OptoutConfigError(
            f"RETRY_HTTP_CODES must not contain {sorted(retried)}: access restrictions are "
            "recorded, never retried around"
        )
