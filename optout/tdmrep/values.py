"""TDMRep values written as text: one layer's ``tdm-reservation`` / ``tdm-policy`` → a Signal.

Every TDMRep layer but the JSON file writes its values as text (HTTP headers, HTML meta, EPUB OPF
meta, PDF XMP), so they share one reading, :func:`statement` (docs/protocols.md#tdmrep-values),
and one way of picking the strictest of several layers' values (:func:`strictest`). Kept apart
from the layers so that the page-level signals (:mod:`optout.tdmrep.page`) and the EPUB and PDF
readers (:mod:`optout.tdmrep.assets`) read values identically.

Choices (recorded in flags):

* Only ``1`` and ``0`` are values (any other value is a protocol error, read as unset).
  ``Policy.lenient_values`` maps ``true`` / ``yes`` to 1 (flag ``nonconformant``) only where a
  type system makes the near-miss a typed spelling of 1: the JSON file (T09, in
  :mod:`optout.tdmrep.wellknown`) and XMP, whose Boolean type serialises as ``True``. Headers,
  HTML meta and EPUB meta are text tokens and stay strict: T14 needs ``tdm-reservation: true``
  unset.
* Several values in one layer (repeated header, comma list, several meta tags): a 1 among them
  reserves (conservative; flags ``nonconformant``, plus ``conflict`` if a 0 is there too).
* ``tdm-policy`` becomes ``licence_url`` only with a reservation (TDMRep says not to process
  ``tdm-policy`` given with 0, T18); its value is still recorded in ``rule``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from optout.decision import Protocol, Purpose, Signal, Verdict
from optout.decision import most_restrictive as _most_restrictive

#: The parser named in every TDMRep signal's evidence (and in the published documents).
PARSER = "heed-tdmrep/1"
#: The purposes a TDMRep reservation speaks about (docs/protocols.md#signals-and-purposes);
#: search is not covered by TDMRep.
COVERED = (Purpose.TDM, Purpose.TRAIN_AI, Purpose.AI_INPUT)
#: Near-miss spellings of 1 that ``Policy.lenient_values`` accepts where a type system allows.
LENIENT_YES = frozenset({"1", "true", "yes"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """Where a layer's values were read: the evidence every signal of that layer carries."""

    source: str | None
    status: int | None = None
    fetched_at: str | None = None
    sha256: str | None = None


def verdict_purposes(verdict: Verdict) -> dict[Purpose, Verdict]:
    """Return *verdict* for every purpose TDMRep covers."""
    return dict.fromkeys(COVERED, verdict)


def policy_url(value: str, base: str | None) -> str | None:
    """Return the absolute http(s) URL of a ``tdm-policy`` value, or None if it is not one."""
    value = value.strip()
    try:
        url = urljoin(base, value) if base else value
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") and value else None


def _classify(tokens: Sequence[str], lenient: bool) -> tuple[Verdict | None, list[str]]:
    """Return the verdict of a layer's reservation tokens and the flags the reading needs."""
    ones = sum(t == "1" for t in tokens)
    zeros = sum(t == "0" for t in tokens)
    loose = sum(lenient and t.lower() in LENIENT_YES and t != "1" for t in tokens)
    flags = ["conflict"] if (ones or loose) and zeros else []
    if loose or len(tokens) > 1:
        flags.append("nonconformant")
    if ones or loose:
        return Verdict.RESERVED, flags  # a 1 next to noise or a 0 still reserves (conservative)
    if zeros == len(tokens):
        return Verdict.NOT_RESERVED, flags
    return None, [*flags, "invalid_value"]  # a 0 next to an invalid value: the field is unset


def statement(
    protocol: Protocol,
    reservations: Sequence[str],
    policies: Sequence[str],
    *,
    label: str,
    rule: str,
    at: Where,
    line: int | None = None,
    lenient: bool = False,
    split: bool = True,
) -> Signal | None:
    """Return the signal of one layer's ``tdm-reservation`` / ``tdm-policy`` text values."""
    if not reservations and not policies:
        return None
    tokens = [t.strip() for v in reservations for t in (v.split(",") if split else [v])]
    tokens = [t for t in tokens if t] or ([""] if reservations else [])
    urls = [u for u in (policy_url(p, at.source) for p in policies) if u]
    flags = [] if urls or not policies else ["invalid_policy"]
    verdict, more = _classify(tokens, lenient) if tokens else (None, ["policy_only"])
    flags.extend(more)
    if not tokens:
        # tdm-policy alone states no value, but replaces an earlier layer's policy
        # (docs/protocols.md#tdmrep-precedence).
        reason = f"{label}: tdm-policy without tdm-reservation"
    elif verdict is None:
        reason = f"{label} has no valid value ({', '.join(tokens)!r}): tdm-reservation is unset"
    elif verdict is Verdict.RESERVED:
        reason = f"{label} is 1: TDM rights reserved" + (f" (policy {urls[0]})" if urls else "")
    else:
        reason = f"{label} is 0: TDM rights not reserved"
    keep_url = urls and (verdict is Verdict.RESERVED or not tokens)
    return Signal(
        protocol=protocol,
        purposes=verdict_purposes(verdict) if verdict is not None else {},
        reason=reason,
        source=at.source,
        status=at.status,
        rule=rule,
        line=line,
        sha256=at.sha256,
        parser=PARSER,
        flags=tuple(dict.fromkeys(flags)),
        licence_url=urls[0] if keep_url else None,
        fetched_at=at.fetched_at,
    )


def add_flag(sig: Signal, flag: str) -> Signal:
    """Return *sig* with *flag* added (once)."""
    return sig if flag in sig.flags else replace(sig, flags=(*sig.flags, flag))


def strictest(signals: Sequence[Signal | None]) -> Signal | None:
    """Return the most restrictive TDMRep-valued signal, flagged ``conflict`` if values differ."""
    valued = [s for s in signals if s is not None and Purpose.TDM in s.purposes]
    if not valued:
        return next((s for s in signals if s is not None), None)
    verdicts = [s.purposes[Purpose.TDM] for s in valued]
    winner = next(s for s in valued if s.purposes[Purpose.TDM] is _most_restrictive(verdicts))
    return add_flag(winner, "conflict") if len(set(verdicts)) > 1 else winner
