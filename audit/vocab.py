"""The audit vocabulary: what the crawler did with a URL, and what kind of content it stored."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What the crawler did for one request attempt (one per decision row)."""

    #: Fetched, and the content entered the dataset.
    FETCHED_STORED = "fetched-stored"
    #: Fetched, but a page-level signal (header, meta, licence) excluded it from the dataset.
    FETCHED_EXCLUDED = "fetched-excluded"
    #: Not requested: robots.txt disallows it for our product token.
    SKIPPED_ROBOTS = "skipped-robots"
    #: Not requested: a site-level rights reservation covers it.
    SKIPPED_RESERVATION = "skipped-reservation"
    #: Not requested now: a signal source could not be read; retried later (fail closed).
    DEFERRED = "deferred"
    #: 401/402/403, login form, paywall or CAPTCHA: recorded and never circumvented (AC-06).
    ACCESS_RESTRICTED = "access-restricted"
    #: The domain is on the infringing-site denylist (AC-07).
    DENYLISTED = "denylisted"
    #: The request failed (network error, timeout, 5xx on the page itself).
    ERROR = "error"


class Modality(StrEnum):
    """Content modality of a stored item (template section 1.3 bins)."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    OTHER = "other"


#: Bytes per token of the estimate: a common rule of thumb for English text with BPE tokenizers.
BYTES_PER_TOKEN = 4


def estimate_tokens(size: int) -> int:
    """Return a token estimate for *size* bytes of extracted text (ceil(size / 4))."""
    if size < 0:
        raise ValueError("size must not be negative")
    return -(-size // BYTES_PER_TOKEN)


def modality_of(content_type: str) -> Modality:
    """Return the modality of a media type (``text/html`` → TEXT, ``video/mp4`` → VIDEO, …)."""
    media = content_type.split(";", 1)[0].strip().lower()
    major = media.partition("/")[0]
    if major == "text" or media.endswith(("+xml", "/json", "/xml", "/pdf")):
        return Modality.TEXT
    return {
        "image": Modality.IMAGE,
        "audio": Modality.AUDIO,
        "video": Modality.VIDEO,
    }.get(major, Modality.OTHER)
