"""Render a summary document (policy.summary.build.document) as Markdown, HTML or JSON.

Markdown and HTML list every heading 1.1 to 3.3 in template order with the template's labels,
after the header (version, last update, previous versions). "To be provided" is marked: in
HTML as ``<span class="tbp">``, in Markdown in italics. The HTML page is self-contained
(templates/_base.html.j2) with two inline SVG charts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from policy.protocols import action_label
from policy.provider import TO_BE_PROVIDED
from policy.render import render
from policy.summary.charts import MAX_BARS, bar_chart
from policy.summary.labels import (
    LAST_UPDATE_LABEL,
    PARTS,
    PREVIOUS_LABEL,
    VERSION_LABEL,
)
from policy.summary.rules import format_number

FORMATS = ("md", "html", "json")


def render_summary(doc: dict[str, Any], fmt: str, *, heed_version: str) -> str:
    """Return *doc* rendered as *fmt* (``md``, ``html`` or ``json``).

    *heed_version* is the version of Heed that generated it, named in the md and html forms
    (the caller's to give: policy/ does not import the crawler, which knows it).
    """
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {FORMATS}")
    context = {
        "doc": doc,
        "parts": _parts(doc),
        "labels": {
            "version": VERSION_LABEL,
            "last_update": LAST_UPDATE_LABEL,
            "previous": PREVIOUS_LABEL,
        },
        "heed_version": heed_version,
    }
    if fmt == "md":
        # Blank lines the template leaves between blocks: one is enough in Markdown.
        return re.sub(r"\n{3,}", "\n\n", render("summary.md.j2", md=_md, **context))
    return render("summary.html.j2", mark=_mark, charts=_charts(doc), **context)


def _parts(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the template's parts with their sections, each section's fields grouped by
    sub-part (2.2.1, 2.2.2)."""
    out = []
    for number, title in PARTS:
        sections = []
        for key, section in doc["sections"].items():
            if key.split(".")[0] != number:
                continue
            groups: list[dict[str, Any]] = []
            for field in section["fields"]:
                part = field.get("part")
                if not groups or groups[-1]["part"] != part:
                    groups.append({"part": part, "title": field.get("part_title"), "fields": []})
                groups[-1]["fields"].append({**field, "entries": _entries(field["value"])})
            sections.append({**section, "groups": groups})
        out.append({"number": number, "title": title, "sections": sections})
    return out


def _entries(value: Any) -> list[dict[str, Any]]:
    """Return a list value as entries ``{text, sub}``: a nested list details the entry before
    it (a list value's shape in the JSON form)."""
    if not isinstance(value, list):
        return []
    out: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, list) and out:
            out[-1]["sub"].extend(item)
        elif isinstance(item, list):
            out.append({"text": "", "sub": list(item)})
        else:
            out.append({"text": item, "sub": []})
    return out


def _charts(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Return section number → figures (caption, SVG) for the HTML page."""
    s23 = doc["sections"]["2.3"]
    rule = s23.get("top_domains_rule", {})
    ranking = s23.get("top_domains_ranking", [])
    unit = "token" if rule.get("metric") == "tokens" else "byte"
    domains = bar_chart(
        "chart-domains",
        "Most relevant domain names by size of content in the training set",
        f"Horizontal bar chart of the first {min(len(ranking), MAX_BARS)} listed registrable "
        f"domains and the {rule.get('unit', unit)} stored from each.",
        [(d["domain"], d["size"]) for d in ranking],
        unit,
    )
    actions = doc.get("figures", {}).get("decisions_by_action", {}).get("rows", [])
    decisions = bar_chart(
        "chart-decisions",
        "Crawler decisions by action",
        "Horizontal bar chart of the number of recorded crawl decisions per action taken, in "
        "the crawl runs this summary covers.",
        [(action_label(a["action"]), a["decisions"]) for a in actions],
        "decision",
    )
    unit_words = rule.get("unit", unit)
    if len(ranking) <= MAX_BARS:
        caption = f"The listed domains ({len(ranking)}), by {unit_words}."
    else:
        caption = f"The first {MAX_BARS} of the {len(ranking)} listed domains, by {unit_words}."
    return {
        "2.3": [{"svg": domains, "caption": caption}],
        "3.1": [
            {
                "svg": decisions,
                "caption": "Decisions recorded in the crawl runs in scope, by action taken.",
            }
        ],
    }


def _mark(value: Any) -> Markup:
    """Return *value* HTML-escaped, with "to be provided" marked ``<span class="tbp">``."""
    escaped = str(escape(_plain(value)))
    return Markup(escaped.replace(TO_BE_PROVIDED, f'<span class="tbp">{TO_BE_PROVIDED}</span>'))


def _md(value: Any, *, cell: bool = False) -> str:
    """Return *value* for Markdown: "to be provided" in italics; table cells kept on one line."""
    text = _plain(value)
    if cell:
        text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace(TO_BE_PROVIDED, f"*{TO_BE_PROVIDED}*")


def _plain(value: Any) -> str:
    """Return *value* as text; numbers with thousands separators."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return str(value)
