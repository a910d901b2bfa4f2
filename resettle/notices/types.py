"""The kinds of notice: their numbers' prefixes, labels and PDF templates, in one place."""

from __future__ import annotations

from resettle.notices.models import NoticeType
from resettle.translate import lazy_gettext as _l

#: The prefix of each type's number (文号): 东征签催〔2026〕15号. Change the wording here only.
NUMBER_PREFIXES: dict[NoticeType, str] = {
    NoticeType.SIGNING: "东征签催",
    NoticeType.VACATING: "东征腾通",
    NoticeType.SELECTION: "东征选通",
    NoticeType.HANDOVER: "东征交通",
    NoticeType.ALLOWANCE: "东征过发",
    NoticeType.SUPERVISION: "东督办",
}
NUMBER_FORMAT = "{prefix}〔{year}〕{sequence}号"

NOTICE_TYPE_LABELS = {
    NoticeType.SIGNING: _l("Signing reminder"),
    NoticeType.VACATING: _l("Vacating notice"),
    NoticeType.SELECTION: _l("Flat selection notice"),
    NoticeType.HANDOVER: _l("Handover notice"),
    NoticeType.ALLOWANCE: _l("Allowance payment notice"),
    NoticeType.SUPERVISION: _l("Supervision order"),
}
#: The types a caseworker issues to a household.
HOUSEHOLD_TYPES = (
    NoticeType.SIGNING,
    NoticeType.VACATING,
    NoticeType.SELECTION,
    NoticeType.HANDOVER,
    NoticeType.ALLOWANCE,
)
#: The PDF template of each type: templates/notices/pdf/<name>.html (plain HTML to edit).
TEMPLATES = {
    NoticeType.SIGNING: "notices/pdf/signing.html",
    NoticeType.VACATING: "notices/pdf/vacating.html",
    NoticeType.SELECTION: "notices/pdf/selection.html",
    NoticeType.HANDOVER: "notices/pdf/handover.html",
    NoticeType.ALLOWANCE: "notices/pdf/allowance.html",
    NoticeType.SUPERVISION: "supervision/pdf/order.html",
}


def format_number(notice_type: NoticeType, year: int, sequence: int) -> str:
    """The printed number of a notice, e.g. 东征签催〔2026〕15号."""
    return NUMBER_FORMAT.format(
        prefix=NUMBER_PREFIXES[NoticeType(notice_type)], year=year, sequence=sequence
    )
