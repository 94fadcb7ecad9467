"""Heed datasets after the crawl: the purge list format, a filtered copy without purged items,
and the Parquet export with rights metadata."""

from heed.dataset.export import ExportReport, export_parquet
from heed.dataset.filter import DatasetError, FilterReport, filter_dataset
from heed.dataset.purgelist import (
    PurgeEntry,
    PurgeListError,
    read_purge_list,
    write_purge_list,
)

__all__ = [
    "DatasetError",
    "ExportReport",
    "FilterReport",
    "PurgeEntry",
    "PurgeListError",
    "export_parquet",
    "filter_dataset",
    "read_purge_list",
    "write_purge_list",
]
