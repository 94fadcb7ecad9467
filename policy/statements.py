"""The provider's statements: where every report finds them, and how they are kept.

A report (training-content summary, copyright policy, crawler information) mixes evidence from
the audit database with statements only the provider can make, written in ``heed.toml``. All
three reports find them the same way (:func:`find_statements`):

1. ``--config FILE``, when given (a missing file is an error, not "no statements");
2. else ``./heed.toml``, when it exists;
3. else the statements recorded with the latest publication in the audit database;
4. else none: every statement reads "to be provided".

Publishing a report records the statements it was made from (publication kind
:data:`STATEMENTS_KIND`; an unchanged set keeps its version), so a later run from another
directory, without a configuration file, publishes the same statements instead of silently
dropping them. What is kept is what the documents read: the statement tables, ``[crawl] token``
and the described ``[settings]`` — not the rest of ``[settings]``, which may name hosts and
credentials of the operator's infrastructure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.publications import Publication, latest, publish
from policy.provider import (
    TABLES,
    ProviderConfig,
    ProviderConfigError,
    parse_provider_config,
    read_toml,
)

if TYPE_CHECKING:
    from audit import Engine

#: Publication kind of the recorded statements (internal: in no feed, never rendered).
STATEMENTS_KIND = "statements"
#: The configuration read when ``--config`` is not given, if it exists.
DEFAULT_CONFIG = "heed.toml"


@dataclass(frozen=True, slots=True)
class Statements:
    """The provider's statements for one report, and where they were found."""

    #: The heed.toml tables the documents read, JSON-ready (dates as ISO text).
    data: Mapping[str, Any]
    #: Where they came from, in words ("heed.toml", "recorded with … on …", "none").
    origin: str
    #: The file they were read from; None when recorded or absent.
    path: str | None = None

    @property
    def found(self) -> bool:
        """Return whether any statement source was found (a file or a recorded set)."""
        return bool(self.data) or self.path is not None

    def config(self) -> ProviderConfig:
        """Return the statements as a :class:`ProviderConfig`."""
        return parse_provider_config(dict(self.data), source=self.path or self.origin)

    def table(self, name: str) -> dict[str, Any]:
        """Return table *name* (``settings``, ``crawl``, …) as a dict; {} when absent."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise ProviderConfigError(f"{self.path or self.origin}: [{name}] must be a table")
        return dict(value)


def read_statements(path: str | Path, *, described: tuple[str, ...] = ()) -> Statements:
    """Return the statements of the heed.toml at *path*; *described* names the ``[settings]``
    kept (the settings the documents describe)."""
    data = read_toml(path)
    return Statements(data=kept(data, described), origin=str(path), path=str(path))


def find_statements(
    engine: Engine | None,
    config: str | Path | None,
    *,
    described: tuple[str, ...] = (),
    cwd: Path | None = None,
) -> Statements:
    """Return the statements a report uses: *config*, else ./heed.toml, else the recorded ones.

    Raises ProviderConfigError for a *config* that does not exist or cannot be read.
    """
    if config is not None:
        if not Path(config).is_file():
            raise ProviderConfigError(f"no configuration file at {config}")
        return read_statements(config, described=described)
    default = (cwd or Path()) / DEFAULT_CONFIG
    if default.is_file():
        return read_statements(default, described=described)
    recorded = latest(engine, STATEMENTS_KIND) if engine is not None else None
    if recorded is not None:
        return Statements(data=recorded.body, origin=recorded_origin(recorded))
    return Statements(data={}, origin="none (no --config, no ./heed.toml, none recorded)")


def recorded_origin(pub: Publication) -> str:
    """Return where recorded statements came from, in words."""
    when = pub.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"recorded in the audit database (version {pub.version}, {when})"


def record_statements(engine: Engine, statements: Statements) -> Publication | None:
    """Keep *statements* with the publication about to be made (None when there are none)."""
    if not statements.found:
        return None
    pub, _ = publish(
        engine,
        STATEMENTS_KIND,
        dict(statements.data),
        changes=[f"Statements from {statements.origin}"],
    )
    return pub


def kept(data: Mapping[str, Any], described: tuple[str, ...]) -> dict[str, Any]:
    """Return the parts of parsed heed.toml *data* the documents read, JSON-ready."""
    out: dict[str, Any] = {name: _json_ready(data[name]) for name in TABLES if name in data}
    crawl = data.get("crawl")
    if isinstance(crawl, dict) and crawl.get("token"):
        out["crawl"] = {"token": _json_ready(crawl["token"])}
    settings = data.get("settings")
    if isinstance(settings, dict):
        chosen = {k: _json_ready(v) for k, v in settings.items() if k in described}
        if chosen:
            out["settings"] = chosen
    elif settings is not None:
        out["settings"] = settings  # the wrong shape: refused where it is read, with its name
    return out


def _json_ready(value: Any) -> Any:
    """Return TOML *value* with dates and times as ISO 8601 text (JSON has no date type)."""
    if isinstance(value, dt.date | dt.time):  # dt.datetime is a dt.date
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value
