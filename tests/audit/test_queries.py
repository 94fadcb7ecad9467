"""Look-ups: every target form, date ranges, order, and no other domain's data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from audit import Action, AuditStore, TargetError, TargetKind, parse_target, parse_when
from audit.queries import count, lookup
from tests.audit.conftest import T0, decide, header_signal, robots_fetch, robots_signal

HOUR = dt.timedelta(hours=1)

#: (URL, hours after T0). Several domains that a sloppy match would confuse with example.com.
URLS = [
    ("https://example.com/", 0),
    ("https://example.com/docs/a", 1),
    ("https://example.com/docs/a", 30),  # the same URL again, a day later
    ("https://example.com/docs/ab", 2),
    ("https://example.com/docs/b", 3),
    ("http://example.com/docs/a", 4),
    ("https://example.com:8443/x", 5),
    ("https://www.example.com/a", 6),
    ("https://blog.example.com/p", 7),
    ("https://x.blog.example.com/q", 8),
    ("https://www.example.co.uk/", 9),
    ("https://notexample.com/", 10),
    ("https://example.com.evil.org/", 11),
    ("https://xn--bcher-kva.example/", 12),
    ("http://127.0.0.1:8080/", 13),
]


@pytest.fixture
def populated(db_url: str) -> str:
    """Return a database holding one decision per entry of URLS (items for https URLs)."""
    with AuditStore.open(db_url) as store:
        run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
        for n, (url, hours) in enumerate(URLS):
            origin = url.split("/", 3)[:3]
            doc = robots_fetch("/".join(origin))
            store.record_document(doc, kind="robots.txt", run_id=run)
            signals = [robots_signal(doc), header_signal(url, reserved=n % 2 == 1)]
            action = Action.FETCHED_EXCLUDED if n % 2 else Action.FETCHED_STORED
            did = store.record_decision(
                run, decide(url, *signals), action, time=T0 + hours * HOUR, request_key=str(n)
            )
            if action is Action.FETCHED_STORED:
                store.record_item(did, url=url, content_type="text/html", size=100)
    return db_url


def urls(engine: Engine, target: str, **kw: object) -> list[str]:
    """Return the URLs the look-up of *target* yields, in order."""
    return [r.url for r in lookup(engine, parse_target(target), **kw)]  # type: ignore[arg-type]


def test_domain_covers_every_subdomain_and_nothing_else(populated: str, engine: Engine) -> None:
    """A registrable domain means it and all its subdomains, on every scheme and port."""
    assert sorted(urls(engine, "example.com")) == sorted(
        u for u, _ in URLS if "example.com" in u and "notexample" not in u and "evil" not in u
    )


def test_host_is_that_host_only(populated: str, engine: Engine) -> None:
    """A host that is not a registrable domain means exactly that host."""
    assert urls(engine, "www.example.com") == ["https://www.example.com/a"]
    assert urls(engine, "blog.example.com") == ["https://blog.example.com/p"]
    assert urls(engine, "WWW.Example.COM.") == ["https://www.example.com/a"]


def test_star_dot_host_adds_its_subdomains(populated: str, engine: Engine) -> None:
    """``*.host`` means the host and every name below it."""
    assert urls(engine, "*.blog.example.com") == [
        "https://blog.example.com/p",
        "https://x.blog.example.com/q",
    ]


def test_origin_is_scheme_host_and_port(populated: str, engine: Engine) -> None:
    """An origin matches its own scheme and port only (default ports are implied)."""
    assert urls(engine, "http://example.com") == ["http://example.com/docs/a"]
    assert urls(engine, "https://example.com:8443") == ["https://example.com:8443/x"]
    assert urls(engine, "https://EXAMPLE.com:443") == [
        "https://example.com/",
        "https://example.com/docs/a",
        "https://example.com/docs/a",
        "https://example.com/docs/ab",
        "https://example.com/docs/b",
    ]


def test_url_prefix_and_full_url(populated: str, engine: Engine) -> None:
    """A URL matches every stored URL that starts with it, per URL in time order."""
    assert urls(engine, "https://example.com/docs/") == [
        "https://example.com/docs/a",
        "https://example.com/docs/a",
        "https://example.com/docs/ab",
        "https://example.com/docs/b",
    ]
    records = list(lookup(engine, parse_target("https://example.com/docs/a")))
    assert [(r.url, r.time) for r in records] == [
        ("https://example.com/docs/a", T0 + HOUR),
        ("https://example.com/docs/a", T0 + 30 * HOUR),
        ("https://example.com/docs/ab", T0 + 2 * HOUR),
    ]
    assert urls(engine, "https://example.com/nothing-here") == []


def test_date_range(populated: str, engine: Engine) -> None:
    """--since is inclusive; --until includes the whole day, or the exact instant given."""
    day1 = parse_when("2026-03-01")
    end1 = parse_when("2026-03-01", end=True)
    assert urls(engine, "https://example.com/docs/a", since=day1, until=end1) == [
        "https://example.com/docs/a",
        "https://example.com/docs/ab",
    ]
    assert urls(engine, "https://example.com/docs/a", since=parse_when("2026-03-02")) == [
        "https://example.com/docs/a"
    ]
    exact = parse_when("2026-03-01T13:00:00Z", end=True)  # T0 + 1 h, inclusive
    assert urls(engine, "https://example.com/docs/a", until=exact) == ["https://example.com/docs/a"]
    assert urls(
        engine, "example.com", since=parse_when("2026-03-01T14:00:00+01:00"), until=exact
    ) == ["https://example.com/docs/a"]


def test_limit(populated: str, engine: Engine) -> None:
    """--limit stops after that many decisions."""
    assert len(urls(engine, "example.com", limit=2)) == 2


@pytest.mark.parametrize(
    ("target", "window"),
    [
        ("example.com", {}),
        ("www.example.com", {}),
        ("*.blog.example.com", {}),
        ("https://example.com", {}),
        ("https://example.com/docs/a", {}),
        ("https://example.com/docs/", {"since": "2026-03-01T14:00:00Z"}),
        ("example.com", {"until": "2026-03-01T13:00:00Z"}),
        ("example.com", {"since": "2026-03-01T12:30:00Z", "until": "2026-03-01"}),
        ("nothing.example", {}),
    ],
)
def test_count_is_what_an_unlimited_lookup_yields(
    populated: str, engine: Engine, target: str, window: dict[str, str]
) -> None:
    """count() (how many a limited look-up left out) agrees with the look-up itself."""
    since = parse_when(window["since"]) if "since" in window else None
    until = parse_when(window["until"], end=True) if "until" in window else None
    parsed = parse_target(target)
    found = len(list(lookup(engine, parsed, since=since, until=until)))
    assert count(engine, parsed, since=since, until=until) == found


def test_idn_and_ip_targets(populated: str, engine: Engine) -> None:
    """Unicode hosts are looked up by their IDNA form; IP addresses stand for themselves."""
    assert urls(engine, "bücher.example") == ["https://xn--bcher-kva.example/"]
    assert urls(engine, "127.0.0.1") == ["http://127.0.0.1:8080/"]
    assert urls(engine, "example.co.uk") == ["https://www.example.co.uk/"]
    assert urls(engine, "co.uk") == []  # a public suffix is nobody's domain


def test_records_say_whether_content_was_stored(populated: str, engine: Engine) -> None:
    """Each record tells the action, whether an item was stored, and the item's details."""
    by_url = {r.url: r for r in lookup(engine, parse_target("www.example.com"))}
    record = by_url["https://www.example.com/a"]
    assert record.action == "fetched-excluded"
    assert not record.stored
    first = next(iter(lookup(engine, parse_target("https://example.com/"))))
    assert first.stored
    assert first.item is not None
    assert (first.item.content_type, first.item.bytes, first.item.tokens) == ("text/html", 100, 25)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("example.com", TargetKind.DOMAIN),
        ("www.example.com", TargetKind.HOST),
        ("*.example.com", TargetKind.HOST_TREE),
        ("https://example.com", TargetKind.ORIGIN),
        ("https://example.com/", TargetKind.PREFIX),
        ("localhost", TargetKind.DOMAIN),
        ("[::1]", TargetKind.DOMAIN),
    ],
)
def test_target_forms(text: str, kind: TargetKind) -> None:
    """Each written form is recognised."""
    assert parse_target(text).kind is kind


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "example.com/path",
        "exa mple.com",
        "ftp://example.com/",
        "https://",
        "host:80",
        "https://example.com:99999/",
        "-bad-.com",
        "[not-ipv6]",
    ],
)
def test_bad_targets_are_refused(text: str) -> None:
    """Anything else is a TargetError with a message, never another exception."""
    with pytest.raises(TargetError):
        parse_target(text)


@pytest.mark.parametrize("text", ["2026-13-01", "yesterday", "2026/01/01", ""])
def test_bad_dates_are_refused(text: str) -> None:
    """Dates are YYYY-MM-DD or ISO 8601 date-times."""
    with pytest.raises(TargetError):
        parse_when(text)
