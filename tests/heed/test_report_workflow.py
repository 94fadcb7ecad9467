"""``heed report``: publishing is a deliberate act, and all three reports speak one language.

Every report previews by default and records nothing; ``--publish`` records a version together
with the statements it was made from; a later run without a configuration file finds those
statements instead of dropping them; a version that would withdraw a statement needs
``--withdraw``; ``--check`` names the heed.toml key of every missing statement.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from audit import AuditStore, open_reader
from audit.publications import history, latest
from heed.cli import main
from heed.cli.report import report
from heed.demo.documents import EXAMPLE_CONFIG
from policy.statements import STATEMENTS_KIND

REPORTS = ("summary", "policy", "crawler-info")
#: Publication kind of each report (policy without --public).
KIND = {"summary": "summary", "policy": "policy", "crawler-info": "crawler-info"}
SHARED_OPTIONS = {"--db", "--config", "--format", "--out", "--check", "--preview", "--publish"}


def heed(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def db(tmp_path: Path) -> str:
    """An audit database with no run yet."""
    path = str(tmp_path / "audit.db")
    AuditStore.open(path).close()
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The demo's complete provider statements, with a secret in [settings] that must not be
    recorded."""
    path = tmp_path / "provider" / "heed.toml"
    path.parent.mkdir()
    secret = '\n[settings]\nHEED_DB = "postgresql://admin:s3cret@db.internal/heed"\n'
    path.write_text(EXAMPLE_CONFIG + secret, encoding="utf-8")
    return path


