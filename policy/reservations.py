"""What the published documents say of complaints, the reservations registry and the re-checks
of kept content (Measures 1.3 and 1.5; the summary's §3.1): counts only, no personal data, in
one sentence each."""

from __future__ import annotations

from audit import ComplaintFigures, RecheckFigures, RegistryFigures


def complaint_sentence(f: ComplaintFigures) -> str:
    """Return the complaints in figures: lodged, decided each way, open, median handling time."""
    if not f.received:
        return "No complaint has been lodged through the portal so far."
    counted = f"{f.received} complaint{'s' if f.received != 1 else ''} lodged through the portal"
    decided = f"{f.upheld} upheld, {f.rejected} rejected, {f.withdrawn} withdrawn, {f.open} open"
    if f.median_days is None:
        return f"{counted} so far: {decided}."
    return (
        f"{counted} so far: {decided}; the median time from receipt to decision was "
        f"{f.median_days:g} days."
    )


def registry_sentence(f: RegistryFigures) -> str:
    """Return the registry in figures: entries in force, and what it kept out."""
    entries = f"{f.in_force} entr{'ies' if f.in_force != 1 else 'y'} in force"
    if f.from_complaints:
        entries += f" ({f.from_complaints} from upheld complaints)"
    excluded = (
        f"it kept out {f.urls} URL{'s' if f.urls != 1 else ''} on {f.domains} registrable "
        f"domain{'s' if f.domains != 1 else ''} in the crawls so far"
        if f.decisions
        else "it has not had to keep any URL out of a crawl so far"
    )
    return (
        "Reservations notified other than on the site itself (by letter, or by a complaint "
        "upheld) are kept in a reservations registry that the crawler applies before every "
        f"request, as one more protocol: {entries}; {excluded}."
    )


def recheck_sentence(f: RecheckFigures) -> str:
    """Return the re-checks in figures: how many, the latest, and what it found."""
    what = (
        "Content kept by earlier crawls is re-checked against the opt-outs in force at the "
        "time of the re-check (robots.txt, the other protocols and the reservations registry)"
    )
    if not f.runs or f.last_at is None:
        return f"{what}; no re-check has been recorded yet."
    period = (
        f" between {f.first_at:%d %B %Y} ({f.first_at:%Y-%m-%d}) and"
        if f.first_at is not None and f.runs > 1
        else ","
    )
    return (
        f"{what}: {f.runs} re-check{'s' if f.runs != 1 else ''} so far{period} the latest on "
        f"{f.last_at:%d %B %Y} ({f.last_at:%Y-%m-%d}), which found {f.reserved} of {f.items} "
        f"kept item{'s' if f.items != 1 else ''} reserved since and {f.unknown} whose site "
        "could not be read; such items are listed for removal from training sets."
    )
