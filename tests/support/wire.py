"""HTTP/1.1 messages of the virtual web: one implementation, in heed/demo/wire.py."""

from __future__ import annotations

from heed.demo.wire import (
    Handler,
    Head,
    Headers,
    HeaderValue,
    Request,
    Response,
    Wire,
    parse_head,
    plain,
    render,
    route_key,
    split_target,
)

__all__ = [
    "Handler",
    "Head",
    "HeaderValue",
    "Headers",
    "Request",
    "Response",
    "Wire",
    "parse_head",
    "plain",
    "render",
    "route_key",
    "split_target",
]
