"""The stage service: every guard of DOMAIN.md refuses with a clear message and changes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from resettle.audit.models import AuditEvent
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import PaymentKind
from resettle.households.models import CompensationMode, Stage
from resettle.households.services import (
    next_stage,
    record_payment,
    record_step,
    undo_last_step,
)
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus

TODAY = date(2026, 11, 20)
D = date(2026, 3, 2)


def _day(n: int) -> date:
    return D + timedelta(days=n)


@pytest.fixture
def household(make_household, make_user):
    h = make_household(stage=Stage.SURVEYED)
    from resettle.households.models import CaseStep

    h.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=D))
    db.session.flush()
    return h


def _advance_to_signed(h, mode=CompensationMode.SWAP):
    h.appraisal_unit_price = Decimal("10000.00")
    h.appraisal_value = Decimal("853200.00")
    record_step(db.session, h, Stage.APPRAISED, _day(10), operator=None, today=TODAY)
    h.compensation_mode = mode
    record_step(db.session, h, Stage.SIGNED, _day(20), operator=None, today=TODAY)


def _pay(h, paid_on, voucher="PZ-1"):
    return record_payment(
        db.session,
        h,
        kind=PaymentKind.COMPENSATION,
        amount=Decimal("853200"),
        paid_on=paid_on,
        voucher_number=voucher,
        payee="",
        operator=None,
        today=TODAY,
    )


def _unchanged(h, stage):
    db.session.refresh(h)
    assert h.stage == stage


def test_no_appraisal_without_appraised_values(household):
    with pytest.raises(RuleViolation, match="评估单价"):
        record_step(db.session, household, Stage.APPRAISED, _day(5), operator=None, today=TODAY)
    _unchanged(household, Stage.SURVEYED)


def test_no_signing_without_compensation_mode(household):
    household.appraisal_unit_price = Decimal("1")
    household.appraisal_value = Decimal("1")
    record_step(db.session, household, Stage.APPRAISED, _day(5), operator=None, today=TODAY)
    with pytest.raises(RuleViolation, match="补偿方式"):
        record_step(db.session, household, Stage.SIGNED, _day(6), operator=None, today=TODAY)
    assert household.stage == Stage.APPRAISED


def test_compensate_first_then_move(household):
    _advance_to_signed(household)
    with pytest.raises(RuleViolation, match="先补偿、后搬迁"):
        record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)
    _pay(household, _day(31))
    # paid after the vacating date: still refused
    with pytest.raises(RuleViolation, match="先补偿、后搬迁"):
        record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)
    record_step(db.session, household, Stage.VACATED, _day(31), operator=None, today=TODAY)
    assert household.stage == Stage.VACATED


def test_vacating_needs_everything_due_before_moving_paid_not_a_token(household):
    """A 1.00-yuan payment is not compensation: the house's value, the moving allowance and the
    signing bonus (under the rules the household signed under) are due before it moves out."""
    from resettle.db import money
    from resettle.i18n import format_money
    from tests.funds import add_rules

    household.project.signing_start, household.project.signing_end = D, _day(60)
    add_rules(household.project, signing_bonus=Decimal("20000"))
    _advance_to_signed(household, CompensationMode.MONEY)
    moving = money(household.legal_area * 15)
    due = Decimal("853200.00") + moving + Decimal("20000.00")
    record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=Decimal("1.00"),
        paid_on=_day(21),
        voucher_number="PZ-TOKEN",
        payee="",
        operator=None,
        today=TODAY,
    )
    with pytest.raises(RuleViolation) as refused:
        record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)
    assert format_money(due) in refused.value.message
    assert format_money(due - Decimal("1.00")) in refused.value.message
    _unchanged(household, Stage.SIGNED)
    for kind, amount, voucher in (
        (PaymentKind.COMPENSATION, Decimal("853199.00"), "PZ-2"),
        (PaymentKind.MOVING_ALLOWANCE, moving, "PZ-3"),
    ):
        record_payment(
            db.session,
            household,
            kind=kind,
            amount=amount,
            paid_on=_day(22),
            voucher_number=voucher,
            payee="",
            operator=None,
            today=TODAY,
        )
    with pytest.raises(RuleViolation, match="20,000.00"):  # the bonus is still unpaid
        record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)
    record_payment(
        db.session,
        household,
        kind=PaymentKind.BONUS,
        amount=Decimal("20000.00"),
        paid_on=_day(23),
        voucher_number="PZ-4",
        payee="",
        operator=None,
        today=TODAY,
    )
    record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)
    assert household.stage == Stage.VACATED


def test_reversed_payment_does_not_count(household):
    _advance_to_signed(household)
    payment = _pay(household, _day(25))
    payment.reversed_at = payment.recorded_at
    payment.reversal_reason = "凭证有误"
    db.session.flush()
    with pytest.raises(RuleViolation, match="先补偿、后搬迁"):
        record_step(db.session, household, Stage.VACATED, _day(30), operator=None, today=TODAY)


def test_out_of_order_step_names_what_is_missing(household):
    with pytest.raises(RuleViolation) as excinfo:
        record_step(db.session, household, Stage.SELECTED, _day(5), operator=None, today=TODAY)
    assert "还不能登记“选房”" in excinfo.value.message and "评估" in excinfo.value.message
    _unchanged(household, Stage.SURVEYED)


def test_no_selection_before_vacating(household):
    _advance_to_signed(household)
    with pytest.raises(RuleViolation, match="腾空交房"):
        record_step(db.session, household, Stage.SELECTED, _day(40), operator=None, today=TODAY)


def test_future_date_refused(household):
    household.appraisal_unit_price = Decimal("1")
    household.appraisal_value = Decimal("1")
    with pytest.raises(RuleViolation, match="不能晚于今天"):
        record_step(
            db.session,
            household,
            Stage.APPRAISED,
            TODAY + timedelta(days=1),
            operator=None,
            today=TODAY,
        )
    _unchanged(household, Stage.SURVEYED)


def test_date_before_previous_step_refused(household):
    household.appraisal_unit_price = Decimal("1")
    household.appraisal_value = Decimal("1")
    with pytest.raises(RuleViolation, match="不能早于上一环节（2026-03-02）"):
        record_step(db.session, household, Stage.APPRAISED, _day(-1), operator=None, today=TODAY)


def test_money_only_household_skips_selection_and_handover(household):
    _advance_to_signed(household, CompensationMode.MONEY)
    _pay(household, _day(21))
    record_step(db.session, household, Stage.VACATED, _day(22), operator=None, today=TODAY)
    record_step(db.session, household, Stage.DEMOLISHED, _day(23), operator=None, today=TODAY)
    assert next_stage(household) == Stage.SETTLED
    with pytest.raises(RuleViolation, match="货币补偿户不参与选房"):
        record_step(db.session, household, Stage.SELECTED, _day(24), operator=None, today=TODAY)
    record_step(db.session, household, Stage.SETTLED, _day(24), operator=None, today=TODAY)
    record_step(db.session, household, Stage.CLOSED, _day(25), operator=None, today=TODAY)
    assert next_stage(household) is None
    with pytest.raises(RuleViolation, match="“结案”已登记"):
        record_step(db.session, household, Stage.CLOSED, _day(26), operator=None, today=TODAY)


def _site_unit(complete: bool) -> Unit:
    site = ResettlementSite(name=f"测试苑{complete}")
    building = Building(site=site, name="1#楼", floors=10, complete=complete)
    unit = Unit(building=building, entrance="1", floor=3, number="301", area=Decimal("89.96"))
    db.session.add_all([site, building, unit])
    db.session.flush()
    return unit


def _to_demolished(h):
    _advance_to_signed(h)
    _pay(h, _day(21))
    record_step(db.session, h, Stage.VACATED, _day(22), operator=None, today=TODAY)
    record_step(db.session, h, Stage.DEMOLISHED, _day(23), operator=None, today=TODAY)


def test_selection_needs_an_allocated_flat_and_handover_a_complete_one(household):
    _to_demolished(household)
    with pytest.raises(RuleViolation, match="分配房源"):
        record_step(db.session, household, Stage.SELECTED, _day(30), operator=None, today=TODAY)
    unit = _site_unit(complete=False)
    unit.household = household
    unit.status = UnitStatus.ALLOCATED
    db.session.flush()
    db.session.refresh(household)
    record_step(db.session, household, Stage.SELECTED, _day(30), operator=None, today=TODAY)
    with pytest.raises(RuleViolation, match="尚未竣工，不能交付"):
        record_step(db.session, household, Stage.HANDED_OVER, _day(40), operator=None, today=TODAY)
    assert unit.status == UnitStatus.ALLOCATED
    unit.building.complete = True
    record_step(db.session, household, Stage.HANDED_OVER, _day(40), operator=None, today=TODAY)
    assert unit.status == UnitStatus.HANDED_OVER


def test_undo_needs_a_reason_and_is_audited(household, make_user):
    supervisor = make_user("supervisor")
    household.appraisal_unit_price = Decimal("1")
    household.appraisal_value = Decimal("1")
    record_step(db.session, household, Stage.APPRAISED, _day(5), operator=None, today=TODAY)
    with pytest.raises(RuleViolation, match="原因"):
        undo_last_step(db.session, household, reason="  ", user=supervisor)
    assert household.stage == Stage.APPRAISED
    undone = undo_last_step(db.session, household, reason="评估日期录错", user=supervisor)
    assert undone == Stage.APPRAISED and household.stage == Stage.SURVEYED
    assert [s.stage for s in household.steps] == [Stage.SURVEYED]
    event = db.session.query(AuditEvent).filter_by(action="undo_step", entity_id=household.id).one()
    assert event.changes["reason"] == "评估日期录错"


def test_undo_of_selection_frees_the_flat(household, make_user):
    _to_demolished(household)
    unit = _site_unit(complete=True)
    unit.household = household
    unit.status = UnitStatus.ALLOCATED
    db.session.flush()
    db.session.refresh(household)
    record_step(db.session, household, Stage.SELECTED, _day(30), operator=None, today=TODAY)
    undo_last_step(db.session, household, reason="选错房", user=make_user("supervisor"))
    assert unit.household_id is None and unit.status == UnitStatus.AVAILABLE
    assert household.stage == Stage.DEMOLISHED


def test_survey_cannot_be_undone(household, make_user):
    with pytest.raises(RuleViolation, match="第一个环节"):
        undo_last_step(db.session, household, reason="x", user=make_user("supervisor"))


def test_payment_rules(household):
    with pytest.raises(RuleViolation, match="大于零"):
        record_payment(
            db.session,
            household,
            kind=PaymentKind.COMPENSATION,
            amount=Decimal("0"),
            paid_on=_day(1),
            voucher_number="A",
            payee="",
            operator=None,
            today=TODAY,
        )
    _pay(household, _day(1), voucher="V-9")
    with pytest.raises(RuleViolation, match="V-9"):
        _pay(household, _day(2), voucher="V-9")
