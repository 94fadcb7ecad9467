"""policy.publish.inputs: what the documents know of the crawler is what the caller hands in.

policy/ does not import crawler/ (tests/policy/test_layers.py); Heed's setting defaults and
version arrive as a :class:`CrawlerDefaults`, which ``heed report`` builds from
``crawler.defaults``. These tests build their own, so that a value seen in a document can only
have come from it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import open_reader
from crawler import defaults
from crawler.config import heed_version
from heed.cli.report.common import crawler_defaults
from optout.robots import user_agent
from policy.publish import crawlerinfo
from policy.publish.inputs import SETTING_NAMES, CrawlerDefaults, InputError, Inputs, gather
from tests.policy.test_crawler_info import empty_db

HEED_DEFAULTS = {name: getattr(defaults, name) for name in SETTING_NAMES}


def _gather(db: str, config: Path | None, given: CrawlerDefaults) -> Inputs:
    engine = open_reader(db)
    try:
        return gather(engine, config, given)
    finally:
        engine.dispose()


def test_heed_hands_in_the_crawler_defaults_and_version() -> None:
    """``heed report`` describes the crawler with crawler/defaults.py and the installed version."""
    given = crawler_defaults()
    assert dict(given.settings) == HEED_DEFAULTS
    assert given.version == heed_version()


def test_defaults_must_cover_every_described_setting() -> None:
    """A defaults mapping without a described setting is refused, naming it."""
    partial = {k: v for k, v in HEED_DEFAULTS.items() if k != "OPTOUT_DEFER_TTL"}
    with pytest.raises(ValueError, match="OPTOUT_DEFER_TTL"):
        CrawlerDefaults(settings=partial, version="1")


def test_unused_crawler_is_described_from_the_given_defaults(tmp_path: Path) -> None:
    """Without a run or configuration, the token, information URL, settings and the version in
    the User-Agent are the given ones."""
    given = CrawlerDefaults(
        settings=HEED_DEFAULTS
        | {
            "OPTOUT_USER_AGENT_TOKEN": "TestBot",
            "OPTOUT_INFO_URL": "https://t.example/bot",
            "OPTOUT_DEFER_TTL": 42.0,
        },
        version="9.9.9",
    )
    inputs = _gather(empty_db(str(tmp_path / "a.db")), None, given)
    assert inputs.settings_source == "Heed's defaults"
    info, _ = crawlerinfo.build(inputs)
    assert info["crawlers"][0]["user_agents"] == [
        user_agent("TestBot", "9.9.9", "https://t.example/bot")
    ]
    assert "TestBot/9.9.9" in info["crawlers"][0]["user_agents"][0]
    assert info["cache"]["retry_unreachable_seconds"] == 42.0


def test_bad_policy_knob_is_one_line_error(tmp_path: Path) -> None:
    """An unknown OPTOUT_POLICY knob in heed.toml is an InputError naming the setting once."""
    config = tmp_path / "heed.toml"
    config.write_text("[settings]\nOPTOUT_POLICY = { bogus = true }\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _gather(empty_db(str(tmp_path / "a.db")), config, crawler_defaults())
    message = str(caught.value)
    assert message.startswith("OPTOUT_POLICY: unknown knobs ['bogus']")
    assert message.count("OPTOUT_POLICY") == 1
