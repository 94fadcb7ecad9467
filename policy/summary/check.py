"""``--check``: what a summary still lacks, and where statements and evidence disagree (AC-10).

A summary is complete when every required (R) field has a value, and every conditional (C)
field whose Yes/No answer is "Yes" is filled. It is consistent when heed.toml and the audit
database agree (the model's run keys exist; "no crawlers" is not said while crawled content is
in scope). An update is due (docs/regulation.md#summary-updates, AC-16) when the published
version no longer matches the evidence, or is over six months old while the model is still being
trained.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from audit.publications import Publication, body_sha256
from policy.provider import TO_BE_PROVIDED, ProviderConfig
from policy.statement_fields import not_provided, summary_keys
from policy.summary.fields import YES

#: A summary of a model still being trained is due for an update after this long.
UPDATE_INTERVAL = dt.timedelta(days=183)


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of ``--check``."""

    #: ``missing``, ``inconsistent`` or ``update-required``.
    kind: str
    #: Section number ("" for the document as a whole).
    section: str
    message: str

    def __str__(self) -> str:
        where = f"§{self.section} " if self.section else ""
        return f"{self.kind}: {where}{self.message}"


def missing_fields(body: dict[str, Any]) -> list[Problem]:
    """Return the R-fields "to be provided" and the C-fields left empty after a "Yes"."""
    out = []
    for number, section in body["sections"].items():
        fields = section["fields"]
        answers = {f["key"]: f["value"] for f in fields}
        for f in fields:
            label = f'"{f["label"]}"'
            fill = _fill(summary_keys(number, f["key"]))
            if f["requirement"] == "R" and not_provided(f["value"]):
                message = f"{label} is to be provided{_part(f)}: {fill}"
                out.append(Problem("missing", number, message))
            elif f["requirement"] == "C":
                deps = f.get("depends_on", [])
                triggered = not deps or any(answers.get(d) == YES for d in deps)
                if triggered and not_provided(f["value"]):
                    why = " (required after a Yes)" if deps else ""
                    message = f"{label} is to be provided{why}: {fill}"
                    out.append(Problem("missing", number, message))
    return out


def inconsistencies(body: dict[str, Any], config: ProviderConfig) -> list[Problem]:
    """Return the disagreements between heed.toml and the audit database."""
    out = []
    scope = body["provenance"]["scope"]
    if scope["missing_run_keys"]:
        keys = ", ".join(scope["missing_run_keys"])
        out.append(
            Problem(
                "inconsistent",
                "",
                f"model {scope['model']!r} lists crawl runs the audit database does not hold: "
                f"{keys}",
            )
        )
    crawled_used = _crawled_used(config, body)
    crawled = _value(body, "2.3", "used") == YES
    if crawled_used is False and crawled:
        out.append(
            Problem(
                "inconsistent",
                "2.3",
                "heed.toml says no crawlers were used ([sources] crawled.used = false) but "
                "crawled items are in the training set",
            )
        )
    if crawled_used is True and not crawled:
        out.append(
            Problem(
                "inconsistent",
                "2.3",
                "heed.toml says crawlers were used ([sources] crawled.used = true) but no "
                "crawled item is in the training set",
            )
        )
    return out


def update_due(
    body: dict[str, Any],
    latest: Publication | None,
    config: ProviderConfig,
    now: dt.datetime | None = None,
) -> list[Problem]:
    """Return why the published summary needs a new version (nothing if none is published)."""
    if latest is None:
        return []
    out = []
    if latest.sha256 != body_sha256(body):
        out.append(
            Problem(
                "update-required",
                "",
                f"published version {latest.version} no longer matches the evidence and "
                "statements: run heed report summary --publish to publish a new version",
            )
        )
    model = config.model(body.get("model") or None) if config.models else None
    still_training = model is not None and model.continuously_trained is True
    age = (now or dt.datetime.now(dt.UTC)) - latest.created_at
    if still_training and age > UPDATE_INTERVAL:
        out.append(
            Problem(
                "update-required",
                "",
                f"published version {latest.version} is {age.days} days old and the model is "
                "still being trained (update at least every six months)",
            )
        )
    return out


def check(
    body: dict[str, Any],
    config: ProviderConfig,
    latest: Publication | None = None,
    now: dt.datetime | None = None,
) -> list[Problem]:
    """Return every problem of *body*: missing fields, inconsistencies, updates due."""
    return [
        *missing_fields(body),
        *inconsistencies(body, config),
        *update_due(body, latest, config, now),
    ]


def _fill(keys: tuple[str, ...]) -> str:
    """Return what fills a field: its heed.toml key(s), or the evidence it comes from."""
    toml = [k for k in keys if k.startswith("[")]
    other = [k for k in keys if not k.startswith("[")]
    parts = [f"set {' and '.join(toml)} in heed.toml"] if toml else []
    parts += [f"needs {k}" for k in other]
    return "; ".join(parts)


def _part(field: dict[str, Any]) -> str:
    """Name the missing part of a composite value (generated text with one statement missing)."""
    value = field["value"]
    if value == TO_BE_PROVIDED or not isinstance(value, list):
        return ""
    for part in _strings(value):
        if TO_BE_PROVIDED in part and part != TO_BE_PROVIDED:
            head = part.split(TO_BE_PROVIDED, 1)[0].strip().rstrip(":").strip()
            return f" (in part: {head})" if head else ""
    return ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def _value(body: dict[str, Any], section: str, key: str) -> Any:
    return next(f["value"] for f in body["sections"][section]["fields"] if f["key"] == key)


def _crawled_used(config: ProviderConfig, body: dict[str, Any]) -> bool | None:
    model = config.model(body.get("model") or None) if config.models else None
    crawled = config.sources_for(model).get("crawled")
    if isinstance(crawled, dict) and isinstance(crawled.get("used"), bool):
        return bool(crawled["used"])
    return None
