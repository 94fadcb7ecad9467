"""What the claimant is told by e-mail: the receipt of their complaint, and each step after.

Plain text, in the words of the status page. The receipt carries the status URL (the only
time it can: its key is stored as a hash), as the outbox's secret, erased once sent. A
decision carries its reasoning and, when upheld with a reservation, the registry entries made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from audit.complaints import ComplaintRecord, ReceiptNotice, StepNotice
from audit.outbox import SECRET, Message
from audit.registry import RegistryRecord

#: A complaint's status → what the subject and the message say of it.
SAID = {
    "received": "was received",
    "acknowledged": "was acknowledged",
    "in-review": "is in review",
    "upheld": "was upheld",
    "rejected": "was rejected",
    "withdrawn": "was withdrawn",
}
_FOOTER = (
    "\n\n-- \nThis message was sent automatically about your complaint {ref}; "
    "please quote the reference when you write to us."
)


def receipt_notice(status_url: Callable[[str], str]) -> ReceiptNotice:
    """Return the receipt builder; *status_url* turns a status key into its URL."""

    def build(c: ComplaintRecord, key: str) -> Message:
        s = c.submission
        concerns = "\n".join(f"  - {x}" for x in s.concerns)
        body = (
            f"Dear {s.claimant},\n\n"
            f"we received your complaint on {c.received_at:%d %B %Y at %H:%M} UTC. "
            f"Its reference is {c.reference}.\n\n"
            f"It concerns:\n{concerns}\n\n"
            f"You can follow its handling, step by step, at\n\n  {SECRET}\n\n"
            "Keep this link: it is the only key to your complaint's status page, and it is "
            "not stored anywhere we could send it from again. We will also write to you at "
            "each step."
        ) + _FOOTER.format(ref=c.reference)
        return _message(c, "received", body, secret=status_url(key))

    return build


def step_notice() -> StepNotice:
    """Return the builder of the message of each step after the receipt."""

    def build(c: ComplaintRecord, made: Sequence[RegistryRecord]) -> Message:
        step = c.steps[-1]
        lines = [
            f"Dear {c.submission.claimant},",
            "",
            (
                f"your complaint {c.reference}, received on {c.received_at:%d %B %Y}, "
                f"{SAID[step.status]} on {step.at:%d %B %Y at %H:%M} UTC."
            ),
        ]
        if step.reason:
            label = "Our reasoning" if step.status in ("upheld", "rejected") else "Note"
            lines += ["", f"{label}:", step.reason]
        if made:
            lines += [
                "",
                (
                    "These are now in our reservations registry, which our crawler honours "
                    "from its next request on:"
                ),
                *(f"  - {e.scope} {e.target}: reserved for {', '.join(e.purposes)}" for e in made),
            ]
        lines += ["", "The status page whose link we sent with our receipt shows every step."]
        return _message(c, step.status, "\n".join(lines) + _FOOTER.format(ref=c.reference))

    return build


def _message(c: ComplaintRecord, topic: str, body: str, secret: str | None = None) -> Message:
    return Message(
        recipient=c.submission.email,
        subject=f"Your complaint {c.reference} {SAID[topic]}",
        body=body,
        topic=topic,
        complaint_id=c.id,
        secret=secret,
    )
