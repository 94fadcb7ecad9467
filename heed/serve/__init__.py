"""``heed serve``: the rightsholders' portal over the audit database.

A rightsholder's first question is "did your crawler see my opt-out, and did it honour it?";
the portal answers it on the web, from the same evidence ``heed status`` reads, and serves the
documents the provider published. One FastAPI application (:func:`heed.serve.app.create_app`),
one router per area, so that later areas (domain verification, the verified owner's view) are
routers of their own:

* :mod:`.published` — ``/``, the crawler information page with its JSON and Atom feed, the
  public copyright policy and the training-content summary: the latest *published* version of
  each, rendered by policy/'s own renderers, with every earlier version; serving never
  publishes anything;
* :mod:`.lookup` — the public domain look-up (``/lookup``, ``/api/v1/domains/{domain}``) and
  the signal documents exactly as fetched (``/api/v1/documents/{sha256}``): aggregate figures
  and public signal documents only;
* :mod:`.security` (headers, request size limit), :mod:`.ratelimit` (per-client token
  buckets), :mod:`.errors` (generic error pages, never a stack trace).

The command is ``heed/cli/serve.py``; uvicorn runs the application.
"""
