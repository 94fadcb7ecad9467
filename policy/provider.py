"""What no crawl can know: the provider's own statements, from ``heed.toml``.

The published documents (training-content summary, copyright policy, crawler information) mix
figures from the audit database with statements only the provider can make: who it is, which
models, other data sources, measures against illegal content. They come from these tables of
``heed.toml`` (the same file ``heed crawl --config`` reads)::

    [provider]
    name = "Example AI SAS"
    contact = "Example AI SAS, 1 rue Exemple, Paris; legal@example.ai"
    authorised_representative = "Not applicable (established in the Union)"
    signatory = true                 # Code of Practice signatory (summary §3.1)
    sme = false                      # SME or start-up: the 5 % domain rule (summary §2.3)
    complaints = "https://example.ai/copyright/complaints"
    contact_point = "copyright@example.ai"   # Measure 1.5 point of contact
    policy_owner = "General Counsel"         # Measure 1.1 responsibilities
    crawler_owner = "Head of Data Engineering"
    complaints_owner = "Copyright team"
    summary_archive = "https://example.ai/summaries/{model}-v{version}.html"  # links to old versions

    [crawler]
    purpose = "Collect publicly available web content to train Example AI's models"
    info_url = "https://example.ai/bot"
    ip_ranges = "https://example.ai/bot/ips.json"   # optional
    feed_url = "https://example.ai/bot/crawler-info.atom"   # where the Atom feed is served

    [[model]]
    name = "ExampleLM 2"
    versions = ["ExampleLM-2-7B", "ExampleLM-2-70B"]
    placed_on = "2026-09-01"         # placement on the Union market
    dependencies = "None"            # model it was fine-tuned or modified from, if any
    runs = ["2026-q3-main"]          # run keys of the crawls in its training set (default: all)
    continuously_trained = false
    linguistic = "Mostly English, French and German web text"
    other_characteristics = "…"
    content_types = { text = "News, blogs, reference pages" }
    comments = ""
    size_metric = "bytes"            # rank §2.3 domains by "bytes" (default) or "tokens"
    hours = { audio = 1200, video = 35.5 }   # audio/video hours (the database cannot know them)
    [model.sources]                  # overrides [sources] for this model

    [sources]                        # summary §2.1–2.6 (every table also takes comments = "…")
    public_datasets = { used = true, modalities = ["text"], large = [{ name = "…", url = "…" }], other = "…" }
    licensed = { used = false }      # when used: modalities
    private = { used = false }       # when used: modalities, listed = [{ name, url }], other = "…"
    crawled = { description = "…" }  # §2.3 type of content and online sources; used = false: none
    user_data = { model_interactions = false, other_services = false }  # services, modalities
    synthetic = { used = false }     # when used: modalities, models = "…", other_models = "…"
    other = { used = false }         # when used: description = "…"

    [measures]
    illegal_content = "Denylist of … ; classifier …"          # summary §3.2
    third_party_optouts = "Suppliers state they honour robots.txt"   # summary §3.1
    optout_comments = ""                                      # summary §3.1 (optional)
    output_safeguards = "…"                                   # copyright policy Measure 1.4(1)(a)
    acceptable_use = "…"                                      # copyright policy Measure 1.4(1)(b)
    denylist_sources = "…"                                    # copyright policy Measure 1.2
    recheck_cadence = "monthly"                               # copyright policy Measure 1.3 (heed recheck)
    other_processing = ""                                     # summary §3.3 (optional)

A dataset whose details cannot be retrieved (a legacy model, GPAI Guidelines para. 110) is
described in words: any text value is printed as given, e.g. "Not available: disproportionate
effort, because …".

A value that is missing renders as :data:`TO_BE_PROVIDED`, visibly, and ``--check`` lists it;
nothing is invented. Loading is strict about shape (a table where a table belongs) and lenient
about absence.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: What a missing statement renders as (never an invented value).
TO_BE_PROVIDED = "to be provided"
#: Units the §2.3 domain ranking can use: bytes of stored content, or (text) tokens.
SIZE_METRICS = ("bytes", "tokens")
#: Modalities whose size is a duration, given in ``[[model]] hours``.
HOUR_MODALITIES = ("audio", "video")
#: Tables of heed.toml read here (crawler/run.py reads [crawl] and [settings]).
TABLES = ("provider", "crawler", "model", "sources", "measures")


def contains_tbp(value: Any) -> bool:
    """Return True if *value* (text, list, or table rows) holds a "to be provided" statement."""
    if isinstance(value, str):
        return TO_BE_PROVIDED in value
    if isinstance(value, dict):
        return any(contains_tbp(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_tbp(v) for v in value)
    return False


class ProviderConfigError(ValueError):
    """heed.toml cannot be read, or a table has the wrong shape."""


@dataclass(frozen=True, slots=True)
class Provider:
    """The ``[provider]`` table."""

    name: str | None = None
    contact: str | None = None
    authorised_representative: str | None = None
    signatory: bool | None = None
    sme: bool | None = None
    complaints: str | None = None
    contact_point: str | None = None
    policy_owner: str | None = None
    crawler_owner: str | None = None
    complaints_owner: str | None = None
    #: URL of archived summary versions, with ``{version}`` (and optionally ``{model}``) in it.
    summary_archive: str | None = None


@dataclass(frozen=True, slots=True)
class CrawlerInfo:
    """The ``[crawler]`` table (names and tokens come from the crawl runs and settings)."""

    purpose: str | None = None
    info_url: str | None = None
    ip_ranges: str | None = None
    #: Where the crawler information's Atom feed is served (Measure 1.3(4) notification).
    feed_url: str | None = None


@dataclass(frozen=True, slots=True)
class Model:
    """One ``[[model]]`` entry: a model (and its versions) a summary covers."""

    name: str
    versions: tuple[str, ...] = ()
    placed_on: str | None = None
    dependencies: str | None = None
    #: Run keys of the crawls whose stored items are in its training set; None = all runs.
    runs: tuple[str, ...] | None = None
    continuously_trained: bool | None = None
    linguistic: str | None = None
    other_characteristics: str | None = None
    #: Modality → description of the type of content (summary §1.3 "Types of content").
    content_types: dict[str, str] = field(default_factory=dict)
    comments: str | None = None
    #: Per-model ``[model.sources]``, merged over the global ``[sources]``.
    sources: dict[str, Any] = field(default_factory=dict)
    #: What ranks the summary's §2.3 domains: :data:`SIZE_METRICS` (None: "bytes").
    size_metric: str | None = None
    #: Hours of audio and of video in the training data (``audio``, ``video``), as stated by the
    #: provider: the audit database records bytes, not durations.
    hours: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """Everything the published documents need that the audit database does not hold."""

    provider: Provider = field(default_factory=Provider)
    crawler: CrawlerInfo = field(default_factory=CrawlerInfo)
    models: tuple[Model, ...] = ()
    #: Summary §2.1, 2.2, 2.4–2.6 statements, keyed as in the module docstring.
    sources: dict[str, Any] = field(default_factory=dict)
    #: Summary §3.1–3.3 statements.
    measures: dict[str, Any] = field(default_factory=dict)
    #: The file it came from (None: no file, everything "to be provided").
    path: str | None = None

    def model(self, name: str | None) -> Model | None:
        """Return the model called *name* (or one of its versions); the only model if None.

        None when no model is configured (a summary then covers every stored item).
        """
        if name is None:
            if len(self.models) > 1:
                names = ", ".join(m.name for m in self.models)
                raise ProviderConfigError(f"several models configured ({names}): pass --model")
            return self.models[0] if self.models else None
        for model in self.models:
            if name == model.name or name in model.versions:
                return model
        known = ", ".join(m.name for m in self.models) or "none"
        raise ProviderConfigError(f"no model {name!r} in the configuration (configured: {known})")

    def sources_for(self, model: Model | None) -> dict[str, Any]:
        """Return the sources statements for *model*: its own over the global ones."""
        merged = dict(self.sources)
        if model is not None:
            merged.update(model.sources)
        return merged


def read_toml(path: str | Path) -> dict[str, Any]:
    """Return the parsed TOML file at *path*; ProviderConfigError if unreadable or invalid."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProviderConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ProviderConfigError(
            f"{path}: not a TOML file: not UTF-8 text (byte {exc.start + 1})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProviderConfigError(f"{path}: {exc}") from exc


