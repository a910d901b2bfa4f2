"""Resident ID numbers (居民身份证号): normalise, validate, mask.

A number is valid when it has 17 digits and a check digit (GB 11643), a real birth date, and a
region code that python-stdnum's table has known at any time. python-stdnum's own `validate`
also demands that the region existed in the holder's birth year (python-stdnum issue #442):
an ID number carries the code of the office that issued it, so a resident born in 1950 and
registered in 西湖区 (code in the table from 1983) legitimately holds 330106 1950…, and most
older residents would be refused. A code the table has never known (a district newer than the
table, say) is not an error but a warning the caseworker confirms.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from resettle import clock
from resettle.errors import RuleViolation
from resettle.translate import gettext as _

# The earliest birth year a living resident's number can carry.
EARLIEST_BIRTH_YEAR = 1880


def normalise_id_number(raw: str | None) -> str:
    """Full-width digits to ASCII, spaces removed, a trailing x upper-cased."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(text.split()).upper()


def _listed(code: str) -> bool:
    parts = numdb.get("cn/loc").info(code)
    return len(parts) == 2 and bool(parts[-1][1])


@functools.lru_cache(maxsize=512)
def _city_without_counties(prefix: str) -> bool:
    """A city the table lists with no districts under it (嘉峪关市, 620200): every code of the
    city (620201 …) belongs to it."""
    return _listed(prefix + "00") and not any(_listed(f"{prefix}{n:02d}") for n in range(1, 100))


def region_known(number: str) -> bool:
    """True when python-stdnum's table has known the first six digits as a region at any time
    (the year ranges it gives, such as [1983-], are ignored; see the module docstring)."""
    code = number[:6]
    return _listed(code) or _city_without_counties(code[:4])


def _birth_date(number: str) -> date | None:
    try:
        born = ric.get_birth_date(number)
    except (InvalidComponent, ValueError):
        return None
    if born.year < EARLIEST_BIRTH_YEAR or born > clock.today():
        return None
    return born


@dataclass(frozen=True)
class IdNumberCheck:
    """A valid ID number, and what the caseworker should confirm about it (or None)."""

    number: str
    warning: str | None = None


def check_id_number(raw: str | None, field: str = "head_id_number") -> IdNumberCheck:
    """The normalised number with its warning; RuleViolation saying what is wrong with it."""
    number = normalise_id_number(raw)
    if len(number) != 18:
        message = _("An ID number has 18 characters; this one has %(n)d.", n=len(number))
    elif not number[:17].isascii() or not number[:17].isdigit() or number[17] not in "0123456789X":
        message = _("An ID number has 17 digits followed by a digit or X.")
    elif number[-1] != ric.calc_check_digit(number):
        message = _("The check digit of this ID number is wrong: a digit was mistyped.")
    elif _birth_date(number) is None:
        message = _(
            "The birth date in this ID number (digits 7 to 14: %(digits)s) is not a real date.",
            digits=number[6:14],
        )
    else:
        warning = None
        if not region_known(number):
            warning = _(
                "The region code %(code)s (the first six digits of an ID number) is not in the "
                "national table of region codes: a new district, or a mistyped number. Check "
                "it against the ID card.",
                code=number[:6],
            )
        return IdNumberCheck(number, warning)
    raise RuleViolation(message, field)


def validate_id_number(raw: str | None, field: str = "head_id_number") -> str:
    """The normalised 18-character ID number, or RuleViolation saying what is wrong with it
    (an unknown region code is accepted here: `check_id_number` gives its warning)."""
    return check_id_number(raw, field).number


def mask_id_number(number: str | None) -> str:
    """First 6 and last 4 characters, asterisks between (for lists that must tell people apart)."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
