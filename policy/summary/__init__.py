"""The EU public summary of training content (AI Act Art. 53(1)(d); docs/regulation.md AC-10–16).

What the template asks: docs/regulation.md#the-training-content-summary-template.

Library use, in three steps (``heed report summary`` runs them in this order)::

    body = build_summary(engine, config, model=None, sme=None)   # sections + provenance
    doc, is_new = publish_summary(engine, body)                    # a version in the audit DB
    text = render_summary(doc, "html", heed_version="1.0")       # or "md", "json"

``check(body, config)`` lists what ``--check`` reports. The rows behind every figure come from
audit's reporting queries (:func:`audit.summary_data`: which stored items count, the aggregate
queries over them, and their SQL); policy/ never reads the audit tables itself. Modules:
:mod:`.build` (body, publication, document), :mod:`.figures` (sums over the rows),
:mod:`.labels` (the template's wording), :mod:`.sections` and :mod:`.crawled` (the sections),
:mod:`.behaviour` (generated statements), :mod:`.rules` (bins, domain count, dates),
:mod:`.check`, :mod:`.charts`, :mod:`.render`; the command is heed/cli/report/summary.py.
"""

from __future__ import annotations

from policy.summary.build import build_summary, document, publish_summary
from policy.summary.check import check
from policy.summary.render import render_summary

__all__ = ["build_summary", "check", "document", "publish_summary", "render_summary"]
