"""Jinja2 rendering shared by the published documents (summary, copyright policy, crawler page).

HTML pages are self-contained: one file, the stylesheet inline (``templates/_base.html.j2``), no
script, no font or image fetched from anywhere, so a page can be archived, mailed or served as a
static file and looks the same offline. Autoescaping is on for HTML and XML (provider statements
and crawled domain names are untrusted text); undefined template variables are errors, so a
missing field fails a test instead of rendering blank.
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from policy.protocols import action_label, knob_label, knob_value, purpose_label
from policy.provider import TO_BE_PROVIDED


@cache
def environment() -> Environment:
    """Return the Jinja2 environment over ``policy/templates``."""
    env = Environment(
        loader=PackageLoader("policy", "templates"),
        autoescape=select_autoescape(("html", "xml", "html.j2", "xml.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["TO_BE_PROVIDED"] = TO_BE_PROVIDED
    env.filters["provided"] = provided
    # Recorded values in words: a published page never shows an internal identifier alone.
    env.filters["action"] = action_label
    env.filters["purpose"] = purpose_label
    env.filters["knob"] = knob_label
    env.filters["knob_value"] = lambda value, name: knob_value(name, value)
    return env


def render(template: str, **context: Any) -> str:
    """Render the template named *template* with *context*."""
    return environment().get_template(template).render(**context)


def provided(value: Any) -> Any:
    """Return *value*, or :data:`TO_BE_PROVIDED` when it is None or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return TO_BE_PROVIDED
    return value


def write_document(path: Path, text: str) -> None:
    """Write *text* to *path* (UTF-8) atomically: a reader never sees half a document.

    The file is readable by everyone (0644), like any file a web server publishes.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
