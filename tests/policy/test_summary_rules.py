"""The summary's fixed rules: size bins at their boundaries, the domain-list count, dates."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from policy.summary.rules import (
    BINS,
    ceil_fraction,
    day_month_year,
    month_year,
    plural,
    top_domain_count,
)

LESS, MIDDLE, MORE = 0, 1, 2


def _labels(modality: str) -> tuple[str, str, str]:
    b = BINS[modality]
    return b.less, b.middle, b.more


@pytest.mark.parametrize(
    ("modality", "size", "expected"),
    [
        ("text", 999_999_999, LESS),
        ("text", 10**9, MIDDLE),
        ("text", 10**9 + 1, MIDDLE),
        ("text", 10**13 - 1, MIDDLE),
        ("text", 10**13, MIDDLE),
        ("text", 10**13 + 1, MORE),
        ("text", 0, LESS),
        ("image", 999_999, LESS),
        ("image", 10**6, MIDDLE),
        ("image", 10**6 + 1, MIDDLE),
        ("image", 10**9, MIDDLE),
        ("image", 10**9 + 1, MORE),
        ("audio", 9_999.99, LESS),
        ("audio", 10_000, MIDDLE),
        ("audio", 10_000.01, MIDDLE),
        ("audio", 1_000_000, MIDDLE),
        ("audio", 1_000_000.01, MORE),
        ("video", 9_999, LESS),
        ("video", 10_000, MIDDLE),
        ("video", 1_000_000, MIDDLE),
        ("video", 1_000_001, MORE),
    ],
)
def test_size_bins_put_exact_boundaries_in_the_middle_range(
    modality: str, size: float, expected: int
) -> None:
    assert BINS[modality].select(size) == _labels(modality)[expected]


def test_size_bin_labels_are_the_template_wording() -> None:
    assert _labels("text") == (
        "Less than 1 billion tokens",
        "1 billion to 10 trillion tokens",
        "More than 10 trillion tokens",
    )
    assert _labels("image") == (
        "Less than 1 million images",
        "1 million to 1 billion images",
        "More than 1 billion images",
    )
    hours = ("Less than 10 000 hours", "10 000 to 1 million hours", "More than 1 million hours")
    assert _labels("audio") == _labels("video") == hours


@pytest.mark.parametrize(
    ("n", "standard", "sme"),
    [
        (0, 0, 0),
        (1, 1, 1),
        (7, 1, 1),
        (9, 1, 1),
        (10, 1, 1),
        (11, 2, 1),
        (20, 2, 1),
        (21, 3, 2),
        (25, 3, 2),
        (12_000, 1_200, 600),
        (20_000, 2_000, 1_000),
        (20_020, 2_002, 1_000),
        (25_000, 2_500, 1_000),
        (45_000, 4_500, 1_000),
    ],
)
def test_top_domain_count_standard_and_sme(n: int, standard: int, sme: int) -> None:
    assert top_domain_count(n, sme=False) == standard
    assert top_domain_count(n, sme=True) == sme


def test_top_domain_count_is_exact_where_floats_are_not() -> None:
    # 0.1 * 30 == 3.0000000000000004 in floating point: math.ceil would say 4.
    assert top_domain_count(30, sme=False) == 3
    assert top_domain_count(60, sme=True) == 3
    assert ceil_fraction(Fraction(3, 1)) == 3
    assert ceil_fraction(Fraction(31, 10)) == 4
    with pytest.raises(ValueError, match="negative"):
        top_domain_count(-1, sme=False)


def test_dates_are_spelled_out_with_their_iso_form_in_utc() -> None:
    """The template's month-year and last-update dates, spelled out and in ISO 8601: never a
    numeric day/month a reader could take for month/day."""
    late = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    assert month_year(late) == "April 2026 (2026-04)"  # 01:30 UTC on 1 April
    assert month_year(None) is None
    assert day_month_year(dt.datetime(2026, 7, 4, 9, tzinfo=dt.UTC)) == "4 July 2026 (2026-07-04)"
    assert day_month_year(dt.datetime(2026, 12, 31, 23, tzinfo=dt.UTC)) == (
        "31 December 2026 (2026-12-31)"
    )
    assert day_month_year(late) == "1 April 2026 (2026-04-01)"


def test_plural() -> None:
    assert plural(1, "item") == "1 item"
    assert plural(0, "item") == "0 items"
    assert plural(1234567, "byte") == "1,234,567 bytes"
    assert plural(2.5, "hour") == "2.5 hours"