def load_provider_config(path: str | Path | None) -> ProviderConfig:
    """Return the provider statements in the TOML file at *path* (an empty config if None)."""
    if path is None:
        return ProviderConfig()
    return parse_provider_config(read_toml(path), source=str(path))


def parse_provider_config(data: dict[str, Any], *, source: str = "heed.toml") -> ProviderConfig:
    """Return the provider statements in parsed TOML *data*."""
    provider = _table(data, "provider", source)
    crawler = _table(data, "crawler", source)
    models_raw = data.get("model", [])
    if isinstance(models_raw, dict):
        models_raw = [models_raw]
    if not isinstance(models_raw, list) or not all(isinstance(m, dict) for m in models_raw):
        raise ProviderConfigError(f"{source}: [[model]] must be an array of tables")
    return ProviderConfig(
        provider=Provider(**_known(provider, Provider, "provider", source)),
        crawler=CrawlerInfo(**_known(crawler, CrawlerInfo, "crawler", source)),
        models=tuple(_model(m, source) for m in models_raw),
        sources=_table(data, "sources", source),
        measures=_table(data, "measures", source),
        path=source,
    )


def _model(raw: dict[str, Any], source: str) -> Model:
    values = _known(raw, Model, "model", source)
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProviderConfigError(f"{source}: every [[model]] needs a name")
    for key in ("versions", "runs"):
        if key in values:
            value = values[key]
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ProviderConfigError(f"{source}: model {name!r}: {key} must be a list of text")
            values[key] = tuple(value)
    for key in ("content_types", "sources", "hours"):
        if key in values and not isinstance(values[key], dict):
            raise ProviderConfigError(f"{source}: model {name!r}: {key} must be a table")
    if "placed_on" in values and not isinstance(values["placed_on"], str | type(None)):
        # A bare TOML date (placed_on = 2026-09-01) parses as a date: keep its ISO text.
        values["placed_on"] = str(values["placed_on"])
    metric = values.get("size_metric")
    if metric is not None and metric not in SIZE_METRICS:
        raise ProviderConfigError(
            f"{source}: model {name!r}: size_metric must be one of {list(SIZE_METRICS)}"
        )
    for modality, hours in values.get("hours", {}).items():
        if modality not in HOUR_MODALITIES:
            raise ProviderConfigError(
                f"{source}: model {name!r}: hours are for {list(HOUR_MODALITIES)}, not {modality!r}"
            )
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0:
            raise ProviderConfigError(
                f"{source}: model {name!r}: hours.{modality} must be a number ≥ 0"
            )
    return Model(**values)


def _table(data: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ProviderConfigError(f"{source}: [{name}] must be a table")
    return dict(value)


def _known(values: dict[str, Any], cls: type, table: str, source: str) -> dict[str, Any]:
    known = set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ProviderConfigError(
            f"{source}: unknown keys in [{table}]: {unknown}; known: {sorted(known)}"
        )
    return dict(values)
