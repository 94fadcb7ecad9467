"""The vendored test vectors are all accounted for, and nothing reads outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.optout.vectors import VECTORS

ROOT = Path(__file__).resolve().parents[2]


def test_every_vector_file_is_listed_with_its_provenance() -> None:
    """Each JSON file in tests/data/vectors/ is in PROVENANCE.md's table, and vice versa."""
    listed = set(
        re.findall(
            r"^\| `([a-z_]+\.json)` \|", (VECTORS / "PROVENANCE.md").read_text(), re.MULTILINE
        )
    )
    present = {p.name for p in VECTORS.glob("*.json")}
    assert listed == present
    for name in present:
        data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
        assert data["cases"], name


def test_no_test_or_module_reads_outside_the_repository() -> None:
    """No file of the project names the workspace's spec folder (a fresh clone has none)."""
    # The workspace's spec folder, named without writing its path here (this test would match).
    folder = "sha" + "red"
    pattern = re.compile(
        rf"""\.\./{folder}|["']{folder}["']\s*/|/\s*["']{folder}["']\s*/|{folder}/spec"""
    )
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("optout", "audit", "crawler", "policy", "heed", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
