"""``heed report summary`` through the command line: formats, labels, --check, versions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from markupsafe import escape

from audit import AuditStore, open_reader
from audit.publications import get, history
from heed.cli import main
from policy.provider import TO_BE_PROVIDED
from policy.summary.labels import FIELDS, PARTS, SECTIONS, SUBPARTS
from tests.policy.conftest import FULL_CONFIG, MODEL, Seeder


def heed(*args: str | Path) -> Result:
    """Run ``heed`` in-process."""
    return CliRunner().invoke(main, [str(a) for a in args])


def summary_json(db: str, *args: str | Path) -> dict[str, Any]:
    """Publish the summary (unless *args* ask for a preview); return the document as JSON."""
    publish = () if "--preview" in args else ("--publish",)
    result = heed("report", "summary", "--db", db, "--format", "json", *publish, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_check_passes_with_a_complete_configuration(seeded_summary_db: tuple[str, Path]) -> None:
    db, config = seeded_summary_db
    result = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert result.exit_code == 0, result.output
    assert "Complete" in result.stdout
    engine = open_reader(db)
    try:
        assert history(engine, "summary", None) == []  # --check publishes nothing
    finally:
        engine.dispose()


def test_check_lists_every_missing_statement_without_a_config(
    seeded_summary_db: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = seeded_summary_db
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    monkeypatch.chdir(empty)  # no ./heed.toml: no configuration at all
    result = heed("report", "summary", "--db", db, "--check")
    assert result.exit_code == 1
    out = result.stdout
    for line in (
        'missing: §1.1 "Provider name and contact details" is to be provided',
        'missing: §1.2 "Versioned model name(s)" is to be provided',
        'missing: §1.3 "Types of content" is to be provided',
        (
            'missing: §2.1 "Have you used publicly available datasets to train the model?" is to be '
            "provided"
        ),
        'missing: §2.3 "Purposes of the crawler(s)" is to be provided (required after a Yes)',
        'missing: §3.2 "General description of measures taken" is to be provided',
    ):
        assert line in out
    # A generated text with one statement missing names that part.
    assert "is to be provided (in part: Opt-out handling by third parties" in out
    # Computed fields are never missing: the database answers them.
    assert "Were crawlers used" not in out
    assert "Period of data collection" not in out
    assert re.search(r"^\d+ problems found\.$", out, re.MULTILINE)


def test_check_requires_conditional_fields_after_a_yes(
    seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    db, _ = seeded_summary_db
    config = tmp_path / "partial.toml"
    config.write_text(
        FULL_CONFIG.replace(
            'public_datasets = { used = true, modalities = ["text"], large = [{ name = "FineWeb", '
            'url = "https://huggingface.co/datasets/HuggingFaceFW/fineweb" }], other = "Small '
            'curated evaluation sets" }',
            "public_datasets = { used = true }",
        ).replace("synthetic = { used = false }", "synthetic = { used = true, models = 'X-1' }"),
        encoding="utf-8",
    )
    result = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert result.exit_code == 1
    missing = [line for line in result.stdout.splitlines() if line.startswith("missing:")]
    assert [line.split(" is to be provided")[0] for line in missing] == [
        (
            'missing: §2.1 "If yes, specify the modality(ies) of the content covered by the datasets '
            'concerned"'
        ),
        'missing: §2.1 "List of large publicly available datasets"',
        'missing: §2.1 "General description of other publicly available datasets not listed above"',
        'missing: §2.5 "If yes, modality of the synthetic data"',
        (
            "missing: §2.5 \"Information about other AI models, including provider's own AI model(s) "
            "not available on the market, used to generate synthetic data to train the model to which "
            'this Summary applies"'
        ),
    ]
    # Each names the heed.toml key that fills it.
    assert [line.split(" is to be provided")[1] for line in missing] == [
        f" (required after a Yes): set {key} in heed.toml"
        for key in (
            "[sources] public_datasets.modalities",
            "[sources] public_datasets.large",
            "[sources] public_datasets.other",
            "[sources] synthetic.modalities",
            "[sources] synthetic.other_models",
        )
    ]


def test_check_reports_statements_the_evidence_contradicts(
    seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    db, _ = seeded_summary_db
    config = tmp_path / "wrong.toml"
    config.write_text(
        FULL_CONFIG.replace(
            'runs = ["2026-q1-main"]', 'runs = ["2026-q1-main", "2025-old"]'
        ).replace("crawled = { description", "crawled = { used = false, description"),
        encoding="utf-8",
    )
    result = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert result.exit_code == 1
    assert (
        "inconsistent: model 'ExampleLM 2' lists crawl runs the audit database does not hold: "
        "2025-old" in result.stdout
    )
    assert "inconsistent: §2.3 heed.toml says no crawlers were used" in result.stdout


def test_check_missing_hours_for_video(seeded_summary_db: tuple[str, Path], tmp_path: Path) -> None:
    db, _ = seeded_summary_db
    config = tmp_path / "nohours.toml"
    config.write_text(FULL_CONFIG.replace("hours = { video = 2.5 }", ""), encoding="utf-8")
    result = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert result.exit_code == 1
    assert 'missing: §1.3 "Training data size" is to be provided' in result.stdout


def test_versions_count_up_only_when_content_changes(
    seeded_summary_db_any: tuple[str, Path],
) -> None:
    db, config = seeded_summary_db_any
    first = summary_json(db, "--config", config)
    again = heed(
        "report", "summary", "--db", db, "--config", config, "--format", "json", "--publish"
    )
    assert "summary version 1 (unchanged)" in again.stderr
    assert json.loads(again.stdout) == first
    assert first["version"] == 1
    assert first["previous_versions"] == []
    ok = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert ok.exit_code == 0, ok.output
    # New training data for the model: the published version is out of date, then replaced.
    with AuditStore.open(db) as store:
        seed = Seeder(store)
        run = seed.run("2026-q1-main")  # resumes the model's run
        seed.store.flush()
        seed.stored(run, "https://new.example/", size=123)
    stale = heed("report", "summary", "--db", db, "--config", config, "--check")
    assert stale.exit_code == 1
    assert "update-required: published version 1 no longer matches" in stale.stdout
    second = summary_json(db, "--config", config)
    assert second["version"] == 2
    [previous] = second["previous_versions"]
    assert previous["version"] == 1
    assert previous["date"] == first["last_update"]
    assert previous["url"] == "https://example.ai/summaries/v1.html"
    assert re.fullmatch(r"[0-9a-f]{64}", previous["sha256"])
    engine = open_reader(db)
    try:
        versions = history(engine, "summary", MODEL)
        assert [p.version for p in versions] == [1, 2]
        old = get(engine, versions[0].id)
        assert old is not None
        assert old.body["sections"] == first["sections"]
        assert versions[1].previous_id == versions[0].id
        assert "Section 2.3 (Data crawled and scraped from online sources) changed." in (
            versions[1].changes
        )
    finally:
        engine.dispose()


def test_json_shape(seeded_summary_db: tuple[str, Path]) -> None:
    db, config = seeded_summary_db
    doc = summary_json(db, "--config", config)
    assert re.fullmatch(r"[1-3]?\d [A-Z][a-z]+ 20\d\d \(20\d\d-\d\d-\d\d\)", doc["last_update"])
    assert list(doc["sections"]) == list(SECTIONS)
    s23 = doc["sections"]["2.3"]
    assert s23["crawlers"] == ["HeedBot"]
    assert s23["top_domains"] == ["d.net"]
    assert all(isinstance(d, str) for d in s23["top_domains"])
    assert s23["top_domains_ranking"][0] == {
        "rank": 1,
        "domain": "d.net",
        "size": 9000,
        "items": 1,
        "bytes": 9000,
    }
    for number, section in doc["sections"].items():
        assert section["title"] == SECTIONS[number]
        assert [f["label"] for f in section["fields"]] == [s.label for s in FIELDS[number]]
        for f in section["fields"]:
            assert f["requirement"] in ("R", "C", "O")
    assert set(doc["provenance"]["queries"]) == {
        "items",
        "actions",
        "denylists",
        "exclusions",
    }
    assert doc["provenance"]["scope"]["run_ids"] == [1]
    rows = doc["figures"]["decisions_by_action"]["rows"]
    assert rows[0] == {"action": "fetched-stored", "label": "fetched and stored", "decisions": 8}
    sizes = next(f for f in doc["sections"]["1.3"]["fields"] if f["key"] == "sizes")
    assert sizes["provenance"][0] == {
        "modality": "text",
        "runs": [1],
        "query": "items",
        "derivation": "SUM(tokens), rows with modality = 'text'",
    }


def _in_order(text: str, needles: list[str]) -> None:
    at = 0
    for needle in needles:
        found = text.find(needle, at)
        assert found >= 0, f"{needle!r} missing or out of order"
        at = found + len(needle)


def _labels_in_order(html: bool) -> list[str]:
    esc = (lambda s: str(escape(s))) if html else (lambda s: s)
    out = [
        esc(x) for x in ("Version of the Summary", "Last update", "Link(s) to previous versions")
    ]
    for part, title in PARTS:
        out.append(f"{part}. {title}")
        for number, section_title in SECTIONS.items():
            if number.split(".")[0] != part:
                continue
            out.append(f"{number} {esc(section_title)}")
            parts_seen: set[str] = set()
            for spec in FIELDS[number]:
                if spec.part and spec.part not in parts_seen:
                    parts_seen.add(spec.part)
                    out.append(f"{spec.part} {esc(SUBPARTS[spec.part])}")
                out.append(esc(spec.label))
    return out


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_heading_and_label_in_template_order(
    seeded_summary_db: tuple[str, Path], fmt: str
) -> None:
    db, config = seeded_summary_db
    result = heed("report", "summary", "--db", db, "--config", config, "--format", fmt)
    assert result.exit_code == 0, result.output
    _in_order(result.stdout, _labels_in_order(fmt == "html"))


def test_to_be_provided_is_marked_in_both_renderings(
    seeded_summary_db: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = seeded_summary_db
    monkeypatch.chdir(tmp_path / "..")  # no heed.toml there
    html = heed("report", "summary", "--db", db, "--format", "html").stdout
    tbp = f'<span class="tbp">{TO_BE_PROVIDED}</span>'
    row = re.search(r'<tr id="field-1-1-provider">.*?</tr>', html, re.DOTALL)
    assert row is not None
    assert tbp in row.group()
    assert html.count(tbp) >= 15
    md = heed("report", "summary", "--db", db, "--format", "md").stdout
    assert f"**Provider name and contact details**\n\n*{TO_BE_PROVIDED}*" in md


def test_html_is_self_contained_with_two_accessible_charts(
    seeded_summary_db: tuple[str, Path],
) -> None:
    db, config = seeded_summary_db
    html = heed("report", "summary", "--db", db, "--config", config, "--format", "html").stdout
    assert html.startswith("<!doctype html>")
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!https://example\.ai/)[a-z]+:', html)
    assert html.count("<svg ") == 2
    assert html.count('role="img"') == 2
    assert '<title id="chart-domains-title">' in html
    assert '<title id="chart-decisions-title">Crawler decisions by action</title>' in html
    assert "<title>d.net: 9,000 bytes</title>" in html
    assert html.count("<figcaption>") == 2


def test_provider_text_is_escaped(seeded_summary_db: tuple[str, Path], tmp_path: Path) -> None:
    db, _ = seeded_summary_db
    config = tmp_path / "evil.toml"
    config.write_text(
        FULL_CONFIG.replace('purpose = "Collect', 'purpose = "<script>alert(1)</script> Collect'),
        encoding="utf-8",
    )
    html = heed("report", "summary", "--db", db, "--config", config, "--format", "html").stdout
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Collect" in html


def test_out_file_and_default_config(
    seeded_summary_db: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = seeded_summary_db
    monkeypatch.chdir(tmp_path)  # holds the seeded heed.toml: read by default
    out = tmp_path / "summary.md"
    result = heed("report", "summary", "--db", db, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Public Summary of Training Content: {MODEL}\n")
    assert "Example AI SAS" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "Nope"], "no model 'Nope' in the configuration"),
        (["--config", "missing.toml"], "no configuration file at missing.toml"),
    ],
)
def test_configuration_errors_are_one_line(
    seeded_summary_db: tuple[str, Path], args: list[str], message: str
) -> None:
    db, config = seeded_summary_db
    full = ["--config", str(config), *args] if args[0] == "--model" else args
    result = heed("report", "summary", "--db", db, *full)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_several_models_need_model_option(
    seeded_summary_db: tuple[str, Path], tmp_path: Path
) -> None:
    db, _ = seeded_summary_db
    config = tmp_path / "two.toml"
    config.write_text(
        FULL_CONFIG + '\n[[model]]\nname = "Other"\nversions = ["Other-1"]\n', encoding="utf-8"
    )
    result = heed("report", "summary", "--db", db, "--config", config)
    assert result.exit_code == 1
    assert "several models configured" in result.stderr
    other = summary_json(db, "--config", config, "--model", "Other-1")  # a version names it
    assert other["model"] == "Other"
    assert other["sections"]["2.3"]["crawlers"] == ["HeedBot", "HeedBot-Images"]


def test_missing_database(tmp_path: Path) -> None:
    result = heed("report", "summary", "--db", tmp_path / "none.db")
    assert result.exit_code == 1
    assert "no audit database at" in result.stderr
