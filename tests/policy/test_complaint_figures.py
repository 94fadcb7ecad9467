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


def test_recheck_sentence() -> None:
    import datetime as dt

    from audit import RecheckFigures
    from policy.reservations import recheck_sentence

    t = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    none = RecheckFigures(
        runs=0, first_at=None, last_at=None, last_run=None, items=0, reserved=0, unknown=0
    )
    assert recheck_sentence(none).endswith("; no re-check has been recorded yet.")
    three = RecheckFigures(
        runs=3,
        first_at=t,
        last_at=t + dt.timedelta(days=60),
        last_run="r",
        items=7,
        reserved=3,
        unknown=1,
    )
    assert recheck_sentence(three).endswith(
        ": 3 re-checks so far between 01 March 2026 (2026-03-01) and the latest on 30 April "
        "2026 (2026-04-30), which found 3 of 7 kept items reserved since and 1 whose site could "
        "not be read; such items are listed for removal from training sets."
    )
