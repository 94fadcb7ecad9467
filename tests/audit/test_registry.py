"""The reservations registry (audit/registry.py): what a target names, the append-only
history, the entries in force at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit import AuditStore, NotFoundError, TargetError, open_publisher
from audit.registry import (
    DEFAULT_PURPOSES,
    RegistryError,
    add_registry_entry,
    parse_purposes,
    parse_registry_target,
    registry_history,
    registry_in_force,
    remove_registry_entry,
)

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("example.com", ("domain", "example.com")),
        ("WWW.Example.COM.", ("host", "www.example.com")),
        ("bücher.example", ("domain", "xn--bcher-kva.example")),
        ("books.example.co.uk", ("host", "books.example.co.uk")),
        ("site.test", ("domain", "site.test")),  # the PSL's default rule
        ("192.0.2.7", ("host", "192.0.2.7")),
        ("localhost", ("host", "localhost")),
        ("https://example.com/", ("host", "example.com")),
        ("https://example.com", ("host", "example.com")),
        # a prefix is kept in the URL model's canonical form, the form requests are checked in
        ("https://Example.com/Books/../books/", ("prefix", "example.com/books/")),
        ("http://example.com:8080/%7euser/", ("prefix", "example.com/~user/")),
        ("https://example.com/a%2fb", ("prefix", "example.com/a%2Fb")),
    ],
)
def test_what_a_target_names(text_: str, expected: tuple[str, str]) -> None:
    assert parse_registry_target(text_) == expected


@pytest.mark.parametrize(
    ("text_", "words"),
    [
        ("", "give a domain"),
        ("co.uk", "public suffix"),
        ("com", "public suffix"),
        ("example.com:80", "not a domain or host name"),
        ("a b.example", "not a domain or host name"),
        ("example.com/books/", "with its scheme"),
        ("https://example.com/search?q=x", "without a query"),
        ("ftp://example.com/", "not a usable URL prefix"),
        ("https://" + "a" * 2000 + ".example/", "at most 2000 characters"),
    ],
)
def test_targets_that_name_nothing_are_refused(text_: str, words: str) -> None:
    with pytest.raises(TargetError, match=words):
        parse_registry_target(text_)


def test_purposes() -> None:
    assert parse_purposes([]) == DEFAULT_PURPOSES == ("tdm", "train-ai", "ai-input")
    assert parse_purposes(["Search", "train-ai", "search"]) == ("train-ai", "search")
    with pytest.raises(RegistryError, match="unknown purpose 'training'"):
        parse_purposes(["training"])


def test_history_and_entries_in_force(db_url: str) -> None:
    with AuditStore.open(db_url):
        pass  # the schema
    engine = open_publisher(db_url)
    try:
        first = add_registry_entry(
            engine,
            "example.com",
            source="complaint C-1",
            note="letter of 2 Nov",
            actor="alice",
            now=T0,
        )
        second = add_registry_entry(
            engine,
            "https://news.example/archive/",
            purposes=["train-ai"],
            actor="bob",
            now=T0 + dt.timedelta(days=1),
        )
        assert (first.scope, first.target, first.purposes) == (
            "domain",
            "example.com",
            DEFAULT_PURPOSES,
        )
        assert (second.scope, second.purposes, second.source) == (
            "prefix",
            ("train-ai",),
            "operator",
        )
        gone = remove_registry_entry(
            engine, first.id, note="withdrawn", actor="carol", now=T0 + dt.timedelta(days=3)
        )
        assert (gone.action, gone.entry_id, gone.target, gone.actor) == (
            "remove",
            first.id,
            "example.com",
            "carol",
        )
        history = registry_history(engine)
        assert [(r.id, r.action) for r in history] == [
            (first.id, "add"),
            (second.id, "add"),
            (gone.id, "remove"),
        ]
        assert history[0].recorded_at == T0
        assert [r.id for r in registry_in_force(engine)] == [second.id]
        # what was in force on a past day stays known
        on_day_2 = registry_in_force(engine, at=T0 + dt.timedelta(days=2))
        assert [r.id for r in on_day_2] == [first.id, second.id]
        assert registry_in_force(engine, at=T0 - dt.timedelta(days=1)) == []
        with pytest.raises(RegistryError, match="already removed"):
            remove_registry_entry(engine, first.id, actor="carol")
        with pytest.raises(RegistryError, match="records a removal"):
            remove_registry_entry(engine, gone.id, actor="carol")
        with pytest.raises(NotFoundError):
            remove_registry_entry(engine, 999, actor="carol")
        with pytest.raises(RegistryError, match="note is longer"):
            add_registry_entry(engine, "example.org", note="x" * 2001, actor="alice")
        # append-only at the database level too
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE registry_entry SET target = 'other.example'"))
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM registry_entry"))
        assert len(registry_history(engine)) == 3
    finally:
        engine.dispose()


def test_the_entries_covering_a_domain(db_url: str) -> None:
    """What the portal's look-up lists: entries for the domain, its hosts and their prefixes,
    in force; LIKE's wildcards in a name match only themselves."""
    from audit.engine import reading
    from audit.registry import registry_covering

    with AuditStore.open(db_url):
        pass
    engine = open_publisher(db_url)
    try:
        for target in (
            "example.com",
            "https://www.example.com/books/",
            "shop.example.com",
            "notexample.com",
            "https://example.com.evil.test/x",
            "ex_mple.test",
            "exymple.test",
        ):
            add_registry_entry(engine, target, actor="t", now=T0)
        remove_registry_entry(engine, 3, actor="t")
        with reading(engine) as conn:
            found = [r.target for r in registry_covering(conn, "example.com")]
            wild = [r.target for r in registry_covering(conn, "ex_mple.test")]
    finally:
        engine.dispose()
    assert found == ["example.com", "www.example.com/books/"]
    assert wild == ["ex_mple.test"]
