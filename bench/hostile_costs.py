"""Benchmark: what hostile input costs — a pathological robots.txt, and a trickling server.

    .venv/bin/python bench/hostile_costs.py

1. robots.txt with tens of thousands of wildcard rules (within the 2 MiB limit) against long
   URLs: the cost of compiling and matching without Heed's bounds (the matcher called directly,
   as before them) and with them (``optout.site.Site``: groups over ``MAX_WILDCARD_RULES`` are not
   compiled, paths over ``MATCH_BUDGET`` defer), CPU milliseconds per origin and per URL.
2. ``heed check`` (a real subprocess) against a server that sends robots.txt one byte a second:
   wall time with ``--timeout 2``, and with ``--timeout 60 --deadline 3``.
"""

from __future__ import annotations

import os
import random
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heed.demo.server import Response, VirtualWeb, proxy_env
from optout.decision import DEFAULT_POLICY
from optout.document import FetchResult
from optout.robots import decide
from optout.robots_fetch import outcome
from optout.site import MATCH_BUDGET, MAX_WILDCARD_RULES, Site, SiteDocuments
from optout.urlmatch import normalize_path


def robots(rules: int) -> FetchResult:
    """Return a robots.txt retrieval with *rules* random wildcard rules."""
    rnd = random.Random(1)

    def word() -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(6))

    body = "User-agent: *\n" + "".join(f"Disallow: /*{word()}*{word()}$\n" for _ in range(rules))
    return FetchResult(url="http://a.test/robots.txt", status=200, body=body.encode())


def cpu_ms(fn: object, repeat: int = 3) -> float:
    """Return the median CPU milliseconds of calling *fn*."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()  # type: ignore[operator]
        times.append((time.process_time() - start) * 1000)
    return sorted(times)[len(times) // 2]


def robots_costs() -> None:
    """Print compile and per-URL costs, unbounded and bounded."""
    print(f"MATCH_BUDGET {MATCH_BUDGET:,}, MAX_WILDCARD_RULES {MAX_WILDCARD_RULES:,}")
    for rules, length in ((75_000, 2000), (75_000, 200), (MAX_WILDCARD_RULES, 190)):
        doc = robots(rules)
        url = "http://a.test/" + "x" * length
        parsed = outcome(doc, DEFAULT_POLICY).robots
        assert parsed is not None
        group = parsed.group_for("HeedBot")
        assert group is not None
        from optout.urlmatch import RuleMatcher

        start = time.process_time()
        matcher = RuleMatcher(group.rules)
        compile_raw = (time.process_time() - start) * 1000
        path = normalize_path(url)
        per_url_raw = cpu_ms(lambda: decide(matcher, path))  # noqa: B023
        start = time.process_time()
        site = Site(SiteDocuments(origin="http://a.test", robots=doc), token="HeedBot")
        compile_heed = (time.process_time() - start) * 1000
        per_url_heed = cpu_ms(lambda: site.before_request(url))  # noqa: B023
        verdict = site.before_request(url).crawl.value
        print(
            f"{rules:>6} wildcard rules, {len(doc.body) / 1024:5.0f} KiB, {length:>4}-char path: "
            f"unbounded compile {compile_raw:7.0f} ms + {per_url_raw:8.2f} ms/URL | "
            f"Heed {compile_heed:6.0f} ms + {per_url_heed:6.2f} ms/URL ({verdict})"
        )


def trickle_costs() -> None:
    """Print heed check's wall time against a server trickling robots.txt."""
    with VirtualWeb() as web:
        body = "User-agent: *\nAllow: /\n" * 20
        web.site("trickle.test", {"/robots.txt": Response(body=body, trickle=1.0)})
        env = os.environ | proxy_env(web) | {"PYTHONPATH": str(ROOT)}
        for args in (["--timeout", "2"], ["--timeout", "60", "--deadline", "3"]):
            argv = [sys.executable, "-m", "heed", "check", "--json", *args, "http://trickle.test/x"]
            start = time.perf_counter()
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - start
            crawl = proc.stdout.split('"crawl": "')[1].split('"')[0] if proc.stdout else "?"
            print(
                f"heed check {' '.join(args):<26} vs {len(body)} bytes at 1 B/s: "
                f"{wall:5.1f} s wall, crawl {crawl}"
            )


if __name__ == "__main__":
    robots_costs()
    trickle_costs()
