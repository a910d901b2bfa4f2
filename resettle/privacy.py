"""Personal data: who sees it in full, and how it is masked everywhere else.

This is the one home of both rules. ADMIN and CASEWORKER accounts edit households and work with
full ID numbers, phones and bank accounts; every other role (supervisor, leader, and any role
added later) sees them masked, on every page, history panel, audit page, export and PDF.
`PII_FIELDS` names the columns that hold such values, by field name, so that code handling
columns generically (the audit trail, exports) masks them without knowing the models.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from typing import Any

from resettle.idnumbers import mask_id_number

#: Separators inside names (买买提·艾力, 玛丽·居里): kept as they are, never counted or masked.
NAME_SEPARATORS = "·•‧・.．"

MASK = "*"


def sees_full_personal_data(user: Any) -> bool:
    """Whether `user` may see full ID numbers, phones and bank accounts: the roles that edit
    households (admins and caseworkers). Every other role, present or future, sees them masked."""
    from resettle.auth.models import Role

    return getattr(user, "role", None) in (Role.ADMIN, Role.CASEWORKER)


def mask_name(name: str | None) -> str:
    """A masked name (DOMAIN.md): 张三 → 张*, 王小明 → 王*明, 欧阳娜娜 → 欧**娜,
    买买提·艾力 → 买**·*力: the first and last characters stay, separators stay, the rest is *."""
    name = "".join((name or "").split())
    letters = [i for i, ch in enumerate(name) if ch not in NAME_SEPARATORS]
    if len(letters) <= 1:
        return "".join(ch if ch in NAME_SEPARATORS else "*" for ch in name)
    keep = {letters[0]} if len(letters) == 2 else {letters[0], letters[-1]}
    return "".join(ch if (i in keep or ch in NAME_SEPARATORS) else "*" for i, ch in enumerate(name))


def _mask_positions(text: str, is_position: Callable[[str], bool], first: int, last: int) -> str:
    """`text` with every position (a character `is_position` accepts, or an asterisk already
    there) masked except the first `first` and last `last`; other characters (dashes, spaces,
    转) stay. An asterisk counts as a position, so masking a masked value changes nothing."""
    positions = [i for i, ch in enumerate(text) if ch == MASK or is_position(ch)]
    keep = set(positions[:first]) | set(positions[len(positions) - last :] if last else ())
    shown = set(positions) - keep
    return "".join(MASK if i in shown else ch for i, ch in enumerate(text))


def mask_phone(phone: str | None) -> str:
    """A masked phone number: 13812341234 → 138****1234, the first 3 and last 4 digits stay
    when at least 4 digits are hidden (11 digits or more: 0571-8888888 → 057*-***8888); a
    shorter number keeps only its last 4 (8888888 → ***8888), one of 6 digits or fewer nothing.
    A country prefix (+86, 0086) stays as written and is not counted."""
    text = unicodedata.normalize("NFKC", phone or "").strip()
    if not text:
        return ""
    prefix = ""
    for country in ("+86", "0086"):
        if text.startswith(country) and len(text) > len(country) + 6:
            prefix, text = country, text[len(country) :]
            break
    digits = sum(1 for ch in text if ch == MASK or ch.isdigit())
    if digits <= 6:
        return prefix + _mask_positions(text, str.isdigit, 0, 0)
    first = 3 if digits >= 11 else 0
    return prefix + _mask_positions(text, str.isdigit, first, 4)


def mask_bank_account(account: str | None) -> str:
    """A masked bank account or card number: only the last 4 characters stay
    (6222 0212 3456 7890 → **** **** **** 7890); 8 characters or fewer are masked whole."""
    text = unicodedata.normalize("NFKC", account or "").strip()
    if not text:
        return ""
    positions = sum(1 for ch in text if ch == MASK or ch.isalnum())
    return _mask_positions(text, str.isalnum, 0, 4 if positions > 8 else 0)


#: Columns (by field name, on any record) that hold personal data shown in full only to the
#: roles of `sees_full_personal_data`, with the mask each gets. The audit trail stores these
#: masked (see `audit_pii_value`); a new such column is added here and nowhere else.
PII_FIELDS: dict[str, Callable[[str | None], str]] = {
    "head_id_number": mask_id_number,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
    "account_number": mask_bank_account,
}


def is_pii_field(field: str) -> bool:
    return field in PII_FIELDS


def mask_field(field: str, value: Any) -> Any:
    """`value` of column `field` masked when the field holds personal data, else unchanged."""
    mask = PII_FIELDS.get(field)
    if mask is None or value is None or not isinstance(value, str):
        return value
    return mask(value)


def shown_field(user: Any, field: str, value: Any) -> Any:
    """`value` of column `field` as `user` may see it (full for editors, masked otherwise)."""
    return value if sees_full_personal_data(user) else mask_field(field, value)


def personal(field: str, value: Any) -> Any:
    """Template helper: `value` of column `field` as the logged-in account may see it."""
    from flask_login import current_user

    return shown_field(current_user, field, value)


def _digest_key() -> bytes:
    """The key of the audit trail's keyed hashes: AUDIT_PII_KEY when set, else one derived
    from SECRET_KEY; both live in the configuration, never in the database."""
    from flask import current_app

    secret = current_app.config.get("AUDIT_PII_KEY") or current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, b"resettle audit personal data v1", hashlib.sha256).digest()


def pii_digest(value: str) -> str:
    """A keyed hash (HMAC-SHA256, 128 bits shown) of a full value: equal values give equal
    hashes, and without the key nobody can try the few billion possible ID numbers against it."""
    return hmac.new(_digest_key(), value.encode(), hashlib.sha256).hexdigest()[:32]


def audit_pii_value(field: str, value: Any) -> Any:
    """What the audit trail stores for a value of a personal-data column: the masked value and
    the keyed hash of the full one ({"masked": ..., "hmac": ...}), so that a row tells who
    changed the number and whether it changed, but holds no full number. Other columns, and
    None, pass unchanged."""
    if value is None or not isinstance(value, str) or field not in PII_FIELDS:
        return value
    return {"masked": PII_FIELDS[field](value), "hmac": pii_digest(value)}


def pii_matches(candidate: str, stored: Any) -> bool:
    """Whether `candidate` is the full value behind an audit trail's stored value (an editor
    asking "was the old number this one?")."""
    if not isinstance(stored, dict) or "hmac" not in stored:
        return False
    return hmac.compare_digest(pii_digest(candidate), stored["hmac"])


def shown_audit_value(field: str, value: Any) -> Any:
    """A stored audit value of a personal-data column as anyone reads it: masked (rows written
    before masking at write time held plain values; these are masked when shown)."""
    if isinstance(value, dict) and "masked" in value:
        return value["masked"]
    return mask_field(field, value)
