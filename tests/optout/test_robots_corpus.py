"""Heed against Protego on 628 real robots.txt files: every disagreement has a documented cause.

The differential itself is :mod:`tests.optout.robots_diff`; docs/robots-corpus.md describes the
corpus, the method and each cause. Run with ``-s`` to see the agreement figures
(``python bench/robots_diff.py`` prints them with examples).
"""

from __future__ import annotations

import csv
import hashlib

import pytest

from tests.optout import robots_diff
from tests.optout.robots_diff import CAUSES, CORPUS, CORRECTIONS, Report, corpus_files


@pytest.fixture(scope="module")
def report() -> Report:
    return robots_diff.run()


def test_corpus_matches_its_manifest() -> None:
    """Every corpus file is listed in MANIFEST.tsv with its source, licence and SHA-256."""
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as f:
        rows = {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}
    files = corpus_files()
    assert len(files) >= 300
    assert {str(p.relative_to(CORPUS)) for p in files} == set(rows)
    for path in files:
        row = rows[str(path.relative_to(CORPUS))]
        data = path.read_bytes()
        assert (int(row["bytes"]), row["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
        assert row["repository"]
        assert len(row["commit"]) == 40
        assert row["license"]
    assert sum(p.stat().st_size for p in files) < 4_000_000  # "a few MB at most"


def test_every_disagreement_has_a_documented_cause(report: Report) -> None:
    """Heed and Protego disagree only where Heed documents why (CAUSES)."""
    print("\n" + report.summary())
    unexplained = report.unexplained()
    assert not unexplained, "\n".join(
        f"{d.file} {d.token} {d.url!r}: Heed {d.heed}, Protego {d.protego}: {d.cause} {d.detail}"
        for d in unexplained[:20]
    )


def test_agreement_on_the_star_group(report: Report) -> None:
    """Where both read the same ``*`` group, they agree on at least 99 % of the queries: a larger
    documented difference would mean a regression hiding behind a known cause."""
    asked, missed = report.by_token()[robots_diff.TOKENS[0]]
    assert asked > 50_000
    assert missed / asked < 0.01


def test_the_differential_covers_every_file_and_token(report: Report) -> None:
    assert report.files == len(corpus_files())
    assert set(report.by_token()) == set(robots_diff.TOKENS)


def _explained(body: str, token: str, url: str) -> tuple[bool, bool, str]:
    """Return (Heed, Protego, cause) for one synthetic robots.txt, via the corpus machinery."""
    from protego import Protego

    from optout import robots
    from optout.urlmatch import normalize_path

    heed = robots.parse(body.encode("utf-8"))
    theirs = Protego.parse(body)
    ours_verdict = heed.can_fetch(normalize_path(url), token)[0]
    verdict = theirs.can_fetch(url, token)
    if ours_verdict == verdict:
        return ours_verdict, verdict, ""
    side = robots_diff._side(body, heed, theirs, token)
    return ours_verdict, verdict, robots_diff._explain(side, url, ours_verdict, verdict)[0]


@pytest.mark.parametrize(
    ("cause", "body", "token", "url"),
    [
        ("dollar-literal", "User-agent: *\nDisallow: /a$\n", "x", "/a$"),
        ("index-html", "User-agent: *\nDisallow: /d/\nAllow: /d/index.html\n", "x", "/d/"),
        (
            "pattern-validity",
            "User-agent: *\nDisallow: https://h.example/p\n",
            "x",
            "/https://h.example/p",
        ),
        ("percent-normalisation", "User-agent: *\nDisallow: /a%E9\n", "x", "/a%E8"),
        ("percent-normalisation", "User-agent: *\nDisallow: /a%3\n", "x", "/a?"),
        ("specificity", "User-agent: *\nDisallow: /*?\nAllow: /wa/\n", "x", "/wa/?q=1"),
        ("specificity", "User-agent: *\nAllow: /shop/\nDisallow: /*ü\n", "x", "/shop/grün"),
        (
            "group-membership",
            "User-agent: a\nCrawl-delay: 5\nUser-agent: b\nDisallow: /\n",
            "a",
            "/x",
        ),
        ("group-selection", "User-agent: Googlebot\nDisallow: /\n", "Googlebot-Image", "/x"),
        ("group-selection", "User-agent: ExampleBot/1.0\nDisallow: /\n", "ExampleBot", "/x"),
        # Neither correction alone: /%E9 is 2 octets (Protego: "/%EF%BF%BD", 10), a tie with /*.
        (
            "percent-normalisation+specificity",
            "User-agent: *\nAllow: /*\nDisallow: /%E9\n",
            "x",
            "/%E9",
        ),
    ],
)
def test_each_cause_is_recognised(cause: str, body: str, token: str, url: str) -> None:
    """The classifier names the right cause on a minimal file showing it (so every entry of
    CAUSES is reachable, even those the corpus does not show)."""
    heed, protego, found = _explained(body, token, url)
    assert heed != protego
    assert found == cause


def test_causes_table_is_complete() -> None:
    """Each correction the reference matcher knows is a documented cause, with a reason."""
    assert set(CORRECTIONS) <= set(CAUSES)
    assert all(len(reason) > 40 for reason in CAUSES.values())
