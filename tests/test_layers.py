"""The import-layer contract (docs/architecture.md), checked on every module of every package.

    heed  →  {policy, crawler}  →  audit  →  optout

Each package imports only itself and the packages below it; policy/ and crawler/ never import
each other; nothing imports heed/. Checked statically (every ``import`` statement, including
those inside functions and ``TYPE_CHECKING`` blocks) and at run time for what the layering is
for: the crawler's middleware loads neither SQLAlchemy nor httpx, ``import optout`` loads no I/O
library, and ``heed --help`` loads no Scrapy.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("optout", "audit", "crawler", "policy", "heed")
#: What each package may import, besides itself and third-party libraries.
ALLOWED: dict[str, frozenset[str]] = {
    "optout": frozenset(),
    "audit": frozenset({"optout"}),
    "crawler": frozenset({"audit", "optout"}),
    "policy": frozenset({"audit", "optout"}),
    "heed": frozenset({"policy", "crawler", "audit", "optout"}),
}


def heed_imports(path: Path) -> list[tuple[int, str]]:
    """Return ``(line, package)`` for every import of one of Heed's packages in *path*."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            names = [node.module or ""]
        else:
            continue
        found.extend((node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in PACKAGES)
    return found


def modules(package: str) -> list[Path]:
    """Return every module of *package*, subpackages included."""
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_the_layers_below(package: str) -> None:
    """No module imports a package above it or beside it."""
    allowed = ALLOWED[package] | {package}
    violations = [
        f"{path.relative_to(ROOT)}:{line}: imports {target}"
        for path in modules(package)
        for line, target in heed_imports(path)
        if target not in allowed
    ]
    assert not violations, "\n".join(violations)


def test_the_contract_covers_every_package() -> None:
    """A new top-level package must be placed in the contract before it can be imported."""
    found = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert found == set(PACKAGES)


def loaded_after(statement: str) -> set[str]:
    """Return the top-level modules loaded by running *statement* in a fresh interpreter."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_the_middleware_loads_no_database_and_no_http_client() -> None:
    """The Scrapy middleware needs neither SQLAlchemy (audit) nor httpx (``heed check``)."""
    loaded = loaded_after("import crawler.middleware")
    assert not loaded & {"sqlalchemy", "httpx", "alembic", "policy", "heed"}


def test_the_engine_loads_no_io_library() -> None:
    """``import optout`` loads no framework, database, HTTP client or other Heed layer."""
    loaded = loaded_after("import optout")
    io = {"scrapy", "twisted", "sqlalchemy", "httpx", "requests", "psycopg", "sqlite3"}
    assert not loaded & (io | {"audit", "crawler", "policy", "heed"})


def test_the_command_line_help_loads_no_scrapy() -> None:
    """``heed --help`` stays instant: no command module, no Scrapy, no database."""
    loaded = loaded_after(
        "from heed.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert not loaded & {"scrapy", "twisted", "sqlalchemy", "httpx", "crawler", "policy"}
