"""``heed dataset``: work on a dataset a crawl wrote — ``filter`` out the items of a purge list,
``export`` it as Parquet with its rights metadata (heed/dataset/)."""

from __future__ import annotations

from pathlib import Path

import click

from heed.cli.db import audit_errors, db_option


@click.group("dataset")
def dataset() -> None:
    """Filter a dataset by a purge list, or export it as Parquet with rights metadata."""


_DATASET = click.argument(
    "directory", metavar="DATASET", type=click.Path(file_okay=False, path_type=Path)
)


@dataset.command("filter")
@_DATASET
@click.option(
    "--purge-list",
    "purge_list",
    metavar="FILE",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The items to leave out (.jsonl or .parquet, as heed purge-list writes it).",
)
@click.option(
    "--out",
    metavar="DIR",
    required=True,
    type=click.Path(path_type=Path),
    help="A new (or empty) directory for the filtered copy; never the dataset itself.",
)
def filter_command(directory: Path, purge_list: Path, out: Path) -> None:
    """Copy DATASET (dataset.jsonl and its WARC files) to --out without the purged items.

    Every other line and WARC record is copied byte for byte; filter-report.json in --out
    lists what was removed, and the listed items the dataset did not hold.
    """
    from heed.dataset import DatasetError, PurgeListError, filter_dataset, read_purge_list

    try:
        entries = read_purge_list(purge_list)
        report = filter_dataset(directory, entries, out)
    except (DatasetError, PurgeListError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{out}: {report.kept} items kept, {len(report.removed)} removed "
        f"({report.warc_records_removed} WARC records); "
        f"{len(report.absent)} listed items were not in the dataset"
    )


@dataset.command("export")
@_DATASET
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet"]),
    default="parquet",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--out",
    metavar="FILE",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (must not exist).",
)
@click.option(
    "--row-group-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows per Parquet row group (what a streaming reader holds at once).",
)
@db_option
def export_command(
    directory: Path, fmt: str, out: Path, row_group_rows: int, db: str | None
) -> None:
    """Export DATASET with each item's rights metadata from the audit database.

    Columns: id, url, text, content_type, bytes, content_sha256, decision_id, use,
    crawled_at, run, rechecked_at. Items whose decision the audit database does not hold are
    left out and counted. DATASET may be the --out of a shared crawl: its workers'
    directories are read together, each item once.
    """
    from audit import open_reader
    from heed.dataset import DatasetError, export_parquet

    with audit_errors(db):
        engine = open_reader(db)
        try:
            report = export_parquet(directory, out, engine, row_group_rows=row_group_rows)
        except (DatasetError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            engine.dispose()
    click.echo(f"{out}: {report.rows} rows in {report.row_groups} row groups ({fmt})")
    if report.without_decision or report.unreadable:
        click.echo(
            f"left out: {report.without_decision} items without a recorded decision, "
            f"{report.unreadable} unreadable lines",
            err=True,
        )
    if report.repeated:
        click.echo(f"left out: {report.repeated} lines of items already exported", err=True)
