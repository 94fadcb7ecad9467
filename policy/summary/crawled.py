"""Sections computed from the audit database: §1.3 sizes and dates, §2.3 crawled data, §3.1.

Every figure carries its provenance: the crawl runs it covers, the query it comes from (its SQL
is published under ``provenance.queries``) and how it was derived from that query's rows.
"""

from __future__ import annotations

from typing import Any

from audit import ScopeRun, SummaryData
from policy.protocols import protocol_label
from policy.provider import TO_BE_PROVIDED, Model, ProviderConfig
from policy.summary import figures
from policy.summary.behaviour import (
    STAGE,
    behaviour,
    exclusion_lines,
    exclusion_table,
    protocol_lines,
    protocol_set_line,
)
from policy.summary.fields import NO, YES, SectionBuilder, optional, text, yes_no
from policy.summary.rules import (
    BINS,
    format_number,
    month_year,
    plural,
    rule_text,
    top_domain_count,
)

_UNITS = {"bytes": "bytes of stored content", "tokens": "text tokens"}


def provenance(runs: list[int], query: str, derivation: str) -> dict[str, Any]:
    """Return the provenance of a figure: runs, query name, derivation."""
    return {"runs": runs, "query": query, "derivation": derivation}


def section_1_3(data: SummaryData, model: Model | None) -> dict[str, Any]:
    """Return §1.3: modalities, size ranges, types of content, dates, characteristics."""
    s = SectionBuilder("1.3")
    totals = figures.modality_totals(data.kinds)
    content_types = {} if model is None else model.content_types
    hours = {} if model is None else model.hours
    rows, sizes, types, provs = [], [], [], []
    for t in totals:
        name = _modality_name(t.modality, data)
        size, figure, prov = _size(t, hours)
        desc = text(content_types.get(t.modality))
        rows.append([name, size, figure, desc])
        sizes.append(f"{name}: {size} ({figure})")
        types.append(f"{name}: {desc}")
        provs.append({"modality": t.modality, **prov})
    table = {
        "columns": ["Modality", "Training data size", "Aggregated figure", "Types of content"],
        "rows": rows,
    }
    s.set("modalities", [r[0] for r in rows] or TO_BE_PROVIDED)
    s.set(
        "sizes",
        sizes or TO_BE_PROVIDED,
        table=table if rows else None,
        note=SIZE_METHOD,
        provenance=provs,
    )
    s.set("content_types", types or TO_BE_PROVIDED)
    span = figures.period(data.kinds)
    runs = figures.contributing_runs(data.kinds)
    s.set(
        "latest_collection",
        month_year(span[1]) if span else TO_BE_PROVIDED,
        provenance=provenance(
            runs, "items", "MAX(last) over the rows: the latest stored_item.time"
        ),
    )
    s.set("continuously_trained", yes_no(None if model is None else model.continuously_trained))
    s.set("linguistic", text(None if model is None else model.linguistic))
    s.set("other_characteristics", text(None if model is None else model.other_characteristics))
    s.set("comments", optional(None if model is None else model.comments))
    return s.build()


SIZE_METHOD = (
    "Sizes count the content Heed's crawler stored for this model's training set (section 2.3; "
    "the scope is stated under provenance). Text: tokens as recorded by the dataset writer; a "
    "text item recorded without a token count is estimated at ceil(bytes / 4) tokens. Image: "
    "the number of image items. Audio and video: hours as stated by the provider (the audit "
    "database records bytes, not durations); audio inside a video counts as video. A size equal "
    "to a range boundary falls in the middle range ('Less than' and 'More than' exclude the "
    "boundary). Datasets described in sections 2.1, 2.2, 2.4-2.6 are not included in these "
    "figures."
)


def _modality_name(modality: str, data: SummaryData) -> str:
    if modality != "other":
        return modality.capitalize()
    media = [m for m, _ in figures.media_types(g for g in data.kinds if g.modality == "other")]
    return f"Other ({', '.join(media)})"