def versions(db: str, kind: str) -> list[int]:
    engine = open_reader(db)
    try:
        return [p.version for p in history(engine, kind, None)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_previews_by_default_and_records_nothing(
    name: str, db: str, config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "preview"
    target = out if name == "crawler-info" else out.with_suffix(".html")
    result = heed("report", name, "--db", db, "--config", config, "--out", target)
    assert result.exit_code == 0, result.output
    assert f"{KIND[name]} preview: would be version 1; nothing recorded" in result.stderr
    assert versions(db, KIND[name]) == []
    assert versions(db, STATEMENTS_KIND) == []
    page = (out / "crawler-info.html") if name == "crawler-info" else target
    assert "Preview, not published" in page.read_text(encoding="utf-8") or name == "summary"
    published = heed(
        "report", name, "--db", db, "--config", config, "--format", "json", "--publish"
    )
    assert published.exit_code == 0, published.output
    assert versions(db, KIND[name]) == [1]
    assert versions(db, STATEMENTS_KIND) == [1]


def test_the_three_reports_share_one_vocabulary_of_options() -> None:
    for name in REPORTS:
        command = report.get_command(click.Context(report), name)
        assert command is not None
        options = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        assert SHARED_OPTIONS | {"--withdraw"} <= options, name
        fmt = next(p for p in command.params if p.name == "fmt")
        assert isinstance(fmt.type, click.Choice)
        assert list(fmt.type.choices) == ["md", "html", "json"]


@pytest.mark.parametrize("name", ["summary", "policy"])
@pytest.mark.parametrize(("suffix", "start"), [(".html", "<!doctype html>"), (".json", "{")])
def test_format_follows_the_out_suffix(
    name: str, suffix: str, start: str, db: str, config: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"doc{suffix}"
    result = heed("report", name, "--db", db, "--config", config, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith(start)


def test_crawler_info_prints_json_markdown_or_html(db: str, config: Path) -> None:
    as_json = heed("report", "crawler-info", "--db", db, "--config", config, "--format", "json")
    assert json.loads(as_json.stdout)["information"]["provider"] == "Example Provider (heed demo)"
    as_md = heed("report", "crawler-info", "--db", db, "--config", config)
    assert as_md.stdout.startswith("# Crawler information: Example Provider (heed demo)")
    as_html = heed("report", "crawler-info", "--db", db, "--config", config, "--format", "html")
    assert as_html.stdout.lower().startswith("<!doctype html>")


def test_statements_come_from_config_then_cwd_then_the_last_publication(
    db: str, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # Nothing anywhere: every statement is to be provided.
    none = heed("report", "crawler-info", "--db", db, "--format", "json")
    assert "Statements: none" in none.stderr
    assert json.loads(none.stdout)["information"]["complaints"] == "to be provided"
    # Published with --config: the statements are recorded with it …
    assert (
        heed("report", "crawler-info", "--db", db, "--config", config, "--publish").exit_code == 0
    )
    # … so a later run from another directory, without a config, publishes the same document.
    again = heed("report", "crawler-info", "--db", db, "--publish", "--format", "json")
    assert again.exit_code == 0, again.output
    assert "Statements: recorded in the audit database (version 1," in again.stderr
    assert "crawler-info version 1 (unchanged)" in again.stderr
    # ./heed.toml wins over the recorded statements.
    (elsewhere / "heed.toml").write_text('[provider]\nname = "Local"\n', encoding="utf-8")
    local = heed("report", "crawler-info", "--db", db, "--format", "json")
    assert "Statements: heed.toml" in local.stderr
    assert json.loads(local.stdout)["information"]["provider"] == "Local"
    # The recorded statements hold what the documents read, not the operator's secrets.
    engine = open_reader(db)
    try:
        recorded = latest(engine, STATEMENTS_KIND)
    finally:
        engine.dispose()
    assert recorded is not None
    assert recorded.body["provider"]["name"] == "Example Provider (heed demo)"
    assert "s3cret" not in json.dumps(recorded.body)


@pytest.mark.parametrize("name", ["policy", "crawler-info"])
def test_withdrawing_a_statement_needs_its_own_flag(
    name: str, db: str, config: Path, tmp_path: Path
) -> None:
    first = heed("report", name, "--db", db, "--config", config, "--publish", "--format", "json")
    assert first.exit_code == 0, first.output
    thin = tmp_path / "thin.toml"
    thin.write_text(
        EXAMPLE_CONFIG.replace(
            'complaints = "https://provider.example/copyright/complaints"\n', ""
        ),
        encoding="utf-8",
    )
    refused = heed("report", name, "--db", db, "--config", thin, "--publish", "--format", "json")
    assert refused.exit_code == 1
    assert (
        f"Error: {KIND[name]}: publishing would withdraw what version 1 states:" in refused.output
    )
    assert "[provider] complaints" in refused.output
    assert "--withdraw" in refused.output
    assert versions(db, KIND[name]) == [1]
    preview = heed("report", name, "--db", db, "--config", thin, "--format", "json")
    assert preview.exit_code == 0
    assert f"Warning: {KIND[name]} would withdraw" in preview.stderr
    allowed = heed(
        "report", name, "--db", db, "--config", thin, "--publish", "--withdraw", "--format", "json"
    )
    assert allowed.exit_code == 0, allowed.output
    assert versions(db, KIND[name]) == [1, 2]


def test_summary_withdrawal_of_a_provider_statement(db: str, config: Path, tmp_path: Path) -> None:
    first = heed("report", "summary", "--db", db, "--config", config, "--publish")
    assert first.exit_code == 0, first.output
    thin = tmp_path / "thin.toml"
    thin.write_text(
        EXAMPLE_CONFIG.replace('linguistic = "English web text from the demo sites"\n', ""),
        encoding="utf-8",
    )
    refused = heed("report", "summary", "--db", db, "--config", thin, "--publish")
    assert refused.exit_code == 1
    assert "[[model]] linguistic" in refused.output
    allowed = heed("report", "summary", "--db", db, "--config", thin, "--publish", "--withdraw")
    assert allowed.exit_code == 0, allowed.output
    assert versions(db, "summary") == [1, 2]


@pytest.mark.parametrize("name", ["policy", "crawler-info"])
def test_check_names_the_heed_toml_key_of_each_missing_statement(
    name: str, db: str, config: Path, tmp_path: Path
) -> None:
    thin = tmp_path / "thin.toml"
    thin.write_text('[provider]\nname = "P"\n', encoding="utf-8")
    result = heed("report", name, "--db", db, "--config", thin, "--check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "missing: [provider] complaints (" in "\n".join(lines)
    assert "missing: [crawler] info_url (" in "\n".join(lines)
    assert not any("[provider] name" in line for line in lines)
    assert versions(db, KIND[name]) == []
    assert heed("report", name, "--db", db, "--config", thin, "--check", "--publish").exit_code == 2


def test_check_passes_for_complete_crawler_statements(db: str, config: Path) -> None:
    result = heed("report", "crawler-info", "--db", db, "--config", config, "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Complete: every required statement is present.\n"


def test_withdraw_without_publish_is_a_usage_error(db: str, config: Path) -> None:
    result = heed("report", "policy", "--db", db, "--config", config, "--withdraw")
    assert result.exit_code == 2
    assert "--withdraw only applies with --publish" in result.output


def test_a_summary_that_lost_its_model_is_a_withdrawal(
    db: str, config: Path, tmp_path: Path
) -> None:
    """Statements without their [[model]] would start a new model-less summary: refused too."""
    assert heed("report", "summary", "--db", db, "--config", config, "--publish").exit_code == 0
    modelless = tmp_path / "modelless.toml"
    text = EXAMPLE_CONFIG
    start = text.index("[[model]]")
    modelless.write_text(text[:start] + text[text.index("[sources]") :], encoding="utf-8")
    refused = heed("report", "summary", "--db", db, "--config", modelless, "--publish")
    assert refused.exit_code == 1
    assert "[[model]] name" in refused.output
    assert versions(db, "summary") == [1]
