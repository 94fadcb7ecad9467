"""What the ``heed report`` commands share: one vocabulary of options, one way to find the
provider's statements, one rule for publishing, and what the documents are told of the crawler
(policy/ does not import it).

Every report previews by default: it prints (or writes to ``--out``) what it would publish and
records nothing. ``--publish`` records a new version when the content changed, together with the
statements it was made from; a version that would withdraw a statement the last published one
made (a provider, a point of contact, a complaints route …) is refused unless ``--withdraw``
says so. ``--check`` publishes nothing and exits 1 when a statement is missing, naming the
heed.toml key that fills it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from audit import open_publisher, open_reader
from audit.publications import Publication
from crawler import defaults
from crawler.config import heed_version
from heed.cli.db import audit_errors, db_option
from policy.provider import ProviderConfigError
from policy.publish.inputs import SETTING_NAMES, CrawlerDefaults, InputError
from policy.render import write_document
from policy.statement_fields import StatementField, withdrawn
from policy.statements import Statements, find_statements

__all__ = [
    "FORMATS",
    "ReportOptions",
    "crawler_defaults",
    "open_engine",
    "report_errors",
    "report_options",
    "write_text",
]

_F = TypeVar("_F", bound=Callable[..., Any])

#: Output formats of every report.
FORMATS = ("md", "html", "json")
_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}

#: Missing statements named after a preview or publication (more are counted; --check lists).
NAMED_MISSING = 5

CONFIG_HELP = (
    "heed.toml with the provider's statements ([provider], [crawler], [[model]], [sources], "
    "[measures]). Default: ./heed.toml if it exists, else the statements recorded with the last "
    "publication."
)


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """The options every ``heed report`` command takes."""

    db: str | None
    config: str | None
    fmt: str | None
    out: str | None
    check: bool
    publish: bool
    withdraw: bool

    def format(self) -> str:
        """Return the output format: ``--format``, else the ``--out`` suffix's, else md."""
        if self.fmt:
            return self.fmt
        suffix = Path(self.out).suffix.lower() if self.out else ""
        return _SUFFIXES.get(suffix, "md")


def report_options(out_help: str, *, out_is_dir: bool = False) -> Callable[[_F], _F]:
    """Add the shared options; the command receives them as one :class:`ReportOptions`
    (keyword ``options``)."""

    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            kwargs["publish"] = not kwargs.pop("preview")
            names = ("db", "config", "fmt", "out", "check", "publish", "withdraw")
            options = ReportOptions(**{name: kwargs.pop(name) for name in names})
            if options.check and options.publish:
                raise click.UsageError("--check publishes nothing: leave out --publish")
            if options.withdraw and not options.publish:
                raise click.UsageError("--withdraw only applies with --publish")
            return fn(options=options, **kwargs)

        decorators = [
            db_option,
            click.option(
                "--config",
                "config",
                metavar="FILE",
                type=click.Path(dir_okay=False),
                help=CONFIG_HELP,
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(FORMATS),
                help="Output format. Default: from the --out suffix, else md.",
            ),
            click.option(
                "--out",
                metavar="DIR" if out_is_dir else "FILE",
                type=click.Path(file_okay=not out_is_dir, dir_okay=out_is_dir),
                help=out_help,
            ),
            click.option(
                "--check",
                is_flag=True,
                help="Publish nothing: list every missing statement with the heed.toml key that "
                "fills it; exit 1 if any.",
            ),
            click.option(
                "--preview/--publish",
                "preview",
                default=True,
                help="Preview (the default) shows the document and records nothing; --publish "
                "records it as a new version when it changed.",
            ),
            click.option(
                "--withdraw",
                is_flag=True,
                help="With --publish: allow a version that withdraws a statement the last "
                "published version made.",
            ),
        ]
        wrapped: Any = command
        for decorator in reversed(decorators):
            wrapped = decorator(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


def crawler_defaults() -> CrawlerDefaults:
    """Return Heed's defaults of the settings the documents describe, and its version."""
    return CrawlerDefaults(
        settings={name: getattr(defaults, name) for name in SETTING_NAMES},
        version=heed_version(),
    )


@contextmanager
def report_errors(db: str | None = None) -> Iterator[None]:
    """Turn audit and configuration errors into one-line CLI errors (exit status 1); *db* is
    the ``--db`` value, named when the database itself fails."""
    with audit_errors(db):
        try:
            yield
        except (InputError, ProviderConfigError) as exc:
            raise click.ClickException(str(exc)) from None


def open_engine(options: ReportOptions) -> Engine:
    """Return an engine on the audit database: a publisher only when publishing."""
    return open_publisher(options.db) if options.publish else open_reader(options.db)


def statements(engine: Engine, options: ReportOptions) -> Statements:
    """Return the statements the report uses (:func:`policy.statements.find_statements`) and
    say on stderr where they came from."""
    found = find_statements(engine, options.config, described=SETTING_NAMES)
    click.echo(f"Statements: {found.origin}", err=True)
    return found


def guard_withdrawal(
    kind: str,
    previous: Publication | None,
    body: Mapping[str, Any],
    options: ReportOptions,
) -> list[StatementField]:
    """Refuse to publish a version that withdraws statements, unless ``--withdraw``; return
    the withdrawn statements (a preview warns of them)."""
    gone = withdrawn(kind, previous.body if previous else None, body)
    if not gone:
        return gone
    names = "; ".join(f.describe() for f in gone)
    version = previous.version if previous else 0
    if options.publish and not options.withdraw:
        raise click.ClickException(
            f"{kind}: publishing would withdraw what version {version} states: {names}. "
            "Give them in heed.toml (--config), or publish the withdrawal with --withdraw."
        )
    verb = "withdraws" if options.publish else "would withdraw"
    click.echo(f"Warning: {kind} {verb} what version {version} states: {names}", err=True)
    return gone


def report_missing(fields: Sequence[StatementField]) -> int:
    """Print each missing required statement with its heed.toml key; return the exit status."""
    missing = [f for f in fields if f.required and f.missing]
    for field in missing:
        click.echo(f"missing: {field.describe()}")
    count = len(missing)
    click.echo(
        f"{count} missing statement{'s' * (count != 1)}."
        if count
        else "Complete: every required statement is present."
    )
    return 1 if missing else 0


def note_missing(fields: Sequence[StatementField]) -> None:
    """Say on stderr which required statements the document still lacks, by heed.toml key."""
    missing = [f.describe() for f in fields if f.required and f.missing]
    if len(missing) > NAMED_MISSING:
        click.echo(f"To be provided: {len(missing)} statements (list them with --check).", err=True)
    elif missing:
        click.echo(f"To be provided: {'; '.join(missing)}", err=True)


def emit(text: str, out: str | None) -> None:
    """Print *text*, or write it to the file *out* and say so on stderr."""
    if out is None:
        click.echo(text, nl=False)
        return
    write_text(Path(out), text)
    click.echo(f"Wrote {out}.", err=True)


def write_text(path: Path, text: str) -> None:
    """Write a document atomically and world-readable; an OS error is a one-line CLI error."""
    try:
        write_document(path, text)
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror or exc}") from None


def state_line(kind: str, pub: Publication | None, is_new: bool, latest_version: int | None) -> str:
    """Return the stderr line saying what was (or would be) published."""
    if pub is not None:
        return f"{kind} version {pub.version} ({'published' if is_new else 'unchanged'})."
    if not is_new:
        return f"{kind} preview: unchanged (published version {latest_version}); nothing recorded."
    nxt = (latest_version or 0) + 1
    return f"{kind} preview: would be version {nxt}; nothing recorded (publish with --publish)."
