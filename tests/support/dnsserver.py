"""A tiny authoritative DNS server in-process on 127.0.0.1 (UDP, a random port), for the tests.

dnslib answers TXT queries from a dict the test fills (name → values); every other name gets
NXDOMAIN. Nothing leaves the machine: dnspython is pointed at this server only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Records(BaseResolver):  # type: ignore[misc]
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        values = self.txt.get(name)
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


@contextmanager
def dns_server() -> Iterator[tuple[str, dict[str, list[str]]]]:
    """Yield ``("127.0.0.1:PORT", records)``; add TXT values to *records* by name."""
    records = _Records()
    server = DNSServer(
        records,
        address="127.0.0.1",
        port=0,
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    server.start_thread()
    try:
        port = server.server.server_address[1]
        yield f"127.0.0.1:{port}", records.txt
    finally:
        server.stop()
        server.server.server_close()
