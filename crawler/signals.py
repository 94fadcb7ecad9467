"""Signals sent by Heed's crawler, documented here as Scrapy documents its own (scrapy/signals.py).

Connect with ``crawler.signals.connect(handler, signal=optout_decided)``. ``optout_decided`` and
``optout_site_loaded`` are sent with ``send_catch_log_async``: handlers may be coroutines (or
return Deferreds) and are awaited before the crawl goes on; an exception in a handler is logged
by Scrapy, not raised, so a handler that must not fail silently (the audit writer) should close
the spider itself. ``request_processed`` is sent with ``send_catch_log``.

``optout_decided(decision, action, request, response, spider)``
    Sent exactly once per request on the wire, and once per request dropped before it left
    (robots.txt, reservation, deferral, denylist, access restriction, invalid URL, too many
    redirects). Each redirect hop is checked before it is requested; the request that was
    redirected gets a decision of its own (action ``redirected``, its status and Location), as
    does each attempt Scrapy retried (action ``error``, what was retried) — see
    crawler/wire.py. ``request.meta["redirect_urls"]`` lists the earlier hops of a chain. Heed's
    internal requests (robots.txt, tdmrep.json, ai.txt, RSL licences) are never reported here:
    they are recorded as site documents (``optout_site_loaded``).

    * ``decision`` — :class:`optout.decision.Decision` with every signal and its evidence;
    * ``action`` — :class:`optout.action.Action`: ``fetched-stored`` means the response is handed
      to the spider as usable for the configured purpose; every other action means the request
      was dropped (never sent, or its response withheld from the spider);
    * ``request`` — the :class:`scrapy.Request` of the attempt (its last hop);
    * ``response`` — the :class:`scrapy.http.Response` when one arrived, else ``None``;
    * ``spider`` — the running spider.

``optout_site_loaded(origin, documents, site, stale, spider)``
    Sent each time an origin's site-level documents were fetched (first use, or refresh after
    their TTL), before any decision uses them: the witness copies an audit trail keeps.

    * ``origin`` — ``scheme://host[:port]``;
    * ``documents`` — :class:`optout.site.SiteDocuments` (robots.txt, tdmrep.json, ai.txt and RSL
      licences as :class:`optout.document.FetchResult`, bodies included);
    * ``site`` — the compiled :class:`optout.site.Site` the middleware now decides with;
    * ``stale`` — True when robots.txt was unreachable and the last good copy is kept (RFC 9309
      §2.4); ``documents.robots`` is then that earlier copy;
    * ``spider`` — the running spider.

``request_processed(request, spider)``
    Sent (with ``JOBDIR``) once a response handed to the spider is fully processed: every request
    its callback yielded is scheduled and every item it yielded has left the item pipelines
    (scraped, dropped or failed) — for Heed's dataset pipeline, once the page is in the dataset.
    The crash-safe frontier (:mod:`crawler.frontier`) marks the request done on it.

    * ``request`` — the request whose response it was (``response.request``);
    * ``spider`` — the running spider.

``request_released(request, spider)``
    Sent (in a shared crawl, ``heed crawl --redis``) when a request is given up *before* it went
    on the wire because Redis, which holds the origin's shared documents and politeness slot, did
    not answer (fail closed). It has no decision: it was not requested. Its lease is left to
    expire, so the run's queue gives it to a worker again once Redis answers.

    * ``request`` — the request given up;
    * ``spider`` — the running spider.
"""

from __future__ import annotations

optout_decided = object()
optout_site_loaded = object()
request_processed = object()
request_released = object()
