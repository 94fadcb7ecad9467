"""The template's headings and field labels, verbatim, in template order.

One table drives the JSON form, both renderings and the ``--check`` validator, so a label or
its position cannot differ between them. Requirement marks: R required, C conditional (required
when a preceding Yes/No answer is "Yes"), O optional.

Labels are the template's (docs/regulation.md#the-templates-fields), as confirmed by the
CycloneDX transcription and filled-in provider summaries. Three could not be confirmed word for
word; their wording is Heed's and says so in :data:`UNVERIFIED`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Header fields.
VERSION_LABEL = "Version of the Summary"
LAST_UPDATE_LABEL = "Last update"
PREVIOUS_LABEL = "Link(s) to previous versions"

#: Top-level parts of the template.
PARTS: tuple[tuple[str, str], ...] = (
    ("1", "General information"),
    ("2", "List of data sources"),
    ("3", "Data processing aspects"),
)

#: Section number → title, in template order (1.1 … 3.3).
SECTIONS: dict[str, str] = {
    "1.1": "Provider identification",
    "1.2": "Model identification",
    "1.3": "Modalities, overall training data size and other characteristics",
    "2.1": "Publicly available datasets",
    "2.2": "Private non-publicly available datasets obtained from third parties",
    "2.3": "Data crawled and scraped from online sources",
    "2.4": "User data",
    "2.5": "Synthetic data",
    "2.6": "Other sources of data",
    "3.1": "Respect of reservation of rights from text and data mining exception or limitation",
    "3.2": "Removal of illegal content",
    "3.3": "Other information (optional)",
}

#: Sub-parts of section 2.2.
SUBPARTS: dict[str, str] = {
    "2.2.1": "Datasets commercially licensed by rightsholders or their representatives",
    "2.2.2": "Private datasets obtained from other third parties",
}

COMMENTS = "Additional comments (optional)"
_MODALITIES_COVERED = (
    "If yes, specify the modality(ies) of the content covered by the datasets concerned"
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One template field: its key in the JSON form, its label and when it is required."""

    key: str
    label: str
    requirement: str
    #: For a C-field: the keys of the Yes/No fields whose "Yes" makes it required.
    depends_on: tuple[str, ...] = ()
    #: Sub-part (2.2.1, 2.2.2) the field belongs to.
    part: str | None = None
    #: The template's instruction for the field, when it has one beyond the label.
    instruction: str | None = None


def _f(
    key: str,
    label: str,
    requirement: str,
    *depends_on: str,
    part: str | None = None,
    instruction: str | None = None,
) -> FieldSpec:
    return FieldSpec(key, label, requirement, depends_on, part, instruction)


