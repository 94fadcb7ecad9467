"""Which heed.toml key fills which place of each published document.

``--check`` names every missing statement by the key that would fill it, and a publication that
would *withdraw* a statement (one the last published version made and this one lacks) is
refused unless asked for explicitly. Both need the same map, per document kind: the place in the
document (as a reader sees it), the heed.toml key(s) behind it, and whether it is required.

Some places are filled from the audit database, not heed.toml (the summary's sizes, the denylist
versions): their "key" says which evidence is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policy.provider import contains_tbp

#: What fills the places no heed.toml key can (named instead of a key).
STORED_ITEMS = "stored items in the audit database (a crawl with --out)"
DENYLIST_RECORDS = "a crawl with a denylist (setting OPTOUT_DENYLIST)"


@dataclass(frozen=True, slots=True)
class StatementField:
    """One place of a document that a provider statement fills."""

    #: The place, as a reader of the document finds it.
    where: str
    #: The heed.toml key(s) that fill it (or the evidence, for places filled from the audit).
    keys: tuple[str, ...]
    #: The place's value in the document.
    value: Any
    #: Whether ``--check`` reports it when missing (optional statements are not).
    required: bool = True

    @property
    def missing(self) -> bool:
        """Return whether the document lacks this statement."""
        return not_provided(self.value)

    def describe(self) -> str:
        """Return the place and its keys: ``[provider] complaints (complaints route)``."""
        return f"{', '.join(self.keys)} ({self.where})"


def not_provided(value: Any) -> bool:
    """Return True if *value* is absent, blank or holds "to be provided" (also in part)."""
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return True
    return contains_tbp(value)


# --- crawler information ---------------------------------------------------------------------

_CRAWLER_INFO = {
    "provider": ("provider", "[provider] name", True),
    "info_url": ("crawler information URL", "[crawler] info_url", True),
    "purpose": ("purpose of the crawler", "[crawler] purpose", True),
    "ip_ranges": ("published IP ranges", "[crawler] ip_ranges", False),
    "contact_point": ("point of contact", "[provider] contact_point", True),
    "complaints": ("complaints route", "[provider] complaints", True),
}


def crawler_info_fields(info: Mapping[str, Any]) -> list[StatementField]:
    """Return the statement places of the crawler information *info*."""
    return [
        StatementField(where, (key,), info.get(name), required)
        for name, (where, key, required) in _CRAWLER_INFO.items()
    ]


# --- copyright policy ----------------------------------------------------------------------

_POLICY = {
    "provider": ("provider", "[provider] name", True),
    "1.1.models": ("Measure 1.1 models covered", "[[model]] name", True),
    "1.1.responsibilities.policy_owner": (
        "Measure 1.1 owner of the policy",
        "[provider] policy_owner",
        True,
    ),
    "1.1.responsibilities.crawler_owner": (
        "Measure 1.1 owner of the crawler",
        "[provider] crawler_owner",
        True,
    ),
    "1.1.responsibilities.complaints_owner": (
        "Measure 1.1 owner of complaints",
        "[provider] complaints_owner",
        True,
    ),
    "1.2.denylist.description": (
        "Measure 1.2 sources of the infringing-site denylist",
        "[measures] denylist_sources",
        True,
    ),
    "1.2.denylist.sources": ("Measure 1.2 denylist versions in force", DENYLIST_RECORDS, True),
    "1.2.denylist.configured_list": (
        "Measure 1.2 denylist file",
        "[settings] OPTOUT_DENYLIST",
        True,
    ),
    "1.3.crawler_information.url": (
        "Measure 1.3 crawler information page",
        "[crawler] info_url",
        True,
    ),
    "1.3.crawler_information.feed": (
        "Measure 1.3 crawler information feed",
        "[crawler] feed_url",
        True,
    ),
    "1.3.recheck.cadence": (
        "Measure 1.3 re-check cadence of kept content",
        "[measures] recheck_cadence",
        True,
    ),
    "1.4.output_safeguards": (
        "Measure 1.4 output safeguards",
        "[measures] output_safeguards",
        True,
    ),
    "1.4.acceptable_use": ("Measure 1.4 acceptable use policy", "[measures] acceptable_use", True),
    "1.5.contact_point": ("Measure 1.5 point of contact", "[provider] contact_point", True),
    "1.5.complaints": ("Measure 1.5 complaints route", "[provider] complaints", True),
    "1.5.complaints_owner": (
        "Measure 1.5 handling of complaints",
        "[provider] complaints_owner",
        True,
    ),
}


def policy_fields(body: Mapping[str, Any]) -> list[StatementField]:
    """Return the statement places of the copyright policy *body* (either variant)."""
    out = []
    for path, (where, key, required) in _POLICY.items():
        found, value = _lookup(body, path)
        if found:
            out.append(StatementField(where, (key,), value, required))
    return out


def _lookup(body: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Return (found, value) of dotted *path* in *body* (section numbers are one step)."""
    if path == "provider":
        return "provider" in body, body.get("provider")
    section, _, rest = path.partition(".")
    section = f"{section}.{rest.split('.', 1)[0]}"
    node: Any = (body.get("sections") or {}).get(section)
    for step in rest.split(".", 1)[1].split("."):
        if not isinstance(node, Mapping) or step not in node:
            return False, None
        node = node[step]
    return True, node


