"""policy/ sits above audit/ and beside crawler/: it imports neither the crawler nor the app layer,
and reads the audit database only through the query functions audit/ exports (issue 10).

Packages import downward only: ``heed`` → {``policy``, ``crawler``} → ``audit`` → ``optout``.
What policy/ needs of the crawler (its setting defaults, Heed's version) is handed in by the
caller (heed/cli/report/); what it needs of the audit trail comes back from audit's functions as
values, so the SQL and the schema it depends on stay in audit/.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

POLICY = Path(__file__).resolve().parents[2] / "policy"
#: Packages policy/ must never import, at any depth of the module tree.
FORBIDDEN = ("crawler", "heed", "audit.models", "sqlalchemy")
#: The audit modules policy/ may import: the package's exports and the publication versions.
AUDIT_ALLOWED = ("audit", "audit.publications")


def _modules() -> list[Path]:
    return sorted(POLICY.rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """Return ``(line, module, names)`` of every import in *path*, wherever it is (function
    bodies and ``if TYPE_CHECKING:`` blocks included); *names* are those of ``from … import``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(POLICY.parent).with_suffix("").parts[:-1])
    out: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = parts[: len(parts) - node.level + 1]
                module = ".".join([*parent, module] if module else parent)
            out.append((node.lineno, module, tuple(alias.name for alias in node.names)))
    return out


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_policy_modules_are_found() -> None:
    """The scan below sees the summary and publish sub-packages (a guard against a wrong root)."""
    names = {p.relative_to(POLICY).as_posix() for p in _modules()}
    assert {"provider.py", "summary/build.py", "publish/inputs.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(POLICY).as_posix())
def test_policy_imports_no_crawler_app_tables_or_sqlalchemy(path: Path) -> None:
    """No policy module imports crawler/, heed/, audit's table models or SQLAlchemy."""
    bad = [
        f"line {line}: {target}"
        for line, module, names in _imports(path)
        for target in (module, *(f"{module}.{name}" for name in names))
        if any(_within(target, forbidden) for forbidden in FORBIDDEN)
    ]
    assert bad == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(POLICY).as_posix())
def test_policy_reads_audit_through_its_exports(path: Path) -> None:
    """policy/ imports audit's exported names (``from audit import …``) and the publication
    helpers, never one of audit's internal modules."""
    import audit

    bad = []
    for line, module, names in _imports(path):
        if not _within(module, "audit"):
            continue
        if module not in AUDIT_ALLOWED:
            bad.append(f"line {line}: {module}")
        elif module == "audit":
            # A name audit does not export would load the submodule of that name.
            bad.extend(f"line {line}: audit.{n}" for n in names if n not in audit.__all__)
    assert bad == []


def test_importing_policy_loads_neither_crawler_nor_heed() -> None:
    """Every policy module imports without loading crawler/ or heed/ (a fresh interpreter)."""
    modules = [
        ".".join(p.relative_to(POLICY.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in _modules()
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'crawler', 'heed', 'scrapy'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=POLICY.parent,
    )
    assert done.stdout.strip() == "[]"
