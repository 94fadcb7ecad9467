"""``heed report policy``: the copyright policy for Measures 1.1–1.5 and its public summary (AC-19)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from audit import Action
from audit.engine import make_engine, resolve_url
from audit.publications import history
from optout.decision import Policy
from policy.provider import TO_BE_PROVIDED
from tests.policy.test_crawler_info import T0, add_run, empty_db

SECTIONS = ["1.1", "1.2", "1.3", "1.4", "1.5"]
FULL = """
[provider]
name = "Example AI SAS"
contact_point = "copyright@example.ai"
complaints = "https://example.ai/copyright/complaints"
policy_owner = "General Counsel"
crawler_owner = "Head of Data Engineering"
complaints_owner = "Copyright team"

[crawler]
purpose = "Train ExampleLM"
info_url = "https://example.ai/bot"

[[model]]
name = "ExampleLM 2"

[measures]
output_safeguards = "{safeguards}"
acceptable_use = "Terms of use forbid infringing uses"
denylist_sources = "USTR Notorious Markets list"
recheck_cadence = "monthly, and after every upheld complaint"
"""


def heed(*args: str) -> Result:
    """Run ``heed`` in-process."""
    from heed.cli import main

    return CliRunner().invoke(main, list(args))


def policy_json(db: str, *extra: str) -> dict[str, Any]:
    """Publish the policy (unless *extra* asks for a preview) and return its JSON form."""
    publish = () if "--preview" in extra else ("--publish",)
    result = heed("report", "policy", "--db", db, "--format", "json", *publish, *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def full_config(tmp_path: Path, safeguards: str = "Output filter for verbatim reproduction") -> str:
    path = tmp_path / "heed.toml"
    path.write_text(FULL.format(safeguards=safeguards), encoding="utf-8")
    return str(path)


def seeded(db: str) -> tuple[int, int]:
    """Two runs of one crawler: the second with a denylist and an access-restricted request."""
    empty_db(db)
    first = add_run(db, settings={})
    second = add_run(
        db,
        settings={"OPTOUT_DENYLIST": "lists/deny.txt", "OPTOUT_DEFER_TTL": 600.0},
        started=T0 + dt.timedelta(days=1),
        denylist="2026-01 (sha256:abc)",
    )
    return first, second


def test_internal_policy_has_every_measure_with_provenance(db_url: str, tmp_path: Path) -> None:
    first, second = seeded(db_url)
    data = policy_json(db_url, "--config", full_config(tmp_path))
    assert (data["kind"], data["version"], data["changes"]) == ("policy", 1, ["First publication"])
    doc = data["document"]
    assert list(doc["sections"]) == SECTIONS
    s = doc["sections"]
    assert s["1.1"]["responsibilities"] == {
        "policy_owner": "General Counsel",
        "crawler_owner": "Head of Data Engineering",
        "complaints_owner": "Copyright team",
    }
    assert s["1.1"]["models"] == ["ExampleLM 2"]
    assert s["1.2"]["access_restricted_statuses"] == [401, 402, 403]
    assert any("never retried" in line for line in s["1.2"]["statements"])
    deny = s["1.2"]["denylist"]
    assert deny["sources"] == [{"version": "2026-01 (sha256:abc)", "first_run": second}]
    assert deny["configured_list"] == "lists/deny.txt"
    assert deny["description"] == "USTR Notorious Markets list"
    assert "denylist_version" in deny["provenance"]["sources"]
    robots = s["1.3"]["robots_txt"]
    assert robots["specification"] == "RFC 9309"
    assert any("401 and 403: complete disallow" in line for line in robots["status_policy"])
    families = [p["family"] for p in s["1.3"]["protocols"]]
    assert families[0] == "Robots Exclusion Protocol (robots.txt)"
    assert any("TDMRep" in f for f in families)
    assert s["1.3"]["crawler_information"]["url"] == "https://example.ai/bot"
    assert s["1.3"]["provenance"]["policy"]["id"] is not None
    assert s["1.4"]["output_safeguards"] == "Output filter for verbatim reproduction"
    assert s["1.5"]["contact_point"] == "copyright@example.ai"
    assert s["1.5"]["complaints_owner"] == "Copyright team"
    stats = data["statistics"]
    assert [r["run_id"] for r in stats["runs"]] == [first, second]
    assert stats["runs"][0]["decisions_by_action"] == {Action.FETCHED_STORED.value: 1}
    assert "crawl_run_count" in stats["query"]


def test_public_summary_omits_internal_details(db_url: str, tmp_path: Path) -> None:
    seeded(db_url)
    config = full_config(tmp_path)
    policy_json(db_url, "--config", config)
    data = policy_json(db_url, "--config", config, "--public")
    assert (data["kind"], data["version"]) == ("policy-public", 1)
    assert "statistics" not in data
    s = data["document"]["sections"]
    assert list(s) == SECTIONS
    assert data["document"]["variant"] == "public"
    assert "responsibilities" not in s["1.1"]
    assert "complaints_owner" not in s["1.5"]
    assert "configured_list" not in s["1.2"]["denylist"]
    assert s["1.2"]["denylist"]["sources"] == [{"version": "2026-01 (sha256:abc)"}]
    assert "provenance" not in s["1.3"]
    text = json.dumps(data)
    assert "General Counsel" not in text
    assert "Copyright team" not in text
    # Kept: commitments, protocols, contact and complaints.
    assert s["1.5"]["complaints"] == "https://example.ai/copyright/complaints"
    assert s["1.3"]["protocols"]
    markdown = heed("report", "policy", "--db", db_url, "--config", config, "--public")
    assert markdown.exit_code == 0, markdown.output
    assert "General Counsel" not in markdown.stdout
    assert "Annex" not in markdown.stdout


def test_empty_config_renders_to_be_provided(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    data = policy_json(db)
    s = data["document"]["sections"]
    assert data["document"]["provider"] == TO_BE_PROVIDED
    assert s["1.1"]["responsibilities"]["policy_owner"] == TO_BE_PROVIDED
    assert s["1.2"]["denylist"]["sources"] == TO_BE_PROVIDED
    assert s["1.2"]["denylist"]["configured_list"] == TO_BE_PROVIDED
    assert s["1.4"]["output_safeguards"] == TO_BE_PROVIDED
    assert s["1.5"]["contact_point"] == TO_BE_PROVIDED
    assert s["1.5"]["complaints"] == TO_BE_PROVIDED
    html = heed("report", "policy", "--db", db, "--format", "html")
    assert html.exit_code == 0, html.output
    assert html.stdout.startswith("<!doctype html>")
    assert html.stdout.count('<span class="tbp">to be provided</span>') >= 8
    assert "To be provided: 16 statements (list them with --check)" in html.stderr
    check = heed("report", "policy", "--db", db, "--check")
    assert check.exit_code == 1
    assert check.stdout.splitlines()[:2] == [
        "missing: [provider] name (provider)",
        "missing: [[model]] name (Measure 1.1 models covered)",
    ]
    md = heed("report", "policy", "--db", db)
    assert md.exit_code == 0
    for key in SECTIONS:
        assert f"## Measure {key}:" in md.stdout
    assert "*to be provided*" in md.stdout


def test_versions_follow_policy_changes_not_crawls(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    seeded(db)
    config = full_config(tmp_path)
    assert policy_json(db, "--config", config)["version"] == 1
    # Another crawl with the same crawler and policy: the statistics move, the policy does not.
    add_run(
        db,
        settings={"OPTOUT_DENYLIST": "lists/deny.txt", "OPTOUT_DEFER_TTL": 600.0},
        started=T0 + dt.timedelta(days=5),
        denylist="2026-01 (sha256:abc)",
    )
    again = policy_json(db, "--config", config)
    assert (again["version"], again["new_version"]) == (1, False)
    assert len(again["statistics"]["runs"]) == 3

    changed = policy_json(db, "--config", full_config(tmp_path, safeguards="Memorisation tests"))
    assert (changed["version"], changed["changes"]) == (2, ["Measure 1.4 changed"])
    add_run(
        db,
        policy=Policy(robots_403_allow=True),
        settings={"OPTOUT_DENYLIST": "lists/deny.txt", "OPTOUT_DEFER_TTL": 600.0},
        started=T0 + dt.timedelta(days=6),
        denylist="2026-02 (sha256:def)",
    )
    v3 = policy_json(db, "--config", full_config(tmp_path, safeguards="Memorisation tests"))
    assert v3["version"] == 3
    assert v3["changes"] == ["Measure 1.2 changed", "Measure 1.3 changed"]
    assert [d["version"] for d in v3["document"]["sections"]["1.2"]["denylist"]["sources"]] == [
        "2026-01 (sha256:abc)",
        "2026-02 (sha256:def)",
    ]
    engine = make_engine(resolve_url(db))
    try:
        versions = history(engine, "policy")
    finally:
        engine.dispose()
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[2].previous_id == versions[1].id


def test_out_file_and_format_from_suffix(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    for name, start in (
        ("policy.html", "<!doctype html>"),
        ("policy.json", "{"),
        ("policy.md", "# Copyright policy"),
    ):
        out = tmp_path / name
        result = heed("report", "policy", "--db", db, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert out.read_text(encoding="utf-8").startswith(start)
    forced = tmp_path / "policy.txt"
    assert (
        heed("report", "policy", "--db", db, "--out", str(forced), "--format", "json").exit_code
        == 0
    )
    assert json.loads(forced.read_text(encoding="utf-8"))["kind"] == "policy"


def test_cli_errors(tmp_path: Path) -> None:
    missing = heed("report", "policy", "--db", str(tmp_path / "none.db"))
    assert missing.exit_code == 1
    assert "no audit database" in missing.output
    db = empty_db(str(tmp_path / "a.db"))
    assert heed("report", "policy", "--db", db, "--format", "pdf").exit_code == 2
    unreadable = heed("report", "policy", "--db", db, "--config", str(tmp_path / "no.toml"))
    assert unreadable.exit_code == 1
    assert unreadable.output == f"Error: no configuration file at {tmp_path / 'no.toml'}\n"
    binary = tmp_path / "heed.toml"
    binary.write_bytes(b"[provider]\n\x89PNG\xff\x00")
    for command in ("policy", "crawler-info"):
        result = heed("report", command, "--db", db, "--config", str(binary), "--preview")
        assert result.exit_code == 1
        assert result.output == f"Error: {binary}: not a TOML file: not UTF-8 text (byte 12)\n"


def test_preview_publishes_nothing(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    result = heed("report", "policy", "--db", db, "--preview", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] is None
    engine = make_engine(resolve_url(db))
    try:
        assert history(engine, "policy") == []
    finally:
        engine.dispose()


def test_protocols_switched_off_by_settings_are_not_claimed(tmp_path: Path) -> None:
    db = empty_db(str(tmp_path / "a.db"))
    add_run(db, settings={"OPTOUT_AI_TXT": False, "OPTOUT_RSL_LICENCES": 0})
    families = [p["family"] for p in policy_json(db)["document"]["sections"]["1.3"]["protocols"]]
    assert "Spawning ai.txt" not in families
    assert not any("RSL" in f for f in families)
    assert any("TDMRep" in f for f in families)
