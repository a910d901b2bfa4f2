"""The shape rules every household entry passes (form, import): here the phone number."""

from decimal import Decimal

import pytest

from resettle.errors import RuleViolation
from resettle.households.services import HouseholdData, validate_household_data
from tests.conftest import VALID_IDS


def _data(phone: str) -> HouseholdData:
    return HouseholdData(
        head_name="赵六",
        head_id_number=VALID_IDS[0],
        house_address="东城区解放路8号",
        legal_area=Decimal("85.32"),
        phone=phone,
    )


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("13800138000", "13800138000"),
        (" 138 0013 8000 ", "138 0013 8000"),
        ("0571-87654321", "0571-87654321"),
        ("(0571) 8765 4321转8001", "(0571) 8765 4321转8001"),
        ("+86 13800138000", "+86 13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese keyboard
        ("", None),
    ],
)
def test_phone_numbers_as_people_write_them_are_kept(typed, kept):
    assert validate_household_data(_data(typed)).phone == kept


@pytest.mark.parametrize("typed", ["abc", "张三", "' OR 1=1--", "123456", "1" * 21, "138-abc-0000"])
def test_anything_else_is_refused_on_the_phone_field(typed):
    with pytest.raises(RuleViolation) as refused:
        validate_household_data(_data(typed))
    assert refused.value.field == "phone" and "电话号码" in refused.value.message
