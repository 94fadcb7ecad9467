"""Named AI crawler product tokens and what they are used for.

Under RFC 9309 a ``User-agent: GPTBot`` group does not bind Heed, and Heed never impersonates
these crawlers. A site that blocks them has nonetheless expressed intent: Heed flags every such
block (``named_ai_block``) and, with ``Policy.treat_named_ai_blocks_as_reservation`` (default on
for EU training use), treats a block of a *training* crawler as a reservation against AI training.
Blocks of search or user-fetch agents are logged only.

Source: ai-robots-txt/ai.robots.txt robots.json (2026-08-22) and vendor documentation as
summarised in docs/protocols.md#named-ai-crawlers.
"""

from __future__ import annotations

from typing import Final

#: Tokens whose documented purpose is collecting training data (or a control token for it).
TRAINING: Final[tuple[str, ...]] = (
    "GPTBot",
    "ClaudeBot",
    "anthropic-ai",
    "Claude-Web",
    "Google-Extended",
    "GoogleOther",
    "Applebot-Extended",
    "CCBot",
    "meta-externalagent",
    "FacebookBot",
    "Bytespider",
    "TikTokSpider",
    "cohere-training-data-crawler",
    "AI2Bot",
    "Ai2Bot-Dolma",
    "DeepSeekBot",
    "Diffbot",
    "Timpibot",
    "omgili",
    "omgilibot",
    "ImagesiftBot",
    "img2dataset",
    "PanguBot",
    "PetalBot",
    "Amazonbot",
)

#: AI search, answer and user-initiated fetch agents: a block is logged, not a training reservation.
AI_OTHER: Final[tuple[str, ...]] = (
    "OAI-SearchBot",
    "ChatGPT-User",
    "OAI-AdsBot",
    "Claude-SearchBot",
    "Claude-User",
    "PerplexityBot",
    "Perplexity-User",
    "DuckAssistBot",
    "meta-externalfetcher",
    "MistralAI-User",
    "YandexAdditional",
    "YandexAdditionalBot",
    "Google-CloudVertexBot",
    "cohere-ai",
)
