"""Which registry a crawl reads (crawler/registry.py): none from a database that does not
exist yet or is new and empty (the crawl's writer creates its schema), the entries in force of
a Heed database, and a refusal, never an empty registry, for one that cannot be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scrapy.settings import Settings

from audit import AuditStore, add_registry_entry, open_publisher
from crawler.registry import RegistryUnavailable, load_registry
from tests.audit.conftest import PG_ENV, postgres_schema


def _load(db: str) -> int:
    return len(load_registry(Settings({"HEED_DB": db})))


def test_sqlite(tmp_path: Path) -> None:
    assert _load(str(tmp_path / "missing.db")) == 0
    empty = tmp_path / "empty.db"
    empty.touch()
    assert _load(str(empty)) == 0
    heed = tmp_path / "heed.db"
    with AuditStore.open(str(heed)):
        pass
    engine = open_publisher(str(heed))
    add_registry_entry(engine, "example.com", actor="t")
    engine.dispose()
    assert _load(str(heed)) == 1
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RegistryUnavailable, match="cannot read the reservations registry"):
        _load(str(damaged))


def test_postgresql() -> None:
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("HEED_TEST_REQUIRE_SERVICES"):
            pytest.fail(f"{PG_ENV} is not set but HEED_TEST_REQUIRE_SERVICES is (CI)")
        pytest.skip(f"{PG_ENV} is not set")
    with postgres_schema(base) as (url, admin, schema):
        assert _load(url) == 0  # a new, empty database: the first crawl creates the schema
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE TABLE "{schema}".other_app (id int)')
        with pytest.raises(RegistryUnavailable, match="is not a Heed audit database"):
            _load(url)  # another application's database is not read as "no registry"
