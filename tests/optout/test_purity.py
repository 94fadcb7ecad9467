"""optout/ stays pure: no I/O libraries, no framework, no other Heed layer
(docs/development.md#pure-parsers-thin-middleware)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import optout

OPTOUT = Path(optout.__file__).parent
FORBIDDEN = {
    "scrapy",
    "twisted",
    "sqlalchemy",
    "httpx",
    "requests",
    "urllib3",
    "aiohttp",
    "socket",
    "sqlite3",
    "psycopg",
    "redis",
    "subprocess",
    "crawler",
    "audit",
    "policy",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted(OPTOUT.rglob("*.py")), ids=lambda p: p.relative_to(OPTOUT).as_posix()
)
def test_module_imports_nothing_forbidden(path: Path) -> None:
    """No optout module, subpackages' included, imports an I/O library, a framework or a layer."""
    assert not (_imports(path) & FORBIDDEN)


def test_public_api_is_complete() -> None:
    """optout.__all__ names only what the package exports, once each (ruff RUF022 keeps it sorted)."""
    assert len(set(optout.__all__)) == len(optout.__all__)
    for name in optout.__all__:
        assert hasattr(optout, name)
