"""Building one template section: field values in label order, and the value conventions.

A field's ``value`` is text, a list of text, or None (an optional field left empty, or a
conditional field whose Yes/No answer is "No"). A statement the provider has not made is the
text :data:`~policy.provider.TO_BE_PROVIDED`, never an invented value.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from policy.provider import TO_BE_PROVIDED
from policy.summary.labels import FIELDS, SECTIONS, SUBPARTS

YES, NO = "Yes", "No"
#: What a conditional field shows when its Yes/No answer is "No".
NOT_APPLICABLE = "Not applicable"


def yes_no(value: Any) -> str:
    """Return "Yes"/"No" for a boolean statement, :data:`TO_BE_PROVIDED` when absent."""
    if value is True:
        return YES
    if value is False:
        return NO
    return TO_BE_PROVIDED


def text(value: Any) -> str:
    """Return a required statement as text, :data:`TO_BE_PROVIDED` when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return TO_BE_PROVIDED
    return str(value).strip()


def optional(value: Any) -> str | None:
    """Return an optional statement as text, None when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def modality_names(value: Any) -> list[str] | str:
    """Return a provider's list of modalities capitalised, :data:`TO_BE_PROVIDED` when absent."""
    if isinstance(value, str) and value.strip():
        value = [value]
    if not isinstance(value, list) or not value:
        return TO_BE_PROVIDED
    return [str(v).strip().capitalize() for v in value]


def dataset_list(value: Any) -> list[str] | str:
    """Return datasets (``{name, url, …}`` tables or text) one line each; TBP when absent."""
    if isinstance(value, str):
        return text(value)
    if not isinstance(value, list) or not value:
        return TO_BE_PROVIDED
    lines = []
    for entry in value:
        if isinstance(entry, dict):
            name = text(entry.get("name"))
            rest = [f"{k}: {v}" for k, v in entry.items() if k != "name" and v not in (None, "")]
            lines.append(f"{name} ({'; '.join(rest)})" if rest else name)
        else:
            lines.append(text(entry))
    return lines


class SectionBuilder:
    """Collect the values of one section's fields, then emit them in template order."""

    def __init__(self, number: str) -> None:
        """Start section *number* (e.g. ``"2.3"``)."""
        self.number = number
        self._values: dict[str, dict[str, Any]] = {}
        self._extra: dict[str, Any] = {}

    def set(self, key: str, value: Any, **details: Any) -> None:
        """Set field *key* to *value*; *details* (table, note, provenance) are kept with it."""
        self._values[key] = {"value": value, **{k: v for k, v in details.items() if v}}

    def conditional(self, answer: str, key: str, value: Any, **details: Any) -> None:
        """Set C-field *key*: *value* when *answer* is Yes, "Not applicable" when No."""
        if answer == NO:
            self.set(key, NOT_APPLICABLE)
        elif answer == YES:
            self.set(key, value, **details)
        else:  # the Yes/No itself is missing: so is whatever depends on it
            self.set(key, TO_BE_PROVIDED)

    def extra(self, **values: Any) -> None:
        """Add machine-readable keys to the section (e.g. ``crawlers``, ``top_domains``)."""
        self._extra.update(values)

    def build(self) -> dict[str, Any]:
        """Return the section as JSON-ready data; every field of the template must be set."""
        fields = []
        for spec in FIELDS[self.number]:
            if spec.key not in self._values:
                raise KeyError(f"section {self.number}: field {spec.key!r} not set")
            field: dict[str, Any] = {
                "key": spec.key,
                "label": spec.label,
                "requirement": spec.requirement,
            }
            if spec.depends_on:
                field["depends_on"] = list(spec.depends_on)
            if spec.part:
                field["part"] = spec.part
                field["part_title"] = SUBPARTS[spec.part]
            if spec.instruction:
                field["instruction"] = spec.instruction
            field.update(self._values[spec.key])
            fields.append(field)
        unknown = set(self._values) - {spec.key for spec in FIELDS[self.number]}
        if unknown:
            raise KeyError(f"section {self.number}: unknown fields {sorted(unknown)}")
        return {
            "number": self.number,
            "title": SECTIONS[self.number],
            "fields": fields,
            **self._extra,
        }


def lines(values: Iterable[str]) -> list[str]:
    """Return the non-empty lines of *values*."""
    return [v for v in values if v]
