"""``heed evidence``: a stored signal document, exactly as it was fetched (AC-17, AC-20)."""

from __future__ import annotations

import base64
import json

import click

from audit.queries import evidence as load_evidence
from audit.queries import open_reader
from audit.records import StoredDocument, iso
from heed.cli.db import audit_errors, db_option


@click.command("evidence")
@click.argument("sha256")
@db_option
@click.option("--body", "body_only", is_flag=True, help="Print only the document's bytes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (body base64-encoded).")
def evidence(sha256: str, db: str | None, body_only: bool, as_json: bool) -> None:
    """Print the signal document SHA256 exactly as it was fetched.

    SHA256 is the document's hash as ``heed status`` shows it (64 hex digits, or a unique
    prefix of at least 8). The bytes are checked against the hash before anything is printed;
    a mismatch is an error (exit status 3). Without options: a header block with the status,
    headers and time of every retrieval of these bytes, a separator line, then the bytes
    unchanged. --body prints the bytes alone (e.g. to pipe into sha256sum).
    """
    with audit_errors(db):
        engine = open_reader(db)
        try:
            doc = load_evidence(engine, sha256)
        finally:
            engine.dispose()
    # click.echo writes bytes to the binary stream unchanged: no newline or encoding added.
    if body_only:
        click.echo(doc.body, nl=False)
    elif as_json:
        click.echo(json.dumps(_as_dict(doc), ensure_ascii=False, indent=2))
    else:
        click.echo(_header(doc).encode() + doc.body, nl=False)


def _header(doc: StoredDocument) -> str:
    lines = [
        f"sha256: {doc.sha256} (verified)",
        f"size: {doc.size} bytes",
        f"first stored: {iso(doc.first_seen)}",
    ]
    for n, fetch in enumerate(doc.fetches, 1):
        lines.append("")
        lines.append(f"retrieval {n} of {len(doc.fetches)}: {fetch.kind} {fetch.url}")
        if fetch.final_url and fetch.final_url != fetch.url:
            lines.append(f"final URL: {fetch.final_url} ({fetch.redirects} redirects)")
        lines.append(f"fetched: {iso(fetch.fetched_at) or 'unknown'}")
        status = str(fetch.status) if fetch.status is not None else "no response"
        lines.append(f"status: {status}" + (f" ({fetch.error})" if fetch.error else ""))
        if fetch.truncated:
            lines.append("body truncated at the crawler's size limit")
        lines.extend(f"{name}: {value}" for name, value in fetch.headers)
    lines.append("")
    lines.append(f"----- {doc.size} bytes as fetched -----")
    return "\n".join(lines) + "\n"


def _as_dict(doc: StoredDocument) -> dict[str, object]:
    return {
        "sha256": doc.sha256,
        "verified": True,
        "size": doc.size,
        "first_seen": iso(doc.first_seen),
        "retrievals": [fetch.to_dict() for fetch in doc.fetches],
        "body_base64": base64.b64encode(doc.body).decode("ascii"),
    }
