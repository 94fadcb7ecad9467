"""The writer's caches: what it has already seen, so that repeated content costs a look-up.

Origins, signals and outcomes are stored once under content-derived ids (:mod:`audit.rows`);
this mixin of :class:`audit.store.AuditStore` remembers the ids it computed (by the objects'
identity first, then by content) and which rows it has already queued, and builds the rows of
what is new. A cache that grows past its limit is simply cleared: queuing a row again is
harmless (``ON CONFLICT DO NOTHING``), only slower.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from audit.batch import Batch
from audit.rows import (
    canonical_digest,
    digest_id,
    fetch_values,
    hash_id,
    parse_time,
    purposes_text,
    signal_key,
    signal_values,
)
from audit.urls import parse_origin
from optout.decision import PROTOCOL_SET_VERSION, Decision, Policy, Signal
from optout.document import FetchResult

_V = TypeVar("_V")
#: ``scheme://authority`` at the start of an absolute URL.
PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
#: Cache sizes beyond which a cache is cleared.
_CACHE_LIMIT = 1 << 18


class RowCache:
    """Caches of an AuditStore, and the rows of what is new."""

    def __init__(self, time: Callable[[dt.datetime], Any], now: Callable[[], Any]) -> None:
        """Convert times with *time* and read the clock with *now* (the dialect's values)."""
        self._time = time
        self._now = now
        self._batch = Batch()
        self._policy_objs: dict[int, tuple[Policy, str, int]] = {}
        self._origins: dict[str, tuple[int, str]] = {}
        self._signals: dict[tuple[Any, ...], int] = {}
        self._signal_objs: dict[int, tuple[Signal, int]] = {}
        self._outcomes: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._known: set[Any] = set()

    def register_policy(self, policy: Policy, protocol_set: str = PROTOCOL_SET_VERSION) -> int:
        """Store *policy*'s knob values once; return its id."""
        raise NotImplementedError

    def _pending(self) -> None:
        raise NotImplementedError

    def record_document(self, result: FetchResult, *, kind: str, run_id: int | None = None) -> str:
        """Buffer a fetched signal document (bytes stored once per sha256); return its sha256."""
        sha = result.sha256
        batch = self._batch
        if ("doc", sha) not in self._known:
            now = self._now()
            batch.documents.append((sha, len(result.body), bytes(result.body), now))
            self._remember(("doc", sha))
        values = fetch_values(result, kind)
        fetch_id = hash_id(run_id, *values)
        if ("fetch", fetch_id) not in self._known:
            fetched = parse_time(result.fetched_at)
            origin_id = None
            match = PREFIX.match(result.url)
            if match is not None:
                origin = self._origins.get(match.group())
                if origin is None:
                    try:
                        origin = self._origin(match.group())
                    except ValueError:  # a URL without a usable origin is still evidence
                        origin = None
                origin_id = origin[0] if origin is not None else None
            batch.fetches.append(
                (
                    fetch_id,
                    sha,
                    run_id,
                    origin_id,
                    kind,
                    result.url,
                    result.final_url,
                    result.status,
                    result.error,
                    result.redirects,
                    bool(result.truncated),
                    values[8],
                    None if fetched is None else self._time(fetched),
                    self._now(),
                )
            )
            self._remember(("fetch", fetch_id))
        self._pending()
        return sha

    def _remember(self, key: Any) -> None:
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known.add(key)

    def _origin(self, prefix: str) -> tuple[int, str]:
        origin = parse_origin(prefix)
        origin_id = hash_id("origin", origin.origin)
        if ("origin", origin_id) not in self._known:
            row = (origin_id, origin.origin, origin.scheme, origin.host, origin.port, origin.domain)
            self._batch.origins.append(row)
            self._remember(("origin", origin_id))
        return self._cache(self._origins, prefix, (origin_id, origin.origin))

    def _signal_id(self, signal: Signal) -> int:
        key = signal_key(signal)
        signal_id = self._signals.get(key)
        if signal_id is None:
            values = signal_values(signal)
            digest = canonical_digest(values)
            signal_id = digest_id(digest)
            if ("signal", signal_id) not in self._known:
                self._batch.signals.append((signal_id, digest, *values))
                self._remember(("signal", signal_id))
            self._cache(self._signals, key, signal_id)
        self._cache(self._signal_objs, id(signal), (signal, signal_id))
        return signal_id

    def _outcome(
        self, shape: tuple[Any, ...], decision: Decision, signal_ids: list[int], policy_id: int
    ) -> tuple[int, Any]:
        values = (
            decision.crawl._value_,
            decision.use._value_,
            decision.purpose._value_,
            purposes_text(decision.purposes),
            json.dumps(list(decision.reasons), ensure_ascii=False),
            "[" + ",".join(map(str, signal_ids)) + "]",
            bool(decision.complete),
            bool(decision.licence_required),
            policy_id,
        )
        digest = canonical_digest(values)
        outcome_id = digest_id(digest)
        if ("outcome", outcome_id) not in self._known:
            self._batch.outcomes.append((outcome_id, digest, *values))
            self._remember(("outcome", outcome_id))
        return self._cache(self._outcomes, shape, (outcome_id, decision.purposes))

    def _policy_obj(self, policy: Policy, protocol_set: str) -> tuple[Policy, str, int]:
        entry = (policy, protocol_set, self.register_policy(policy, protocol_set))
        return self._cache(self._policy_objs, id(policy), entry)

    @staticmethod
    def _cache(cache: dict[Any, _V], key: Any, value: _V) -> _V:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return value
