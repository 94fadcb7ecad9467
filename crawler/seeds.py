"""Seed URLs: a seeds file and URL arguments, each seed checked on its own.

A seeds file holds one start URL per line (``#`` starts a comment line) or JSON lines
``{"url": ..., "meta": {...}}``, in UTF-8. A bad seed never stops the crawl: it is skipped with
a problem naming where it was — ``FILE:LINE: reason`` in a file, ``argument N: reason`` among the
URL arguments — and the others are crawled. A seed is bad when its line is not UTF-8, its JSON
does not parse or has no ``"url"`` string (or a ``"meta"`` that is not an object), or its URL is
not one Heed would request (:func:`optout.url.parse_url`: an http(s) URL with a valid host and
port).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optout.url import InvalidURL, parse_url

#: Problems listed one by one (in the log, on the command line) before the rest are counted.
MAX_LISTED = 100
_BOM = b"\xef\xbb\xbf"


class _BadSeed(ValueError):
    """Why one seed cannot be crawled."""


@dataclass(slots=True)
class Seeds:
    """The usable seeds, in order, and a line per seed that was skipped."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def listed_problems(self) -> list[str]:
        """Return the problems to show (:func:`listed`)."""
        return listed(self.problems)


def listed(problems: list[str]) -> list[str]:
    """Return the *problems* to show: the first :data:`MAX_LISTED`, then how many more."""
    shown = problems[:MAX_LISTED]
    if len(problems) > MAX_LISTED:
        shown.append(f"… and {len(problems) - MAX_LISTED} more invalid seeds")
    return shown


def read_seeds(path: str | Path | None, urls: Iterable[str] = ()) -> Seeds:
    """Return the seeds in the file at *path* (if any), then the URL arguments *urls*."""
    seeds = Seeds()
    if path:
        _read_file(Path(path), seeds)
    for number, url in enumerate(urls, 1):
        url = url.strip()
        if not url:
            continue
        try:
            seeds.entries.append(_check({"url": url}))
        except _BadSeed as exc:
            seeds.problems.append(f"argument {number}: {exc}")
    return seeds


def _read_file(path: Path, seeds: Seeds) -> None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        seeds.problems.append(f"{path}: cannot read the seeds file: {exc.strerror or exc}")
        return
    data = data.removeprefix(_BOM)
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8").strip()
            if line and not line.startswith("#"):
                seeds.entries.append(_check(_parse_line(line)))
        except UnicodeDecodeError:
            seeds.problems.append(f"{path}:{number}: not UTF-8 text")
        except _BadSeed as exc:
            seeds.problems.append(f"{path}:{number}: {exc}")


def _parse_line(line: str) -> dict[str, Any]:
    if not line.startswith("{"):
        return {"url": line}
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadSeed(f"bad JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(entry, dict):  # pragma: no cover - a line starting with "{" is an object
        raise _BadSeed("bad JSON: not an object")
    url = entry.get("url")
    if not isinstance(url, str) or not url.strip():
        raise _BadSeed('JSON seed without a "url" string')
    meta = entry.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise _BadSeed('"meta" of a JSON seed must be an object')
    return {**entry, "url": url.strip()}


def _check(entry: dict[str, Any]) -> dict[str, Any]:
    try:
        parse_url(entry["url"])
    except InvalidURL as exc:
        raise _BadSeed(str(exc)) from None
    return entry
