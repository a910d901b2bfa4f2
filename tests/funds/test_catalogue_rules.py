"""The catalogue through the services: price lists that belong to the rule version, tier and
list text refused with a message, the household's new inputs, free lines with a reason, and
先补偿、后搬迁 counting the new lines that compensate the house."""

import json
from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import BusinessLossMethod, PaymentKind, RulePriceItem
from resettle.funds.services import (
    RuleData,
    add_adjustment,
    create_rule_version,
    due_before_moving,
    fund_plan,
    household_money,
    remove_adjustment,
    renew_rule_for_new_terms,
)
from resettle.households.models import (
    CaseStep,
    CompensationMode,
    Household,
    HouseholdAdjustment,
    HouseholdFixture,
    Stage,
)
from resettle.households.services import (
    HouseholdData,
    record_payment,
    record_step,
    update_household,
)
from tests.funds.test_funds import RULE

PRICE_LIST = "电表移装,块,200\n水表移装,块,150\n空调移装,台,300\n宽带移装,户,100"
AS_OF = date(2025, 12, 1)


def _rule(project, **overrides):
    data = RuleData(effective_from=date(2025, 3, 1), **{**RULE, **overrides})
    return create_rule_version(db.session, project, data)


def _items(rule):
    return [(i.name, i.unit, i.price) for i in rule.price_items]


def _lines(household):
    return {line.key: line for line in household_money(db.session, household, as_of=AS_OF).lines}


