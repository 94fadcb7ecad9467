"""Load the spec's machine-readable test vectors (protocols.md §0.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    """Return the cases of vector file *name* (``"rsl"`` or ``"rsl.json"``)."""
    if not name.endswith(".json"):
        name += ".json"
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return list(data["cases"])
