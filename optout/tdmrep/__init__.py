"""W3C TDM Reservation Protocol (TDMRep): every layer a reservation is written in
(docs/protocols.md#tdmrep).

Vectors T01-T24. A reservation covers ``tdm``, ``train-ai`` and ``ai-input``; ``search`` is not
covered by TDMRep (docs/protocols.md#signals-and-purposes), so it is never stated. One module per
layer, because each is read at a different moment of a crawl:

* :mod:`~optout.tdmrep.wellknown` — the origin's ``/.well-known/tdmrep.json``, parsed once per
  origin (:func:`parse_wellknown` → :class:`TdmRepFile`), its rules compiled in
  :mod:`~optout.tdmrep.index`;
* :mod:`~optout.tdmrep.page` — a response's ``tdm-*`` headers and HTML meta, the precedence of all
  layers (:func:`resolve`), and what a ``tdm-policy`` document offers (:func:`policy_kind`);
* :mod:`~optout.tdmrep.assets` — EPUB OPF and PDF XMP metadata, read from the file's bytes;
* :mod:`~optout.tdmrep.values` — the shared reading of text values (``1``, ``0``, ``tdm-policy``).

Callers use this package as one module (``tdmrep.parse_wellknown(...)``, ``tdmrep.resolve(...)``);
the names below are that surface.
"""

from optout.tdmrep.assets import from_epub, from_epub_opf, from_pdf, from_pdf_xmp
from optout.tdmrep.page import (
    from_headers,
    from_html,
    most_restrictive_file,
    policy_kind,
    resolve,
)
from optout.tdmrep.values import PARSER
from optout.tdmrep.wellknown import WELL_KNOWN_PATH, FileState, TdmRepFile, parse_wellknown

__all__ = [
    "PARSER",
    "WELL_KNOWN_PATH",
    "FileState",
    "TdmRepFile",
    "from_epub",
    "from_epub_opf",
    "from_headers",
    "from_html",
    "from_pdf",
    "from_pdf_xmp",
    "most_restrictive_file",
    "parse_wellknown",
    "policy_kind",
    "resolve",
]
