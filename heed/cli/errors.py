"""Errors the commands show as one line, never a traceback (the audit ones: heed/cli/db.py).

Exit status 2 is bad usage or a configuration that refuses to start; 1 is a database (or any
other resource) that cannot be used; 3 is evidence that fails verification.
"""

from __future__ import annotations

import click


class ConfigRefused(click.ClickException):
    """A configuration (file, settings, seeds) the command refuses to start with: one line
    ``Error: …``, exit status 2 — without the usage text a mistyped option gets."""

    exit_code = 2
