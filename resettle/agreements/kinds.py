"""The kinds of agreement: their numbers' prefixes, labels and PDF templates, in one place."""

from __future__ import annotations

from resettle.agreements.models import AgreementKind
from resettle.households.models import CompensationMode
from resettle.translate import lazy_gettext as _l

#: The prefix of each kind's number: 东征货协〔2026〕15号. Change the wording here only.
NUMBER_PREFIXES: dict[AgreementKind, str] = {
    AgreementKind.MONEY: "东征货协",
    AgreementKind.SWAP: "东征换协",
    AgreementKind.SUPPLEMENT: "东征补协",
}
NUMBER_FORMAT = "{prefix}〔{year}〕{sequence}号"

AGREEMENT_KIND_LABELS = {
    AgreementKind.MONEY: _l("Monetary compensation agreement"),
    AgreementKind.SWAP: _l("Property swap agreement"),
    AgreementKind.SUPPLEMENT: _l("Supplementary agreement"),
}
#: templates/agreements/pdf/<name>.html (plain HTML to edit).
TEMPLATES = {
    AgreementKind.MONEY: "agreements/pdf/money.html",
    AgreementKind.SWAP: "agreements/pdf/swap.html",
    AgreementKind.SUPPLEMENT: "agreements/pdf/supplement.html",
}
DOCUMENT_TEMPLATE = "agreements/pdf/document.html"


def kind_for(mode: CompensationMode) -> AgreementKind:
    """A money household signs a monetary agreement; a swap or mixed one a property swap."""
    return AgreementKind.MONEY if mode == CompensationMode.MONEY else AgreementKind.SWAP


def format_number(kind: AgreementKind, year: int, sequence: int) -> str:
    """The printed number of an agreement, e.g. 东征货协〔2026〕15号."""
    return NUMBER_FORMAT.format(
        prefix=NUMBER_PREFIXES[AgreementKind(kind)], year=year, sequence=sequence
    )
