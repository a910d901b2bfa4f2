"""Cell values as offices write them: full-width digits, stray spaces, units after numbers,
dates as text in several spellings or as Excel serial numbers. Each parser takes a raw cell
value (None, str, int, float, Decimal, date, datetime or bool) and returns a Python value or
raises RuleViolation with a message for the person who fixes the file."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl.utils.datetime import from_excel

from resettle.errors import RuleViolation
from resettle.translate import gettext as _

_WIDE = {0x3000: 0x20}
_WIDE.update({0xFF10 + i: 0x30 + i for i in range(10)})  # ０-９
_WIDE.update({0xFF21 + i: 0x41 + i for i in range(26)})  # Ａ-Ｚ
_WIDE.update({0xFF41 + i: 0x61 + i for i in range(26)})  # ａ-ｚ
BLANKS = frozenset({"", "-", "/", "—", "无", "None"})
_NUMBER_UNITS = re.compile(r"(元/m2|万元|元|m2|平方米|平米)$")
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)
_UNIT = re.compile(r"[(\[【]([^()\[\]【】]*)[)\]】]$")
_UNIT_SUFFIX = re.compile(r"[/:]?(m2|㎡|平方米|平米)$", re.IGNORECASE)


def is_blank(value: Any) -> bool:
    """An empty cell: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def raw_text(value: Any) -> str:
    """A cell as text: whole numbers without `.0`, dates as ISO dates; a number past Excel's
    15 significant digits as Excel's formula bar shows it (330106194801010000), not with the
    binary float's invented digits (330106194801009984)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(Decimal(f"{value:.15g}")) if abs(value) >= 1e15 else int(value)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def text(value: Any) -> str:
    """Free text: full-width digits, letters and spaces to ASCII, runs of spaces to one."""
    return " ".join(raw_text(value).translate(_WIDE).split())


def code(value: Any) -> str:
    """Numbers and codes: every full-width form to ASCII, no spaces, no leading apostrophe."""
    return "".join(unicodedata.normalize("NFKC", raw_text(value)).split()).lstrip("'")


def header_key(value: Any) -> tuple[str, int]:
    """A header without spaces, required marks and units, and the multiplier its unit implies:
    '评估价值（万元）' is ('评估价值', 10000), '* 建筑面积(㎡)' and '建筑面积m2' are ('建筑面积', 1)."""
    key = "".join(unicodedata.normalize("NFKC", str(value)).split()).strip("*:")
    scale = 1
    while match := _UNIT.search(key):
        if "万元" in match.group(1):
            scale = 10_000
        key = key[: match.start()].strip("*:")
    return _UNIT_SUFFIX.sub("", key).strip("*:"), scale


def header_text(value: Any) -> str:
    """A header cell as shown to people: its text with runs of spaces as one."""
    return " ".join(str(value).split()) if value is not None else ""


def decimal(value: Any, scale: int = 1) -> Decimal | None:
    """A number (areas, amounts): '1,234.5', '８５.３２', '100.2㎡', '12.5万元' (× 10,000);
    `scale` is the multiplier of the column's unit (a 万元 header)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RuleViolation(_("Enter a number."))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back as the stored number
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, date):
        raise RuleViolation(_("Enter a number."))
    else:
        text_value = code(value).replace(",", "")
        if text_value in BLANKS:
            return None
        unit = _NUMBER_UNITS.search(text_value)
        if unit:
            if unit.group(1) == "万元":
                scale = 10_000
            text_value = text_value[: unit.start()]
        try:
            number = Decimal(text_value)
        except InvalidOperation:
            raise RuleViolation(_("Enter a number.")) from None
        if not number.is_finite():
            raise RuleViolation(_("Enter a number."))
    return number * scale


def whole(value: Any) -> int | None:
    """A whole number: 3, 3.0, '３'."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise RuleViolation(_("Enter a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise RuleViolation(_("Enter a whole number."))
    text_value = code(value)
    if text_value in BLANKS:
        return None
    if not text_value.isascii() or not text_value.isdigit():
        raise RuleViolation(_("Enter a whole number."))
    return int(text_value)


def day(value: Any) -> date | None:
    """A date: a date cell, 2024-3-5, 2024.3.5, 2024/03/05, 2024年3月5日, 20240305, or the
    serial number of a date cell that lost its format."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text_value = code(value)
    if text_value in BLANKS:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not float(value).is_integer() or len(text_value) != 8:
            if 1 <= value < 2_958_466:  # an Excel date that lost its date format
                return from_excel(value).date()
            raise RuleViolation(_("Not a date: write it as 2024-03-05."))
    match = _DATE_TEXT.fullmatch(text_value) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text_value)
    if match is None:
        raise RuleViolation(_("Not a date: write it as 2024-03-05."))
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise RuleViolation(_("There is no such date.")) from None