def _size(t: figures.ModalityTotal, hours: dict[str, float]) -> tuple[str, str, dict[str, Any]]:
    """Return (size range, aggregated figure, provenance) of one modality."""
    runs = list(t.run_ids)
    volume = f"{plural(t.items, 'item')}, {plural(t.bytes, 'byte')}"
    where = f"rows with modality = '{t.modality}'"
    if t.modality == "text":
        estimated = (
            f"; tokens of {plural(t.estimated, 'item')} estimated from bytes" if t.estimated else ""
        )
        figure = f"{plural(t.tokens, 'token')}; {volume}{estimated}"
        return (
            BINS["text"].select(t.tokens),
            figure,
            provenance(runs, "items", f"SUM(tokens), {where}"),
        )
    if t.modality == "image":
        figure = f"{plural(t.items, 'image')}; {plural(t.bytes, 'byte')}"
        return (
            BINS["image"].select(t.items),
            figure,
            provenance(runs, "items", f"SUM(items), {where}"),
        )
    if t.modality in ("audio", "video"):
        stated = hours.get(t.modality)
        prov = provenance(runs, "items", f"SUM(items), SUM(bytes), {where}")
        if stated is None:
            return TO_BE_PROVIDED, f"{volume}; hours not stated ([[model]] hours)", prov
        prov["hours"] = "stated by the provider in heed.toml [[model]] hours"
        figure = f"{format_number(stated)} hours (provider statement); {volume}"
        return BINS[t.modality].select(stated), figure, prov
    figure = f"{plural(t.bytes, 'byte')} in {plural(t.items, 'item')}"
    return (
        f"Approximately {format_number(t.bytes)} bytes",
        figure,
        provenance(runs, "items", f"SUM(bytes), {where}"),
    )


def section_2_3(
    data: SummaryData,
    config: ProviderConfig,
    model: Model | None,
    *,
    sme: bool,
    sources: dict[str, Any],
) -> dict[str, Any]:
    """Return §2.3 (data crawled and scraped from online sources) from the audit database."""
    s = SectionBuilder("2.3")
    runs_used = figures.contributing_runs(data.kinds)
    answer = YES if runs_used else NO
    s.set(
        "used",
        answer,
        provenance=provenance(runs_used, "items", "Yes iff the query returns any row"),
    )
    runs = [run for run in data.scope.runs if run.id in set(runs_used)]
    crawlers = _crawlers(runs)
    s.conditional(answer, "crawlers", [c["name"] for c in crawlers])
    s.conditional(answer, "purposes", text(config.crawler.purpose))
    s.conditional(answer, "behaviour", behaviour(data, runs) if runs else None)
    span = figures.period(data.kinds)
    s.conditional(
        answer,
        "period",
        f"{month_year(span[0])} to {month_year(span[1])}" if span else None,
        provenance=provenance(runs_used, "items", "MIN(first), MAX(last): stored_item.time"),
    )
    crawled = sources.get("crawled", {}) if isinstance(sources.get("crawled"), dict) else {}
    media = figures.media_types(data.kinds)
    ranked = figures.rank_domains(data.domains, _metric(model))
    content = [
        text(crawled.get("description")),
        f"Collected: {plural(sum(n for _, n in media), 'item')} from "
        f"{plural(len(ranked), 'registrable domain')}; media types: "
        + ", ".join(f"{m} ({format_number(n)})" for m, n in media)
        + ".",
    ]
    s.conditional(answer, "content", content)
    s.conditional(
        answer,
        "modalities",
        [m.modality.capitalize() for m in figures.modality_totals(data.kinds)],
    )
    top, rule = _top_domains(ranked, model, sme=sme, runs=runs_used)
    s.conditional(
        answer,
        "domains",
        [d.domain for d in top],
        note=rule["method"],
        table={
            "columns": ["Rank", "Registrable domain", f"Size ({rule['unit']})", "Items"],
            "rows": [[d.rank, d.domain, d.size, d.items] for d in top],
        },
        provenance=rule["provenance"],
    )
    s.set("comments", optional(crawled.get("comments")))
    s.extra(
        crawlers=[c["name"] for c in crawlers],
        crawler_details=crawlers,
        top_domains=[d.domain for d in top],
        top_domains_ranking=[
            {"rank": d.rank, "domain": d.domain, "size": d.size, "items": d.items, "bytes": d.bytes}
            for d in top
        ],
        top_domains_rule=rule,
    )
    return s.build()


def _metric(model: Model | None) -> str:
    return (model.size_metric if model is not None else None) or "bytes"


