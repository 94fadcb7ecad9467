"""Benchmark: per-URL decision on a cached origin, and robots.txt parse time.

Prints:
* median / p95 time of ``Site.before_request(url)`` for distinct URLs on an origin whose
  robots.txt has 500 rules (plus Content-Usage, Content-Signal and a tdmrep.json), against
  Protego's ``can_fetch`` on the same file in the same run (target: median ≤ 20 µs);
* the parse time of a 500 KiB robots.txt (target: ≤ 50 ms).

Run: ``python bench/decision.py [--urls N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from protego import Protego

from optout import robots
from optout.document import FetchResult
from optout.site import Site, SiteDocuments

ORIGIN = "https://bench.example"
WORDS = [
    "news",
    "blog",
    "shop",
    "img",
    "static",
    "api",
    "user",
    "search",
    "tag",
    "archive",
    "2024",
    "2025",
    "en",
    "de",
    "fr",
    "private",
    "admin",
    "cart",
    "login",
    "media",
]


def robots_body(rules: int, rng: random.Random) -> str:
    """Return a realistic robots.txt with *rules* Allow/Disallow lines in the ``*`` group."""
    lines = [
        "# generated for the benchmark",
        "User-agent: GPTBot",
        "Disallow: /",
        "",
        "User-agent: *",
        "Content-Signal: search=yes, ai-train=yes",
        "Content-Usage: /blog/ train-ai=y",
        "Crawl-delay: 1",
    ]
    # Shaped like large real files: mostly literal directories and files, some end-anchored
    # or wildcard tails, a few "anywhere" patterns (/*.pdf$, /*?sessionid=).
    for i in range(rules):
        depth = rng.randint(1, 4)
        path = "/" + "/".join(
            rng.choice(WORDS) + (str(i) if j == depth - 1 else "") for j in range(depth)
        )
        kind = rng.random()
        if kind < 0.05:
            path += "*.php$"
        elif kind < 0.10:
            path += "*"
        elif kind < 0.13:
            path = f"/*{rng.choice(WORDS)}{i}="
        elif kind < 0.15:
            path = f"/*.{rng.choice(WORDS)}{i}$"
        elif kind < 0.45:
            path += "/"
        verb = "Allow" if rng.random() < 0.3 else "Disallow"
        lines.append(f"{verb}: {path}")
    lines.append("Sitemap: https://bench.example/sitemap.xml")
    return "\n".join(lines) + "\n"


def urls(n: int, rng: random.Random, body: str) -> list[str]:
    """Return *n* distinct URLs of the origin, 40 % of them under paths the rules name."""
    paths = [
        line.split(":", 1)[1].strip().split("*")[0].rstrip("$")
        for line in body.splitlines()
        if line.startswith(("Allow:", "Disallow:"))
    ]
    out = []
    for i in range(n):
        if rng.random() < 0.4:
            base = rng.choice(paths).rstrip("/")
        else:
            base = "/" + "/".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
        tail = f"?id={i}" if rng.random() < 0.3 else f"/{i}.html"
        out.append(f"{ORIGIN}{base}{tail}")
    return out


def timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    """Return per-call wall times in microseconds."""
    clock = time.perf_counter
    times = []
    for item in items:
        t0 = clock()
        fn(item)
        times.append((clock() - t0) * 1e6)
    return times


def describe(times: list[float]) -> str:
    """Return median and p95."""
    q = statistics.quantiles(times, n=100)
    return f"median {statistics.median(times):6.2f} µs   p95 {q[94]:6.2f} µs"


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--urls", type=int, default=50_000)
    parser.add_argument("--rules", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(9309)

    body = robots_body(args.rules, rng)
    tdm = json.dumps(
        [
            {"location": "/news/", "tdm-reservation": 1},
            {"location": "/blog/*.pdf$", "tdm-reservation": 1},
        ]
    ).encode()
    docs = SiteDocuments(
        origin=ORIGIN,
        robots=FetchResult(url=ORIGIN + "/robots.txt", status=200, body=body.encode()),
        tdmrep=FetchResult(url=ORIGIN + "/.well-known/tdmrep.json", status=200, body=tdm),
    )
    site = Site(docs, token="HeedBot")
    sample = urls(args.urls, rng, body)
    for u in sample[:2000]:  # warm up: compile, caches of matched-rule signals
        site.before_request(u)
    sample = urls(args.urls, rng, body)
    heed = timed(site.before_request, sample)
    protego = Protego.parse(body)
    prot = timed(lambda u: protego.can_fetch(u, "HeedBot"), sample)
    print(f"robots.txt with {args.rules} rules, {len(sample)} distinct URLs")
    print(f"  heed Site.before_request (full decision): {describe(heed)}   target median ≤ 20 µs")
    print(f"  protego can_fetch (crawl only):           {describe(prot)}")
    print(
        f"  ratio heed/protego (median):              {statistics.median(heed) / statistics.median(prot):.2f}"
    )

    big_lines = ["User-agent: *"]
    i = 0
    while sum(len(x) + 1 for x in big_lines) < 500 * 1024:
        big_lines.append(f"Disallow: /{rng.choice(WORDS)}/{i}/{rng.choice(WORDS)}*.html")
        i += 1
    big = ("\n".join(big_lines) + "\n").encode()
    runs = []
    for _ in range(7):
        t0 = time.perf_counter()
        robots.parse(big)
        runs.append((time.perf_counter() - t0) * 1e3)
    t0 = time.perf_counter()
    Protego.parse(big.decode())
    prot_ms = (time.perf_counter() - t0) * 1e3
    print(
        f"parse of a {len(big) / 1024:.0f} KiB robots.txt ({i} rules): median {statistics.median(runs):.1f} ms"
        f" (min {min(runs):.1f})   target ≤ 50 ms;  protego: {prot_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
