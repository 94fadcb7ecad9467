"""The local virtual web of the end-to-end tests: one implementation, in heed/demo/server.py.

``heed demo`` serves its demo web with the same server, so it lives in the installed package;
this module keeps the tests' import path (``tests.support.virtualweb``) and public API.
"""

from __future__ import annotations

from heed.demo.server import Handler, Request, Response, VirtualWeb, proxy_env

__all__ = ["Handler", "Request", "Response", "VirtualWeb", "proxy_env"]
