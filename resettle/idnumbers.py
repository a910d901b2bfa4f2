"""Resident ID numbers (居民身份证号): normalise, validate with the check digit, mask."""

from __future__ import annotations

import unicodedata

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from resettle.errors import RuleViolation
from resettle.translate import gettext as _


def normalise_id_number(raw: str | None) -> str:
    """Full-width digits to ASCII, spaces removed, a trailing x upper-cased."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def _region_known(number: str) -> bool:
    """True when python-stdnum's region table has the code (with or without counties)."""
    return any(props for _part, props in numdb.get("cn/loc").info(number[:6]))


def validate_id_number(raw: str | None, field: str = "head_id_number") -> str:
    """The normalised 18-character ID number, or RuleViolation saying what is wrong with it."""
    number = normalise_id_number(raw)
    try:
        return ric.validate(number)
    except InvalidLength:
        message = _("An ID number has 18 characters; this one has %(n)d.", n=len(number))
    except InvalidFormat:
        message = _("An ID number has 17 digits followed by a digit or X.")
    except InvalidChecksum:
        message = _("The check digit of this ID number is wrong: a digit was mistyped.")
    except InvalidComponent:
        message = _("The birth date or the region code in this ID number is not valid.")
    except KeyError:
        # python-stdnum raises KeyError for codes its table lists without counties (a city's
        # 市辖区 code, say): the region exists, so the number is valid.
        if _region_known(number):
            return number
        message = _("The birth date or the region code in this ID number is not valid.")
    raise RuleViolation(message, field)


def mask_id_number(number: str | None) -> str:
    """First 6 and last 4 characters, asterisks between (for lists that must tell people apart)."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