#: Section number → its fields, in template order.
FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "1.1": (
        _f("provider", "Provider name and contact details", "R"),
        _f("representative", "Authorised representative name and contact details", "C"),
    ),
    "1.2": (
        _f("versions", "Versioned model name(s)", "R"),
        _f("dependencies", "Model dependencies", "C"),
        _f("placed_on", "Date of placement of the model on the Union market", "R"),
    ),
    "1.3": (
        _f(
            "modalities",
            "Modality",
            "R",
            instruction=(
                "Select the modalities present in the training data, to the extent that they "
                "are identifiable"
            ),
        ),
        _f(
            "sizes",
            "Training data size",
            "R",
            instruction=(
                "For each selected modality, select the range within which the estimated total "
                "training data size for that modality falls. Dynamic datasets may be excluded "
                "from the estimation."
            ),
        ),
        _f(
            "content_types",
            "Types of content",
            "R",
            instruction=(
                "For each selected modality, provide a general description of the type of "
                "content that has been included in the training data."
            ),
        ),
        _f(
            "latest_collection",
            "Latest date of data acquisition/collection for model training",
            "R",
        ),
        _f(
            "continuously_trained",
            "Is the model continuously trained on new data after this date?",
            "R",
        ),
        _f(
            "linguistic",
            "Description of the linguistic characteristics of the overall training data",
            "R",
        ),
        _f(
            "other_characteristics",
            "Other relevant characteristics of the overall training data",
            "R",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "2.1": (
        _f("used", "Have you used publicly available datasets to train the model?", "R"),
        _f("modalities", _MODALITIES_COVERED, "C", "used"),
        _f("large", "List of large publicly available datasets", "C", "used"),
        _f(
            "other",
            "General description of other publicly available datasets not listed above",
            "C",
            "used",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "2.2": (
        _f(
            "licensed",
            "Have you concluded transactional commercial licensing agreement(s) with "
            "rightsholder(s) or with their representatives?",
            "R",
            part="2.2.1",
        ),
        _f("licensed_modalities", _MODALITIES_COVERED, "C", "licensed", part="2.2.1"),
        _f(
            "private",
            "Have you obtained private datasets from third parties that are not licensed as "
            "described in Section 2.2.1, such as data obtained from providers of private "
            "databases, or data intermediaries?",
            "R",
            part="2.2.2",
        ),
        _f("private_modalities", _MODALITIES_COVERED, "C", "private", part="2.2.2"),
        _f(
            "private_listed",
            "If publicly known, list private datasets obtained from other third parties",
            "C",
            "private",
            part="2.2.2",
        ),
        _f(
            "private_other",
            "General description of non-publicly known private datasets obtained from third "
            "parties",
            "C",
            "private",
            part="2.2.2",
        ),
        _f("private_comments", COMMENTS, "O", part="2.2.2"),
    ),
    "2.3": (
        _f("used", "Were crawlers used by the provider or on behalf of?", "R"),
        _f("crawlers", "If yes, specify crawler name(s)/identifier(s)", "C", "used"),
        _f("purposes", "Purposes of the crawler(s)", "C", "used"),
        _f("behaviour", "General description of crawler behaviour", "C", "used"),
        _f("period", "Period of data collection", "C", "used"),
        _f(
            "content",
            "Comprehensive description of the type of content and online sources crawled",
            "C",
            "used",
        ),
        _f("modalities", "Type of modality covered", "C", "used"),
        _f("domains", "Summary of the most relevant domain names crawled", "C", "used"),
        _f("comments", COMMENTS, "O"),
    ),
    "2.4": (
        _f(
            "model_interactions",
            "Was data from user interactions with the AI model (e.g. user input and prompts) "
            "used to train the model?",
            "R",
        ),
        _f(
            "other_services",
            "Was data collected from user interactions with the provider's other services or "
            "products used to train the model?",
            "R",
        ),
        _f(
            "services",
            "If yes, provide a general description of the provider's services or products that "
            "were used to collect the user data",
            "C",
            "other_services",
        ),
        _f(
            "modalities",
            "Type of modality covered",
            "C",
            "model_interactions",
            "other_services",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "2.5": (
        _f(
            "used",
            "Was synthetic AI-generated data created by the provider or on their behalf to "
            "train the model?",
            "R",
        ),
        _f("modalities", "If yes, modality of the synthetic data", "C", "used"),
        _f(
            "market_models",
            "If yes, specify the general-purpose AI model(s) used to generate the synthetic "
            "data if available on the market",
            "C",
            "used",
        ),
        _f(
            "other_models",
            "Information about other AI models, including provider's own AI model(s) not "
            "available on the market, used to generate synthetic data to train the model to "
            "which this Summary applies",
            "C",
            "used",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "2.6": (
        _f(
            "used",
            "Have data sources other than those described in Sections 2.1 to 2.5 been used to "
            "train the model?",
            "R",
        ),
        _f(
            "description",
            "If yes, provide a narrative description of these data sources and the data",
            "C",
            "used",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "3.1": (
        _f(
            "signatory",
            "Are you a Signatory to the Code of Practice for general-purpose AI models that "
            "includes commitments to respect reservations of rights from the TDM exception or "
            "limitation?",
            "R",
        ),
        _f(
            "measures",
            "Describe the measures implemented before model training to respect reservations of "
            "rights from the TDM exception or limitation before and during data collection, "
            "including the opt-out protocols and solutions honoured by the provider or, as "
            "applicable, by third parties from which datasets have been obtained",
            "R",
        ),
        _f("comments", COMMENTS, "O"),
    ),
    "3.2": (_f("measures", "General description of measures taken", "R"),),
    "3.3": (_f("other", "Other relevant information about data processing (optional)", "O"),),
}

#: Labels whose exact template wording could not be confirmed (Heed's wording;
#: docs/regulation.md#the-templates-fields).
UNVERIFIED: dict[str, str] = {
    "1.3/continuously_trained": "secondary sources say only that the template asks it",
    "2.2/licensed_modalities": "'If yes, modality(ies)' is known only from summaries, not quoted",
    "2.2/private_modalities": "'Modality(ies)' is known only from summaries, not quoted",
}
