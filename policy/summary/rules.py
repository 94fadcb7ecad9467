"""The summary's fixed rules: size bins (template §1.3), the domain-list count (§2.3), dates.

Pure functions, exact integer arithmetic: a boundary never depends on float rounding.

* Size bins (docs/regulation.md#size-bins), read literally: "Less than X" excludes X and "More
  than Y" excludes Y, so an exact boundary value falls in the middle bin (1 billion tokens → "1
  billion to 10 trillion tokens").
* Domain count (docs/regulation.md#the-domain-list): the first ``ceil(0.10·N)`` registrable
  domains, or ``min(ceil(0.05·N), 1000)`` for an SME, N being the distinct domains in scope.
* Dates: the month spelled out, then the ISO 8601 form ("4 December 2026 (2026-12-04)",
  "December 2026 (2026-12)"), never a numeric DD/MM or MM/DD that a reader could misread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Bins:
    """The three size ranges of one modality, with their boundaries and unit."""

    low: Fraction
    high: Fraction
    less: str
    middle: str
    more: str
    unit: str

    def select(self, size: float | Fraction) -> str:
        """Return the range label *size* falls in (boundaries belong to the middle range)."""
        value = Fraction(size)
        if value < self.low:
            return self.less
        if value > self.high:
            return self.more
        return self.middle


_HOURS = ("Less than 10 000 hours", "10 000 to 1 million hours", "More than 1 million hours")

#: Template §1.3 size ranges per modality, labels verbatim (docs/regulation.md#size-bins).
BINS: dict[str, Bins] = {
    "text": Bins(
        Fraction(10**9),
        Fraction(10**13),
        "Less than 1 billion tokens",
        "1 billion to 10 trillion tokens",
        "More than 10 trillion tokens",
        "tokens",
    ),
    "image": Bins(
        Fraction(10**6),
        Fraction(10**9),
        "Less than 1 million images",
        "1 million to 1 billion images",
        "More than 1 billion images",
        "images",
    ),
    "audio": Bins(Fraction(10**4), Fraction(10**6), *_HOURS, "hours"),
    "video": Bins(Fraction(10**4), Fraction(10**6), *_HOURS, "hours"),
}

#: Share of domains listed (template §2.3, Notice footnote 16), as exact fractions.
STANDARD_SHARE = Fraction(10, 100)
SME_SHARE = Fraction(5, 100)
SME_CAP = 1000


def ceil_fraction(value: Fraction) -> int:
    """Return the smallest integer ≥ *value* (exact)."""
    return -(-value.numerator // value.denominator)


def top_domain_count(n: int, *, sme: bool) -> int:
    """Return how many of *n* ranked domains the summary lists: ceil(10 %), or SME min(ceil(5 %),
    1000)."""
    if n < 0:
        raise ValueError("n must not be negative")
    if sme:
        return min(ceil_fraction(SME_SHARE * n), SME_CAP)
    return ceil_fraction(STANDARD_SHARE * n)


def rule_text(*, sme: bool) -> str:
    """Return the count rule in words."""
    if sme:
        return (
            f"SME rule: the first min(ceil(5 % × N), {SME_CAP}) domains, N being the number of "
            "distinct registrable domains in scope"
        )
    return "the first ceil(10 % × N) domains, N being the number of distinct registrable domains in scope"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month_year(when: dt.datetime | None) -> str | None:
    """Return *when*'s month (UTC) as "December 2026 (2026-12)", or None.

    The template asks for a month and year (MM/YYYY); spelled out, with its ISO 8601 form, it
    cannot be misread whichever order a reader expects.
    """
    if when is None:
        return None
    day = when.astimezone(dt.UTC)
    return f"{_MONTHS[day.month - 1]} {day.year} ({day:%Y-%m})"


def day_month_year(when: dt.datetime) -> str:
    """Return *when*'s day (UTC) as "4 December 2026 (2026-12-04)": the "Last update" date.

    The template's numeric form (DD/MM/YY) is ambiguous to a reader who expects MM/DD; the day
    spelled out, with its ISO 8601 form, is not.
    """
    day = when.astimezone(dt.UTC)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year} ({day:%Y-%m-%d})"


def format_number(value: float) -> str:
    """Return *value* with thousands separators (1,234,567; 35.5)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def plural(n: float, word: str) -> str:
    """Return "1 item", "2 items", "1,000 items"."""
    return f"{format_number(n)} {word}{'' if n == 1 else 's'}"
