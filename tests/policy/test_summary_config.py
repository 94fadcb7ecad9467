"""The heed.toml keys only the summary reads: size metric, hours, archive links, dates."""

from __future__ import annotations

from pathlib import Path

import pytest

from policy.provider import ProviderConfigError, load_provider_config, parse_provider_config
from policy.summary.build import archive_url


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ({"size_metric": "pages"}, "size_metric must be one of"),
        ({"hours": {"text": 3}}, "hours are for ['audio', 'video']"),
        ({"hours": {"video": -1}}, "hours.video must be a number"),
        ({"hours": {"audio": True}}, "hours.audio must be a number"),
        ({"hours": 12}, "hours must be a table"),
    ],
)
def test_summary_keys_are_checked(model: dict[str, object], message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_provider_config({"model": [{"name": "m", **model}]})


def test_summary_keys_are_read(tmp_path: Path) -> None:
    path = tmp_path / "heed.toml"
    path.write_text(
        '[provider]\nsummary_archive = "https://x.example/{model}/v{version}"\n'
        '[[model]]\nname = "M 1"\nplaced_on = 2026-09-01\nsize_metric = "tokens"\n'
        "hours = { audio = 12, video = 0.5 }\n",
        encoding="utf-8",
    )
    config = load_provider_config(path)
    model = config.model(None)
    assert model is not None
    assert model.placed_on == "2026-09-01"  # a bare TOML date, kept as its ISO text
    assert model.size_metric == "tokens"
    assert model.hours == {"audio": 12, "video": 0.5}
    assert config.provider.summary_archive is not None
    assert archive_url(config.provider.summary_archive, 3, "M 1") == "https://x.example/M%201/v3"
