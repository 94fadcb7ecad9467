"""The published documents of ``heed demo``: what a provider would put on its website.

After the demo crawl, the demo writes an example ``heed.toml`` (a made-up provider, clearly
marked as an example) beside its audit database and runs the three ``heed report`` commands
on it, so that the whole path — crawl, evidence, published summary, policy and crawler page —
can be seen at once, offline.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

#: The example provider statements (what no crawl can know).
#: The example provider's crawler page: the demo's User-Agent names it, as heed.toml says.
INFO_URL = "https://provider.example/bot"

EXAMPLE_CONFIG = """\
# heed demo: an EXAMPLE provider configuration, for the documents in published/.
# Replace every value with your own before publishing anything (README: "Published documents").

[provider]
name = "Example Provider (heed demo)"
contact = "Example Provider, 1 Example Street, Brussels; copyright@provider.example"
authorised_representative = "Not applicable (established in the Union)"
signatory = true
sme = false
contact_point = "copyright@provider.example"
complaints = "https://provider.example/copyright/complaints"
policy_owner = "General Counsel"
crawler_owner = "Head of Data Engineering"
complaints_owner = "Copyright team"

[crawler]
purpose = "Collect publicly available web pages to train the provider's language models"
info_url = "https://provider.example/bot"
feed_url = "https://provider.example/bot/crawler-info.atom"

[[model]]
name = "DemoLM 1"
versions = ["DemoLM-1-small"]
placed_on = "2026-12-01"
dependencies = "None"
continuously_trained = false
linguistic = "English web text from the demo sites"
other_characteristics = "None beyond the demo web"
content_types = { text = "Articles, blog posts and book pages of the demo web" }

[sources]
public_datasets = { used = false }
licensed = { used = false }
private = { used = false }
crawled = { description = "Pages of the eleven local demo sites, crawled by HeedBot" }
user_data = { model_interactions = false, other_services = false }
synthetic = { used = false }
other = { used = false }

[measures]
illegal_content = "Infringing-site denylist applied at request time (demo)"
third_party_optouts = "No third-party datasets are used"
output_safeguards = "Not part of the demo"
acceptable_use = "Not part of the demo"
denylist_sources = "The demo's own denylist file"
recheck_cadence = "Not part of the demo"
"""

#: (report arguments, file written) for each document, relative to the published directory.
_REPORTS = (
    (["summary", "--format", "html"], "summary.html"),
    (["summary", "--format", "json"], "summary.json"),
    (["policy", "--format", "html"], "copyright-policy.html"),
    (["policy", "--public", "--format", "html"], "copyright-policy-public.html"),
)


def publish_demo_documents(directory: Path, db: Path, log_key: Path | None = None) -> list[Path]:
    """Write the example config and the published documents under *directory*; return them.

    With *log_key* (the demo's throwaway signer key), the crawler page publishes its verifier
    key, and the audit log's signed checkpoints are written beside it."""
    from heed.cli.report import report

    config = directory / "heed.toml"
    config.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    out = directory / "published"
    out.mkdir(exist_ok=True)
    common = ["--db", str(db), "--config", str(config), "--publish"]
    written = []
    # The commands say what they published; the demo prints its own summary. Failures raise.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for args, name in _REPORTS:
            report.main([*args, *common, "--out", str(out / name)], standalone_mode=False)
            written.append(out / name)
        key = ["--log-key", str(log_key)] if log_key is not None else []
        report.main(["crawler-info", *common, *key, "--out", str(out)], standalone_mode=False)
    written += sorted(out.glob("crawler-info.*")) + sorted(out.glob("log-checkpoint*"))
    return written