# --- training-content summary -------------------------------------------------------------

_SOURCES = "[sources]"
_SUMMARY: dict[tuple[str, str], tuple[str, ...]] = {
    ("1.1", "provider"): ("[provider] name", "[provider] contact"),
    ("1.1", "representative"): ("[provider] authorised_representative",),
    ("1.2", "versions"): ("[[model]] name", "[[model]] versions"),
    ("1.2", "dependencies"): ("[[model]] dependencies",),
    ("1.2", "placed_on"): ("[[model]] placed_on",),
    ("1.3", "modalities"): (STORED_ITEMS,),
    ("1.3", "sizes"): (STORED_ITEMS, "[[model]] hours"),
    ("1.3", "content_types"): ("[[model]] content_types",),
    ("1.3", "latest_collection"): (STORED_ITEMS,),
    ("1.3", "continuously_trained"): ("[[model]] continuously_trained",),
    ("1.3", "linguistic"): ("[[model]] linguistic",),
    ("1.3", "other_characteristics"): ("[[model]] other_characteristics",),
    ("2.1", "used"): (f"{_SOURCES} public_datasets.used",),
    ("2.1", "modalities"): (f"{_SOURCES} public_datasets.modalities",),
    ("2.1", "large"): (f"{_SOURCES} public_datasets.large",),
    ("2.1", "other"): (f"{_SOURCES} public_datasets.other",),
    ("2.2", "licensed"): (f"{_SOURCES} licensed.used",),
    ("2.2", "licensed_modalities"): (f"{_SOURCES} licensed.modalities",),
    ("2.2", "private"): (f"{_SOURCES} private.used",),
    ("2.2", "private_modalities"): (f"{_SOURCES} private.modalities",),
    ("2.2", "private_listed"): (f"{_SOURCES} private.listed",),
    ("2.2", "private_other"): (f"{_SOURCES} private.other",),
    ("2.3", "purposes"): ("[crawler] purpose",),
    ("2.3", "content"): (f"{_SOURCES} crawled.description",),
    ("2.4", "model_interactions"): (f"{_SOURCES} user_data.model_interactions",),
    ("2.4", "other_services"): (f"{_SOURCES} user_data.other_services",),
    ("2.4", "services"): (f"{_SOURCES} user_data.services",),
    ("2.4", "modalities"): (f"{_SOURCES} user_data.modalities",),
    ("2.5", "used"): (f"{_SOURCES} synthetic.used",),
    ("2.5", "modalities"): (f"{_SOURCES} synthetic.modalities",),
    ("2.5", "market_models"): (f"{_SOURCES} synthetic.models",),
    ("2.5", "other_models"): (f"{_SOURCES} synthetic.other_models",),
    ("2.6", "used"): (f"{_SOURCES} other.used",),
    ("2.6", "description"): (f"{_SOURCES} other.description",),
    ("3.1", "signatory"): ("[provider] signatory",),
    ("3.1", "measures"): ("[measures] third_party_optouts",),
    ("3.2", "measures"): ("[measures] illegal_content",),
}


def summary_keys(section: str, key: str) -> tuple[str, ...]:
    """Return the heed.toml key(s) (or evidence) behind field *key* of summary *section*."""
    return _SUMMARY.get((section, key), (STORED_ITEMS,))


def summary_fields(body: Mapping[str, Any]) -> list[StatementField]:
    """Return the statement places of the summary *body* (every field a statement fills)."""
    out = []
    for number, section in (body.get("sections") or {}).items():
        for field in section["fields"]:
            keys = _SUMMARY.get((number, field["key"]))
            if keys is None:
                continue
            where = f'§{number} "{field["label"]}"'
            out.append(StatementField(where, keys, field["value"], field["requirement"] == "R"))
    return out


# --- any kind ------------------------------------------------------------------------------


def statement_fields(kind: str, body: Mapping[str, Any]) -> list[StatementField]:
    """Return the statement places of a document of publication *kind*."""
    if kind == "crawler-info":
        return crawler_info_fields(body)
    if kind in ("policy", "policy-public"):
        return policy_fields(body)
    if kind == "summary":
        return summary_fields(body)
    raise ValueError(f"no statement fields for kind {kind!r}")


def withdrawn(
    kind: str, previous: Mapping[str, Any] | None, body: Mapping[str, Any]
) -> list[StatementField]:
    """Return the statements the last published *previous* made and *body* no longer makes."""
    if previous is None:
        return []
    made = {f.where for f in statement_fields(kind, previous) if not f.missing}
    return [f for f in statement_fields(kind, body) if f.missing and f.where in made]