def _crawlers(runs: list[ScopeRun]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = out.setdefault(
            run.product_token,
            {
                "name": run.product_token,
                "crawler_name": run.crawler_name,
                "user_agent": run.user_agent,
                "user_agents": [],
                "run_ids": [],
                "run_keys": [],
            },
        )
        if run.user_agent not in entry["user_agents"]:
            entry["user_agents"].append(run.user_agent)
        entry["run_ids"].append(run.id)
        entry["run_keys"].append(run.key)
    return list(out.values())


def _top_domains(
    ranked: list[figures.RankedDomain], model: Model | None, *, sme: bool, runs: list[int]
) -> tuple[list[figures.RankedDomain], dict[str, Any]]:
    metric = _metric(model)
    n = len(ranked)
    count = top_domain_count(n, sme=sme)
    unit = _UNITS[metric]
    method = (
        "Registrable domains (eTLD+1 by the Public Suffix List: www.example.co.uk and "
        f"blog.example.co.uk count as example.co.uk) ranked by the total {unit} of the items in "
        "the training set, largest first, ties broken by domain name (ascending); listed: "
        f"{rule_text(sme=sme)}. N = {format_number(n)}, so {plural(count, 'domain')} "
        f"{'is' if count == 1 else 'are'} listed."
    )
    rule = {
        "n": n,
        "count": count,
        "sme": sme,
        "metric": metric,
        "unit": unit,
        "rule": rule_text(sme=sme),
        "method": method,
        "provenance": provenance(
            runs,
            "items",
            f"per domain SUM({'tokens' if metric == 'tokens' else 'bytes'}); N = COUNT(DISTINCT "
            "domain); ORDER BY size DESC, domain ASC",
        ),
    }
    return ranked[:count], rule


def section_3_1(
    data: SummaryData, config: ProviderConfig, sources: dict[str, Any], handling: list[str]
) -> dict[str, Any]:
    """Return §3.1: signatory status, and the measures from the protocols and exclusion counts."""
    s = SectionBuilder("3.1")
    s.set("signatory", yes_no(config.provider.signatory))
    runs = data.scope.run_ids
    measures: list[str | list[str]] = [
        STAGE,
        "Opt-out protocols and solutions honoured by the provider's crawler:",
        protocol_lines(),
        protocol_set_line(data.scope.runs),
    ]
    if data.signals:
        measures.append(
            "Protocols and parser versions recorded with the signals behind the training "
            "content: "
            + ", ".join(
                f"{protocol_label(protocol)} ({parser})" for protocol, parser in data.signals
            )
            + "."
        )
    if data.exclusions:
        measures.append("Requests and content excluded during collection (crawl runs in scope):")
        measures.append(exclusion_lines(data.exclusions))
    else:
        measures.append("No request or content was excluded during the crawl runs in scope.")
    measures.extend(handling)
    measures.append(_third_parties(config, sources))
    prov = provenance(
        runs,
        "exclusions",
        "per restricting protocol (or action) COUNT(DISTINCT url), COUNT(DISTINCT domain), "
        "COUNT(*) over decisions with an excluding action",
    )
    s.set("measures", measures, provenance=prov)
    s.set("comments", optional(config.measures.get("optout_comments")))
    s.extra(exclusions={**exclusion_table(data.exclusions), "provenance": prov})
    return s.build()


def _third_parties(config: ProviderConfig, sources: dict[str, Any]) -> str:
    """Return the third-party opt-out statement (not applicable when no datasets were obtained)."""
    stated = config.measures.get("third_party_optouts")
    label = "Opt-out handling by third parties from which datasets were obtained: "
    if isinstance(stated, str) and stated.strip():
        return label + stated.strip()
    used = [
        (sources.get(name) or {}).get("used") if isinstance(sources.get(name), dict) else None
        for name in ("public_datasets", "licensed", "private")
    ]
    if all(u is False for u in used):
        return (
            label + "not applicable (no datasets obtained from third parties, sections 2.1, 2.2)."
        )
    return label + TO_BE_PROVIDED


def denylist_fact(data: SummaryData) -> str | None:
    """Return the denylist refusals of the runs in scope as a sentence (None: none)."""
    refused = sum(a.decisions for a in data.actions if a.action == "denylisted")
    if not refused:
        return None
    versions = data.denylists
    listed = f" (list versions {', '.join(versions)})" if versions else ""
    return (
        f"During collection the crawler refused {plural(refused, 'request')} to domains on the "
        f"infringing-site denylist{listed}."
    )
