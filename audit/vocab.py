"""The audit vocabulary: what kind of content an item is, and its size in tokens.

What the crawler did with a URL (:class:`optout.action.Action`) sits beside the decision model,
so that the crawler's middleware names it without loading the database layer.
"""

from __future__ import annotations

from enum import StrEnum


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
