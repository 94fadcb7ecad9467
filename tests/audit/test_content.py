"""Content addressing: shared outcomes stay exact, tampering is found, domains need no network."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from audit import Action, AuditStore, parse_target
from audit.integrity import check
from audit.queries import lookup
from audit.urls import parse_origin, registrable_domain
from optout.decision import Purpose, Verdict
from tests.audit.conftest import decide, header_signal, robots_fetch, robots_signal

ROOT = Path(__file__).resolve().parents[2]


def test_equal_signals_with_different_notes_or_verdicts_stay_distinct(
    store: AuditStore, engine: Engine
) -> None:
    """Decisions sharing signal objects but not notes or verdicts keep their own reasons."""
    doc = robots_fetch("https://example.com")
    signal = robots_signal(doc)
    base = decide("https://example.com/1", signal)
    noted = dataclasses.replace(base, url="https://example.com/2", notes=("redirect not followed",))
    odd = dataclasses.replace(
        base,
        url="https://example.com/3",
        purposes={**base.purposes, Purpose.SEARCH: Verdict.RESERVED},
    )
    run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
    for decision in (base, noted, odd, base):
        store.record_decision(run, decision, Action.FETCHED_STORED)
    store.flush()
    records = list(lookup(engine, parse_target("example.com")))
    assert [r.reasons for r in records] == [base.reasons, base.reasons, noted.reasons, odd.reasons]
    assert records[3].purposes["search"] == "reserved"
    assert records[0].purposes["search"] == "unknown"


def test_edited_signals_and_orphans_are_found(store: AuditStore, engine: Engine) -> None:
    """`check` finds a signal edited after the fact, and rows referring to nothing."""
    run = store.start_run(crawler_name="HeedBot", product_token="HeedBot", user_agent="UA")
    url = "https://example.com/"
    store.record_decision(
        run, decide(url, header_signal(url, reserved=True)), Action.FETCHED_EXCLUDED
    )
    store.flush()
    assert check(engine).ok
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER trg_signal_no_update"))
        else:
            conn.execute(text("DROP TRIGGER trg_signal_append_only ON signal"))
        conn.execute(text("UPDATE signal SET reason = 'no reservation'"))
    problems = check(engine).problems
    assert any("does not match its content digest" in p for p in problems)


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.example.co.uk", "example.co.uk"),
        ("a.b.c.example.com", "example.com"),
        ("example.com", "example.com"),
        ("EXAMPLE.com.", "example.com"),
        ("user.github.io", "github.io"),  # ICANN section only (docs/regulation.md#the-domain-list)
        ("bücher.example.de", "example.de"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "[::1]"),
        ("localhost", "localhost"),
        ("co.uk", "co.uk"),
        ("host.unknowntld", "host.unknowntld"),
        # No rule matches: the PSL algorithm's default rule "*" (the last label is the suffix).
        ("www.site.test", "site.test"),
        ("a.b.site.internal", "site.internal"),
        ("10.0.0.1", "10.0.0.1"),
        ("test", "test"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    """eTLD+1 from the bundled Public Suffix List; hosts without one stand for themselves."""
    assert registrable_domain(host) == domain


def test_origins_are_normalised() -> None:
    """Scheme and host lower-case, default port dropped, credentials dropped, IDNA hosts."""
    o = parse_origin("HTTPS://u:p@Bücher.Example:443")
    assert (o.origin, o.host, o.port, o.domain) == (
        "https://xn--bcher-kva.example",
        "xn--bcher-kva.example",
        None,
        "xn--bcher-kva.example",
    )
    assert parse_origin("http://[::1]:8080").origin == "http://[::1]:8080"
    with pytest.raises(ValueError, match="bad port"):
        parse_origin("http://a.example:99999")


def test_the_suffix_list_is_never_downloaded_or_cached(tmp_path: Path) -> None:
    """With the network cut and a fresh HOME, domains still resolve and nothing is written."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse
        from audit.urls import registrable_domain
        assert registrable_domain("www.example.co.uk") == "example.co.uk"
        assert registrable_domain("x.y.example.com.au") == "example.com.au"
        print("ok")
        """
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TLDEXTRACT_CACHE", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
    assert list(tmp_path.rglob("*")) == []