def _sign(household, on=date(2025, 5, 10)):
    household.steps.append(CaseStep(stage=Stage.APPRAISED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    record_step(db.session, household, Stage.SIGNED, on, operator=None, today=AS_OF)


def _data(household, **changes):
    values = {
        name: getattr(household, name)
        for name in (
            "head_name",
            "head_id_number",
            "house_address",
            "legal_area",
            "phone",
            "unregistered_area",
            "house_use",
            "appraisal_unit_price",
            "appraisal_value",
            "decoration_value",
            "business_area",
            "lawful_unregistered_area",
            "hardship",
            "compensation_mode",
            "entitled_area",
        )
    }
    return HouseholdData(**{**values, **changes})


def _update(household, **changes):
    return update_household(
        db.session,
        household,
        _data(household, **changes),
        expected_version=household.version_id,
        loaded_at=household.updated_at,
    )


def test_a_new_version_copies_the_previous_price_list_unless_given_one(make_project):
    project = make_project()
    first = _rule(project, price_list=PRICE_LIST)
    assert _items(first) == [
        ("电表移装", "块", D("200.00")),
        ("水表移装", "块", D("150.00")),
        ("空调移装", "台", D("300.00")),
        ("宽带移装", "户", D("100.00")),
    ]
    second = _rule(project)  # no list given: the previous one goes on
    assert _items(second) == _items(first)
    assert {i.id for i in second.price_items}.isdisjoint({i.id for i in first.price_items})
    third = _rule(project, price_list="空调移装,台,350\n燃气移装，户，800")
    assert _items(third) == [("空调移装", "台", D("350.00")), ("燃气移装", "户", D("800.00"))]
    assert _items(first)[2] == ("空调移装", "台", D("300.00"))  # the old version keeps its own
    # the signing window changes: the new version carries the list of the one in force
    project.signing_end = date(2025, 8, 31)
    renewed = renew_rule_for_new_terms(db.session, project, on=date(2025, 7, 1))
    assert _items(renewed) == _items(third)


def test_a_price_item_name_is_unique_within_a_version_in_the_database(make_project):
    rule = _rule(make_project(), price_list="空调移装,台,300")
    db.session.add(RulePriceItem(rule_id=rule.id, name="空调移装", unit="台", price=D("1")))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()


@pytest.mark.parametrize(
    "text, line",
    [
        ("空调移装,台", 1),
        ("空调移装,台,300\n电表移装,块,-5", 2),
        ("空调移装,台,300\n\n,块,5", 3),
        ("空调移装,台,三百", 1),
        ("空调移装,台,300\n空调移装,台,400", 2),
    ],
)
def test_a_bad_price_list_is_refused_naming_its_line(make_project, text, line):
    with pytest.raises(RuleViolation) as refused:
        _rule(make_project(), price_list=text)
    assert refused.value.field == "price_list"
    assert f"第 {line} 行" in refused.value.message


@pytest.mark.parametrize("field", ["signing_reward_tiers", "moving_bonus_tiers"])
@pytest.mark.parametrize("text", ["2025-13-01:100", "soon:100", "2025-03-31:-1", "2025-03-31"])
def test_bad_tier_text_is_refused_with_a_message(make_project, field, text):
    with pytest.raises(RuleViolation) as refused:
        _rule(make_project(), **{field: text})
    assert refused.value.field == field
    assert "2025-03-31:30000,2025-04-30:20000" in refused.value.message
    assert "日期:金额" in refused.value.message


def test_tiers_are_stored_normalised(make_project):
    rule = _rule(make_project(), signing_reward_tiers="2025-04-30:20000， 2025-03-31：30000")
    assert rule.signing_reward_tiers == "2025-03-31:30000.00,2025-04-30:20000.00"


def test_business_loss_terms_are_checked_for_the_method(make_project):
    project = make_project()
    with pytest.raises(RuleViolation) as refused:
        _rule(project, business_loss_method="share")
    assert refused.value.field == "business_loss_percent"
    with pytest.raises(RuleViolation) as refused:
        _rule(project, business_loss_method="monthly", business_loss_per_m2_month=D("20"))
    assert refused.value.field == "business_loss_months"
    rule = _rule(
        project,
        business_loss_method="share",
        business_loss_percent=D("5"),
        business_loss_months=6,  # not this method's: dropped
    )
    assert rule.business_loss_method == BusinessLossMethod.SHARE
    assert (rule.business_loss_percent, rule.business_loss_months) == (D("5.00"), None)


@pytest.mark.parametrize(
    "terms, amount, formula",
    [
        (
            {"business_loss_method": "share", "business_loss_percent": D("5")},
            D("42660.00"),
            "853,200.00 元 × 5% = 42,660.00 元",
        ),
        (
            {
                "business_loss_method": "monthly",
                "business_loss_months": 6,
                "business_loss_per_m2_month": D("20"),
            },
            D("4830.00"),
            "40.25 m² × 20.00 元/m²/月 × 6 个月 = 4,830.00 元",
        ),
    ],
)
def test_a_shop_gets_business_loss_by_either_method(
    app, make_project, make_household, terms, amount, formula
):
    project = make_project()
    _rule(project, **terms)
    shop = make_household(
        project=project,
        house_use="非住宅",
        business_area=D("40.25"),
        appraisal_unit_price=D("10000"),
        appraisal_value=D("853200"),
    )
    with app.test_request_context():
        line = _lines(shop)["business_loss"]
    assert (line.amount, line.formula) == (amount, formula)


def test_the_area_found_lawful_cannot_exceed_the_unregistered_area(make_project, make_household):
    project = make_project()
    _rule(project, lawful_unregistered_per_m2=D("1500"))
    household = make_household(project=project, unregistered_area=D("10.00"))
    with pytest.raises(RuleViolation) as refused:
        _update(household, lawful_unregistered_area=D("10.01"))
    assert refused.value.field == "lawful_unregistered_area"
    _update(household, lawful_unregistered_area=D("10.00"))
    assert _lines(household)["unregistered_lawful"].amount == D("15000.00")
    # and the database refuses it whatever writes it
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.update(Household)
            .where(Household.id == household.id)
            .values(unregistered_area=D("5"))
        )


def test_a_signed_household_keeps_its_versions_prices_after_a_new_version(
    make_project, make_household
):
    project = make_project(signing_start=date(2025, 3, 20), signing_end=date(2025, 6, 30))
    first = _rule(project, price_list=PRICE_LIST)
    signed = make_household(
        project=project,
        stage=Stage.APPRAISED,
        appraisal_value=D("853200"),
        compensation_mode=CompensationMode.MONEY,
    )
    _sign(signed)
    assert signed.rule_id == first.id
    _update(signed, fixtures={"空调移装": D("3"), "电表移装": D("1")})
    assert [(f.name, f.quantity) for f in signed.fixtures] == [
        ("空调移装", D("3.00")),
        ("电表移装", D("1.00")),
    ]
    create_rule_version(
        db.session,
        project,
        RuleData(
            effective_from=date(2025, 9, 1),
            **RULE,
            price_list="电表移装,块,260\n空调移装,台,450",
        ),
    )
    lines = _lines(signed)
    assert lines["fixture:空调移装"].amount == D("900.00")  # 3 × 300, not × 450
    assert lines["fixture:电表移装"].amount == D("200.00")
    # a household that has not signed is estimated under the version in force: 3 × 450
    other = make_household(project=project, appraisal_value=D("500000"))
    _update(other, fixtures={"空调移装": D("3")})
    assert _lines(other)["fixture:空调移装"].amount == D("1350.00")
    # an item no list of the household's version has is refused; zero removes a count
    with pytest.raises(RuleViolation) as refused:
        _update(signed, fixtures={"游泳池": D("1")})
    assert refused.value.field == "fixtures" and "游泳池" in refused.value.message
    _update(signed, fixtures={"空调移装": D("0"), "电表移装": D("2")})
    assert [(f.name, f.quantity) for f in signed.fixtures] == [("电表移装", D("2.00"))]
    removed = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "HouseholdFixture", AuditEvent.action == "delete"
        )
    )
    assert removed is not None and removed.changes["name"][0] == "空调移装"
    db.session.add(HouseholdFixture(household_id=signed.id, name="水表移装", quantity=D("0")))
    with pytest.raises(sa.exc.IntegrityError):  # quantity > 0 in the database
        db.session.flush()


