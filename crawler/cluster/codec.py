"""JSON for what the cluster keeps in Redis: requests, and the site documents of an origin.

scrapy-redis pickles requests by default; a frontier in a shared Redis would then run any code
whoever can write to that Redis puts there. Heed writes JSON instead, with a small closed set of
tagged types: bytes (``{"$b": base64}``), dicts whose keys are not all strings (Scrapy's headers:
``{"$d": [[k, v], ...]}``), tuples (``{"$t": [...]}``) and the wire notes of
:mod:`crawler.wire`. A value of any other type cannot be shared: :func:`dumps` raises ValueError
(the scheduler then keeps that request in the worker, and says so).

:func:`dumps` and :func:`loads` are the module-level pair scrapy-redis's ``SCHEDULER_SERIALIZER``
setting expects.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

import orjson
from scrapy import Request

from crawler.wire import WireOutcome
from optout.document import FetchResult
from optout.site import SiteDocuments

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy import Spider


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, WireOutcome):
        return {"$wire": [_encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"$t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise ValueError(f"a {type(value).__name__} cannot be kept in the shared frontier")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$b":
            return base64.b64decode(inner)
        if tag == "$t":
            return tuple(_decode(v) for v in inner)
        if tag == "$d":
            return {_decode(k): _decode(v) for k, v in inner}
        if tag == "$wire":
            return WireOutcome(*(_decode(v) for v in inner))
    return {k: _decode(v) for k, v in value.items()}


def dumps(obj: Any) -> bytes:
    """Return *obj* (a request's ``to_dict``) as tagged JSON; ValueError if it cannot be."""
    try:
        return orjson.dumps(_encode(obj))
    except orjson.JSONEncodeError as exc:  # an integer beyond 64 bits, say
        raise ValueError(f"cannot be kept in the shared frontier: {exc}") from None


def loads(data: bytes | str) -> Any:
    """Return the object :func:`dumps` wrote."""
    return _decode(orjson.loads(data))


def request_to_dict(request: Request, spider: Spider) -> dict[str, Any]:
    """Return ``request.to_dict(spider=spider)``, naming the spider's callback and errback
    directly: Scrapy finds their names with ``inspect.getmembers`` of the whole spider, per
    request (a tenth of a millisecond a request, measured on a shared crawl's worker)."""
    callback = _method_name(spider, request.callback)
    errback = _method_name(spider, request.errback)
    if callback is None or errback is None:
        return request.to_dict(spider=spider)  # not a method of the spider's: Scrapy decides
    found: dict[str, Any] = {
        "url": request.url,
        "callback": callback or None,
        "errback": errback or None,
        "headers": dict(request.headers),
    }
    for attr in request.attributes:
        found.setdefault(attr, getattr(request, attr))
    if type(request) is not Request:
        found["_class"] = f"{type(request).__module__}.{type(request).__name__}"
    return found


def _method_name(spider: Spider, func: Callable[..., Any] | str | None) -> str | None:
    """Return the name of *func* on *spider* ("" for none), or None if it is not one."""
    if func is None:
        return ""
    if isinstance(func, str):
        return func
    name = getattr(func, "__name__", None)
    if name is None or getattr(func, "__self__", None) is not spider:
        return None
    bound = getattr(spider, name, None)
    return name if getattr(bound, "__func__", None) is getattr(func, "__func__", False) else None


# -- site documents ------------------------------------------------------------------------------


def fetch_to_dict(doc: FetchResult) -> dict[str, Any]:
    """Return one retrieval as plain data (its redirect hops included)."""
    return {
        "url": doc.url,
        "status": doc.status,
        "headers": [list(pair) for pair in doc.headers],
        "body": base64.b64encode(doc.body).decode("ascii"),
        "error": doc.error,
        "redirects": doc.redirects,
        "final_url": doc.final_url,
        "fetched_at": doc.fetched_at,
        "truncated": doc.truncated,
        "hops": [fetch_to_dict(hop) for hop in doc.hops],
    }


def fetch_from_dict(data: dict[str, Any]) -> FetchResult:
    """Return the retrieval :func:`fetch_to_dict` described."""
    return FetchResult(
        url=data["url"],
        status=data["status"],
        headers=tuple((str(k), str(v)) for k, v in data["headers"]),
        body=base64.b64decode(data["body"]),
        error=data["error"],
        redirects=int(data["redirects"]),
        final_url=data["final_url"],
        fetched_at=data["fetched_at"],
        truncated=bool(data["truncated"]),
        hops=tuple(fetch_from_dict(hop) for hop in data["hops"]),
    )


def documents_to_json(docs: SiteDocuments, *, stale: bool) -> bytes:
    """Return an origin's site documents (and whether robots.txt is a kept stale copy)."""
    return json.dumps(
        {
            "origin": docs.origin,
            "stale": stale,
            "robots": fetch_to_dict(docs.robots),
            "tdmrep": fetch_to_dict(docs.tdmrep) if docs.tdmrep is not None else None,
            "ai_txt": fetch_to_dict(docs.ai_txt) if docs.ai_txt is not None else None,
            "licenses": [[u, fetch_to_dict(d)] for u, d in docs.licenses.items()],
            "licence_robots": [[o, fetch_to_dict(d)] for o, d in docs.licence_robots.items()],
        },
        separators=(",", ":"),
    ).encode()


def documents_from_json(data: bytes) -> tuple[SiteDocuments, bool]:
    """Return the site documents and the stale flag :func:`documents_to_json` wrote."""
    raw = json.loads(data)
    docs = SiteDocuments(
        origin=raw["origin"],
        robots=fetch_from_dict(raw["robots"]),
        tdmrep=fetch_from_dict(raw["tdmrep"]) if raw["tdmrep"] is not None else None,
        ai_txt=fetch_from_dict(raw["ai_txt"]) if raw["ai_txt"] is not None else None,
        licenses={u: fetch_from_dict(d) for u, d in raw["licenses"]},
        licence_robots={o: fetch_from_dict(d) for o, d in raw["licence_robots"]},
    )
    return docs, bool(raw["stale"])
