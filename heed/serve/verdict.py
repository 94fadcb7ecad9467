"""The plain-language answer to "was my opt-out honoured?", from a domain's figures.

One of five answers, each a sentence a rightsholder can quote, with the dates and counts that
make it checkable:

* ``no-record`` — the crawler never requested anything there;
* ``no-reservation`` — it did, and no decision found a reservation of the use it collects for
  or a robots.txt refusal of its token;
* ``honoured`` — after the reservation was first seen, nothing was kept from the URLs it
  applied to;
* ``kept-after-reservation`` — content of such URLs was kept later, each time on a decision
  that no longer found the reservation (withdrawn, or no longer covering the URL): which items,
  when, and the decision's reasons;
* ``kept-while-reserved`` — content was kept on a decision that itself found the use reserved
  or the crawl refused: a fault of the crawler, said as such.

"Affected URLs" are the URLs whose decisions applied the reservation. The items are named by
id, host, time and size, not by URL (the URLs are the verified owner's view).
"""

from __future__ import annotations

from dataclasses import dataclass

from audit import HostView, KeptItem
from heed.serve.pages import day, moment


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one host or domain: a status, the sentence, and the items it names."""

    status: str
    text: str
    items: tuple[str, ...] = ()


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def verdict(view: HostView, *, tokens: tuple[str, ...], purposes: tuple[str, ...]) -> Verdict:
    """Return the answer for *view* (a host, or the whole registrable domain)."""
    uses = ", ".join(purposes) or "AI training"
    if view.decisions == 0:
        return Verdict("no-record", f"The crawler has no record of any request to {view.name}.")
    res = view.reservation
    if res is None:
        kept = view.kept
        text = (
            f"The crawler recorded {_plural(view.decisions, 'request attempt')} on {view.name} "
            f"between {day(view.first_decision)} and {day(view.last_decision)}; none found a "
            f"reservation of {uses} or a robots.txt refusal of "
            f"{'/'.join(tokens) or 'its product token'}. "
        )
        if kept.items:
            text += (
                f"It kept {_plural(kept.items, 'item')} ({kept.bytes:,} bytes) between "
                f"{day(kept.first)} and {day(kept.last)}."
            )
        else:
            text += "It kept no content."
        return Verdict("no-reservation", text)
    seen = (
        f"After your reservation was first seen on {moment(res.first_seen)} "
        f"({', '.join(res.protocols) or 'recorded signals'})"
    )
    if view.kept_while_reserved:
        items = _items(view.kept_after_reservation, faults_only=True)
        return Verdict(
            "kept-while-reserved",
            f"{_plural(view.kept_while_reserved, 'item')} of {view.name} "
            f"{_were(view.kept_while_reserved)} kept although "
            "the crawler's own decision found the use reserved or the crawl refused. This is a "
            "fault of the crawler, not a reading of your signals: the provider must remove "
            "them and answer for it (see the contact on the start page).",
            items,
        )
    if view.kept_after_total == 0:
        return Verdict(
            "honoured",
            f"{seen}, no content from the affected URLs was kept. The reservation applied to "
            f"{_plural(res.urls, 'URL')} in {_plural(res.decisions, 'decision')} until "
            f"{day(res.last_seen)}.",
        )
    shown = len(view.kept_after_reservation)
    more = "" if shown == view.kept_after_total else f" (the first {shown} are listed)"
    return Verdict(
        "kept-after-reservation",
        f"{seen}, {_plural(view.kept_after_total, 'item')} from the affected URLs "
        f"{_were(view.kept_after_total)} kept"
        f"{more}. Each was kept on a decision that found no reservation of the URL in force "
        "at that time (it had been withdrawn, or no longer covered the URL):",
        _items(view.kept_after_reservation, faults_only=False),
    )


def _items(items: tuple[KeptItem, ...], *, faults_only: bool) -> tuple[str, ...]:
    out = []
    for item in items:
        if faults_only and not item.while_reserved:
            continue
        why = "; ".join(item.reasons) or "no reason recorded"
        out.append(
            f"Item {item.id} ({item.host}, {item.bytes:,} bytes, {item.content_type}) kept on "
            f"{moment(item.time)}; the reservation of its URL was first seen on "
            f"{moment(item.reservation_first_seen)}; the decision of {moment(item.decided)} found: "
            f"crawl {item.crawl}, {item.purpose} {item.use} ({why})."
        )
    return tuple(out)
