"""All template sections, 1.1 to 3.3, in order: provider statements plus the audit figures.

Sections 1.1, 1.2, 2.1, 2.2, 2.4-2.6, 3.2 and 3.3 restate heed.toml (policy.provider); 1.3,
2.3 and 3.1 are computed from the audit database (policy.summary.crawled). A statement heed.toml
does not make is "to be provided", never a guess.
"""

from __future__ import annotations

from typing import Any

from audit import SummaryData
from policy.provider import TO_BE_PROVIDED, Model, ProviderConfig
from policy.summary.crawled import denylist_fact, section_1_3, section_2_3, section_3_1
from policy.summary.fields import (
    SectionBuilder,
    dataset_list,
    lines,
    modality_names,
    optional,
    text,
    yes_no,
)


def build_sections(
    data: SummaryData,
    config: ProviderConfig,
    model: Model | None,
    *,
    sme: bool,
    handling: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return every section keyed by number ("1.1" … "3.3"), in template order; *handling*:
    §3.1's sentences on complaints and the reservations registry."""
    sources = config.sources_for(model)
    return {
        "1.1": _section_1_1(config),
        "1.2": _section_1_2(model),
        "1.3": section_1_3(data, model),
        "2.1": _section_2_1(sources),
        "2.2": _section_2_2(sources),
        "2.3": section_2_3(data, config, model, sme=sme, sources=sources),
        "2.4": _section_2_4(sources),
        "2.5": _section_2_5(sources),
        "2.6": _section_2_6(sources),
        "3.1": section_3_1(data, config, sources, handling or []),
        "3.2": _section_3_2(data, config),
        "3.3": _section_3_3(config),
    }


def _table(sources: dict[str, Any], name: str) -> dict[str, Any]:
    value = sources.get(name)
    return value if isinstance(value, dict) else {}


def _section_1_1(config: ProviderConfig) -> dict[str, Any]:
    s = SectionBuilder("1.1")
    p = config.provider
    given = [v for v in (p.name, p.contact) if isinstance(v, str) and v.strip()]
    s.set("provider", "; ".join([text(p.name), text(p.contact)]) if given else TO_BE_PROVIDED)
    s.set("representative", text(p.authorised_representative))
    return s.build()


def _section_1_2(model: Model | None) -> dict[str, Any]:
    s = SectionBuilder("1.2")
    if model is None:
        s.set("versions", TO_BE_PROVIDED)
        s.set("dependencies", TO_BE_PROVIDED)
        s.set("placed_on", TO_BE_PROVIDED)
        return s.build()
    s.set("versions", list(model.versions) or [model.name])
    s.set("dependencies", text(model.dependencies))
    s.set("placed_on", text(model.placed_on))
    return s.build()


def _section_2_1(sources: dict[str, Any]) -> dict[str, Any]:
    s = SectionBuilder("2.1")
    t = _table(sources, "public_datasets")
    used = yes_no(t.get("used"))
    s.set("used", used)
    s.conditional(used, "modalities", modality_names(t.get("modalities")))
    s.conditional(used, "large", dataset_list(t.get("large")))
    s.conditional(used, "other", text(t.get("other")))
    s.set("comments", optional(t.get("comments")))
    return s.build()


def _section_2_2(sources: dict[str, Any]) -> dict[str, Any]:
    s = SectionBuilder("2.2")
    licensed = _table(sources, "licensed")
    answer = yes_no(licensed.get("used"))
    s.set("licensed", answer)
    s.conditional(answer, "licensed_modalities", modality_names(licensed.get("modalities")))
    private = _table(sources, "private")
    answer = yes_no(private.get("used"))
    s.set("private", answer)
    s.conditional(answer, "private_modalities", modality_names(private.get("modalities")))
    s.conditional(answer, "private_listed", dataset_list(private.get("listed")))
    s.conditional(answer, "private_other", text(private.get("other")))
    comments = [optional(licensed.get("comments")), optional(private.get("comments"))]
    s.set("private_comments", "\n".join(c for c in comments if c) or None)
    return s.build()


def _section_2_4(sources: dict[str, Any]) -> dict[str, Any]:
    s = SectionBuilder("2.4")
    t = _table(sources, "user_data")
    interactions = yes_no(t.get("model_interactions"))
    services = yes_no(t.get("other_services"))
    s.set("model_interactions", interactions)
    s.set("other_services", services)
    s.conditional(services, "services", text(t.get("services")))
    # Required when either answer is Yes; not applicable only when both are No.
    if "Yes" in (interactions, services):
        either = "Yes"
    elif interactions == services == "No":
        either = "No"
    else:
        either = TO_BE_PROVIDED
    s.conditional(either, "modalities", modality_names(t.get("modalities")))
    s.set("comments", optional(t.get("comments")))
    return s.build()


def _section_2_5(sources: dict[str, Any]) -> dict[str, Any]:
    s = SectionBuilder("2.5")
    t = _table(sources, "synthetic")
    used = yes_no(t.get("used"))
    s.set("used", used)
    s.conditional(used, "modalities", modality_names(t.get("modalities")))
    s.conditional(used, "market_models", text(t.get("models")))
    s.conditional(used, "other_models", text(t.get("other_models")))
    s.set("comments", optional(t.get("comments")))
    return s.build()


def _section_2_6(sources: dict[str, Any]) -> dict[str, Any]:
    s = SectionBuilder("2.6")
    t = _table(sources, "other")
    used = yes_no(t.get("used"))
    s.set("used", used)
    s.conditional(used, "description", text(t.get("description")))
    s.set("comments", optional(t.get("comments")))
    return s.build()


def _section_3_2(data: SummaryData, config: ProviderConfig) -> dict[str, Any]:
    s = SectionBuilder("3.2")
    fact = denylist_fact(data)
    s.set("measures", lines([text(config.measures.get("illegal_content")), fact or ""]))
    return s.build()


def _section_3_3(config: ProviderConfig) -> dict[str, Any]:
    s = SectionBuilder("3.3")
    s.set("other", optional(config.measures.get("other_processing")))
    return s.build()
