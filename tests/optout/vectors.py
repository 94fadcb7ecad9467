"""Load the protocol test vectors, vendored in tests/data/vectors/ (see its PROVENANCE.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    """Return the cases of vector file *name* (``"rsl"`` or ``"rsl.json"``)."""
    if not name.endswith(".json"):
        name += ".json"
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return list(data["cases"])