def test_a_free_line_needs_a_reason_and_an_amount_and_is_audited(
    make_project, make_household, make_user
):
    project = make_project()
    _rule(project)
    household = make_household(project=project, appraisal_value=D("600000"))
    caseworker = make_user()
    with pytest.raises(RuleViolation) as refused:
        add_adjustment(
            db.session, household, label="果树", amount=D("100"), reason="  ", user=caseworker
        )
    assert refused.value.field == "reason"
    with pytest.raises(RuleViolation) as refused:
        add_adjustment(
            db.session, household, label="果树", amount=D("0"), reason="会议决定", user=caseworker
        )
    assert refused.value.field == "amount"
    assert household.adjustments == []
    paid = add_adjustment(
        db.session,
        household,
        label="院内果树补偿",
        amount=D("2400"),
        reason="经征收办会议研究决定",
        user=caseworker,
    )
    deducted = add_adjustment(
        db.session, household, label="", amount=D("-1500"), reason="已预领搬迁费", user=caseworker
    )
    assert deducted.label == "其他扣减" and deducted.added_by_id == caseworker.id
    lines = _lines(household)
    assert lines[f"adjustment:{paid.id}"].formula == "经征收办会议研究决定 = 2,400.00 元"
    assert lines[f"adjustment:{deducted.id}"].amount == D("-1500.00")
    assert household_money(db.session, household, as_of=AS_OF).total == D("602179.80")
    remove_adjustment(db.session, paid)
    assert db.session.get(HouseholdAdjustment, paid.id) is None
    actions = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.changes).where(
            AuditEvent.entity_type == "HouseholdAdjustment", AuditEvent.entity_id == paid.id
        )
    ).all()
    assert [a for a, _c in actions] == ["insert", "delete"]
    assert "经征收办会议研究决定" in json.dumps(actions[0][1], ensure_ascii=False)
    db.session.add(
        HouseholdAdjustment(household_id=household.id, label="x", amount=D("0"), reason="r")
    )
    with pytest.raises(sa.exc.IntegrityError):  # not zero in the database
        db.session.flush()


def test_vacating_needs_the_new_house_lines_paid_but_not_the_moving_bonus(
    make_project, make_household
):
    project = make_project(signing_start=date(2025, 3, 20), signing_end=date(2025, 6, 30))
    _rule(
        project,
        price_list=PRICE_LIST,
        hardship_subsidy=D("5000"),
        lawful_unregistered_per_m2=D("1000"),
        signing_reward_tiers="2025-05-31:20000",
        moving_bonus_tiers="2025-12-31:10000",
    )
    household = make_household(
        project=project,
        stage=Stage.APPRAISED,
        appraisal_value=D("600000"),
        decoration_value=D("30000"),
        unregistered_area=D("10"),
        lawful_unregistered_area=D("8"),
        hardship="低保",
        compensation_mode=CompensationMode.MONEY,
    )
    _sign(household, on=date(2025, 5, 10))
    _update(household, fixtures={"空调移装": D("2")})
    add_adjustment(db.session, household, label="果树", amount=D("1200"), reason="会议", user=None)
    owed = due_before_moving(db.session, household, by=date(2025, 6, 1))
    # value 600,000 + decoration 30,000 + 2 × 300 + 8 × 1,000 + hardship 5,000 + moving
    # 85.32 × 15 = 1,279.80 + signing reward 20,000 + free line 1,200 (no moving bonus)
    assert owed.due == D("666079.80")

    def pay(kind, amount, voucher):
        record_payment(
            db.session,
            household,
            kind=kind,
            amount=amount,
            paid_on=date(2025, 5, 20),
            voucher_number=voucher,
            payee="张三",
            operator=None,
            today=AS_OF,
        )

    pay(PaymentKind.COMPENSATION, D("600000"), "V1")
    pay(PaymentKind.MOVING_ALLOWANCE, D("1279.80"), "V2")
    pay(PaymentKind.BONUS, D("20000"), "V3")
    with pytest.raises(RuleViolation, match="44,800.00"):  # the house items still unpaid
        record_step(
            db.session, household, Stage.VACATED, date(2025, 6, 1), operator=None, today=AS_OF
        )
    pay(PaymentKind.COMPENSATION, D("44800"), "V4")  # the items of the house, as compensation
    record_step(db.session, household, Stage.VACATED, date(2025, 6, 1), operator=None, today=AS_OF)
    money = household_money(db.session, household, as_of=AS_OF)
    bonus = next(line for line in money.lines if line.key == "moving_bonus")
    assert bonus.amount == D("10000.00")
    assert money.outstanding == D("10000.00")  # the moving bonus, earned by vacating
    plan = fund_plan(db.session, project, today=AS_OF)
    assert {row.month: row.planned for row in plan.months}["2025-06"] >= D("10000.00")
