"""The copyright policy states the complaints in figures (Measure 1.5; no personal data)."""

from __future__ import annotations

from audit import ComplaintFigures
from policy.reservations import complaint_sentence as _complaint_figures


def test_the_sentence() -> None:
    none = ComplaintFigures(received=0, upheld=0, rejected=0, withdrawn=0, median_days=None)
    assert _complaint_figures(none) == "No complaint has been lodged through the portal so far."
    open_only = ComplaintFigures(received=1, upheld=0, rejected=0, withdrawn=0, median_days=None)
    assert _complaint_figures(open_only) == (
        "1 complaint lodged through the portal so far: 0 upheld, 0 rejected, 0 withdrawn, 1 open."
    )
    some = ComplaintFigures(received=4, upheld=1, rejected=1, withdrawn=0, median_days=3.5)
    assert _complaint_figures(some) == (
        "4 complaints lodged through the portal so far: 1 upheld, 1 rejected, 0 withdrawn, "
        "2 open; the median time from receipt to decision was 3.5 days."
    )
