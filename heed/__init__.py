"""Heed's app layer: the ``heed`` command line, the demo, and the live check's HTTP client.

The only package that may import every other one (docs/architecture.md): it puts the engine
(:mod:`optout`), the crawl (:mod:`crawler`), the evidence (:mod:`audit`) and the published
documents (:mod:`policy`) behind one command line. Nothing here is imported by those packages,
and importing it loads nothing else, so that ``heed --help`` stays instant.
"""
