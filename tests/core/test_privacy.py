"""Masking personal data: ID numbers, phones and bank accounts, and who sees them in full."""

from __future__ import annotations

import pytest
from flask import Flask

from resettle.auth.models import Role, User
from resettle.privacy import (
    PII_FIELDS,
    audit_pii_value,
    mask_bank_account,
    mask_field,
    mask_phone,
    pii_matches,
    sees_full_personal_data,
    shown_audit_value,
)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138 **** 1234"),
        ("１３８１２３４１２３４", "138****1234"),  # full-width digits, as typed on some phones
        ("+8613812341234", "+86138****1234"),
        ("0571-8888888", "057*-***8888"),
        ("0571-87654321转8001", "057*-********转8001"),
        ("8888888", "***8888"),
        ("87654321", "****4321"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_phones_keep_the_first_three_and_last_four_digits_where_that_hides_enough(
    phone: str | None, masked: str
) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("account", "masked"),
    [
        ("6222021234567890123", "***************0123"),
        ("6222 0212 3456 7890", "**** **** **** 7890"),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_bank_accounts_keep_the_last_four(account: str, masked: str) -> None:
    assert mask_bank_account(account) == masked


@pytest.mark.parametrize(
    "value", ["13812341234", "0571-8888888", "11010519491231002X", "6222021234567890123"]
)
def test_masking_a_masked_value_changes_nothing(value: str) -> None:
    for field in ("phone", "head_id_number", "bank_account"):
        once = mask_field(field, value)
        assert mask_field(field, once) == once


def test_pii_fields_name_ids_phones_and_accounts() -> None:
    assert mask_field("head_id_number", "11010519491231002X") == "110105********002X"
    assert mask_field("id_number", "11010519491231002X") == "110105********002X"
    assert mask_field("phone", "13812341234") == "138****1234"
    assert mask_field("house_address", "解放路1号") == "解放路1号"
    assert {"head_id_number", "id_number", "phone", "bank_account"} <= set(PII_FIELDS)


@pytest.mark.parametrize(
    ("role", "full"),
    [(Role.ADMIN, True), (Role.CASEWORKER, True), (Role.SUPERVISOR, False), (Role.LEADER, False)],
)
def test_only_the_roles_that_edit_households_see_personal_data_in_full(
    role: Role, full: bool
) -> None:
    assert sees_full_personal_data(User(role=role)) is full


def test_every_role_but_the_editors_is_masked() -> None:
    """A role added later is masked until someone decides otherwise."""
    full = {role for role in Role if sees_full_personal_data(User(role=role))}
    assert full == {Role.ADMIN, Role.CASEWORKER}
    assert sees_full_personal_data(None) is False


def test_the_audit_value_is_masked_with_a_keyed_hash(app: Flask) -> None:
    stored = audit_pii_value("head_id_number", "11010519491231002X")
    assert stored["masked"] == "110105********002X"
    assert "11010519491231002X" not in str(stored)
    assert stored == audit_pii_value("head_id_number", "11010519491231002X")
    assert stored["hmac"] != audit_pii_value("head_id_number", "110101199003074477")["hmac"]
    assert pii_matches("11010519491231002X", stored)
    assert not pii_matches("110101199003074477", stored)
    assert shown_audit_value("head_id_number", stored) == "110105********002X"
    # Rows written before masking at write time held the plain value: shown masked.
    assert shown_audit_value("phone", "13812341234") == "138****1234"
    assert audit_pii_value("house_address", "解放路1号") == "解放路1号"
    assert audit_pii_value("phone", None) is None


def test_the_keyed_hash_depends_on_the_key(app: Flask) -> None:
    first = audit_pii_value("phone", "13812341234")["hmac"]
    app.config["AUDIT_PII_KEY"] = "another key"
    try:
        assert audit_pii_value("phone", "13812341234")["hmac"] != first
    finally:
        del app.config["AUDIT_PII_KEY"]
