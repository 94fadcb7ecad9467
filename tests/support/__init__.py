"""Support for Heed's end-to-end tests: the local virtual web (tests/support/virtualweb.py)."""

from tests.support.virtualweb import Request, Response, VirtualWeb, proxy_env

__all__ = ["Request", "Response", "VirtualWeb", "proxy_env"]
