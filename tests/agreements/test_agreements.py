"""Agreements (补偿协议, issue 16): signing issues a numbered, archived, verifiable agreement with
every line, the total in capitals, the instalments and the moving deadline; its figures are
frozen (a rule change alters nothing, a reprint is byte-identical); a change is a supplementary
agreement; a swap household is paid net of the entitled area's price, and vacating waits for
every instalment the agreement says is due before moving."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from resettle.agreements.models import Agreement, AgreementKind
from resettle.agreements.services import (
    AgreementInput,
    agreement_pdf,
    draft_agreement_pdf,
    issue_agreement,
    issue_agreements,
    issue_supplement,
    parse_instalments,
)
from resettle.auth.models import Role
from resettle.documents.capitals import amount_in_capitals
from resettle.documents.models import DocumentSequence
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.funds.models import PaymentKind
from resettle.funds.services import RuleData, create_rule_version, household_money
from resettle.households.models import CompensationMode, Stage
from resettle.households.services import record_payment, record_step
from tests.funds import STANDARD_RULES, add_rules
from tests.supervision import TODAY, add_household, add_plan, add_project, msg

VALUE = Decimal("800000.00")


@pytest.fixture
def project():
    project = add_project(db.session, transition_months=24)
    add_plan(
        db.session,
        project=project,
        nodes=[
            {"name": "签约", "stage": Stage.SIGNED, "deadline": date(2025, 7, 15)},
            {"name": "腾空", "stage": Stage.VACATED, "deadline": date(2025, 8, 29)},
        ],
    )
    add_rules(project)
    return project


def _household(project, mode=CompensationMode.MONEY, **overrides):
    values = {"appraisal_value": VALUE, "legal_area": Decimal("80.00")}
    if mode != CompensationMode.MONEY:
        values["entitled_area"] = Decimal("90.00")
    return add_household(
        db.session, project, stage=Stage.APPRAISED, mode=mode, **{**values, **overrides}
    )


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "a.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_signing_issues_the_numbered_agreement_with_lines_capitals_and_deadlines(project, tmp_path):
    household = _household(project)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    assert household.stage == Stage.SIGNED
    signed = next(s for s in household.steps if s.stage == Stage.SIGNED)
    assert signed.actual_date == TODAY
    assert agreement.kind == AgreementKind.MONEY
    assert agreement.number == "东征货协〔2025〕1号"
    # 800,000.00 value + 80 m² × 15 moving = 801,200.00, all paid before moving
    assert agreement.total == Decimal("801200.00") == agreement.before_moving
    money = household_money(db.session, household, as_of=TODAY)
    assert [line["amount"] for line in agreement.figures["lines"]] == [
        str(line.amount) for line in money.lines
    ]
    assert agreement.figures["instalments"] == [
        {
            "n": 1,
            "amount": "801200.00",
            "amount_text": "801,200.00",
            "capitals": "捌拾万壹仟贰佰元整",
            "due_on": (TODAY + timedelta(days=15)).isoformat(),
            "due_text": "2025年7月3日",
        }
    ]
    assert agreement.figures["moving_deadline"] == "2025-08-29"  # the plan's, after the payment
    vacating = next(s for s in household.steps if s.stage == Stage.VACATED)
    assert vacating.deadline == date(2025, 8, 29)  # the household's own deadline from now on
    assert "id_number" not in agreement.figures  # the full ID is printed, never kept
    text = _text(agreement_pdf(agreement), tmp_path)
    for printed in (
        "货币补偿协议",
        "东征货协〔2025〕1号",
        household.head_name,
        household.head_id_number,
        "捌拾万壹仟贰佰元整",
        "801,200.00",
        "80.00 m² × 15.00",
        "2025年7月3日前",
        "2025年8月29日前搬迁完毕",
        "核验码",
        agreement.check_code,
    ):
        assert printed in text, printed


def test_no_date_in_the_agreement_is_before_the_day_it_is_issued(project):
    """The plan's vacating deadline has passed: the project's notice period after the
    payment is due (a paper agreement archived late counts from the day it is issued)."""
    household = _household(project)
    late = date(2025, 10, 9)
    agreement = issue_agreement(db.session, household, user=None, today=late)
    due = date.fromisoformat(agreement.figures["instalments"][0]["due_on"])
    moving = date.fromisoformat(agreement.figures["moving_deadline"])
    assert late <= due < moving
    assert moving == date(2025, 11, 7)  # 24 Oct + 10 working days


def test_a_reprint_is_byte_identical_and_the_amounts_survive_a_rule_change(project, app, tmp_path):
    household = _household(project)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    first = agreement_pdf(agreement)
    figures = dict(agreement.figures)
    create_rule_version(
        db.session,
        project,
        RuleData(
            effective_from=TODAY,
            **{**STANDARD_RULES, "moving_allowance_per_m2": Decimal("40")},
        ),
    )
    db.session.expire_all()
    agreement = db.session.get(Agreement, agreement.id)
    assert agreement_pdf(agreement) == first
    assert agreement.figures == figures
    # the household keeps the version it signed under: what it is owed is what it agreed
    assert household_money(db.session, agreement.household, as_of=TODAY).total == Decimal(
        "801200.00"
    )
    runner = app.test_cli_runner()
    out = str(tmp_path / "reprint-test.pdf")
    result = runner.invoke(args=["agreements", "reprint", "东征货协(2025)1", out])
    assert result.exit_code == 0, result.output
    with open(out, "rb") as printed:
        assert printed.read() == first


def test_one_agreement_per_household_and_a_change_is_a_supplement(project):
    household = _household(project)
    first = issue_agreement(db.session, household, user=None, today=TODAY)
    with pytest.raises(RuleViolation) as refused:
        issue_agreement(db.session, household, user=None, today=TODAY)
    assert first.number in refused.value.message
    with pytest.raises(RuleViolation):  # nothing changed: no supplement
        issue_supplement(
            db.session, household, AgreementInput(reason="复核"), user=None, today=TODAY
        )
    with pytest.raises(RuleViolation):  # a reason is needed
        issue_supplement(db.session, household, AgreementInput(), user=None, today=TODAY)
    household.appraisal_value = Decimal("810000.00")  # the appraisal was reviewed
    supplement = issue_supplement(
        db.session,
        household,
        AgreementInput(reason="评估复核后价值调整"),
        user=None,
        today=TODAY + timedelta(days=2),
    )
    assert supplement.kind == AgreementKind.SUPPLEMENT
    assert supplement.number == "东征补协〔2025〕1号" and supplement.amends_id == first.id
    assert supplement.figures["difference"] == "10000.00"
    assert supplement.figures["difference_capitals"] == "壹万元整"
    assert supplement.before_moving == Decimal("811200.00")
    db.session.refresh(first)
    assert first.total == Decimal("801200.00")  # the first agreement never changes
    # the database holds one agreement per household besides its supplements
    db.session.add(
        Agreement(
            kind=AgreementKind.MONEY,
            year=2025,
            sequence=99,
            number="x",
            check_code="X",
            household_id=household.id,
            document_id=first.document_id,
            signed_on=TODAY,
            total=1,
            before_moving=1,
            figures={},
        )
    )
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.flush()


def test_a_swap_household_is_paid_net_and_vacates_only_when_the_instalments_are_paid(project):
    household = _household(project, mode=CompensationMode.SWAP)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    assert agreement.kind == AgreementKind.SWAP
    # 801,200.00 less 90 m² × 3,000 of the entitled area = 531,200.00 before moving
    assert agreement.figures["swap"]["deduction"] == "270000.00"
    assert agreement.before_moving == Decimal("531200.00")
    record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=Decimal("531199.99"),
        paid_on=TODAY,
        voucher_number="PZ-1",
        payee=household.head_name,
        operator=None,
        today=TODAY,
    )
    with pytest.raises(RuleViolation) as refused:
        record_step(db.session, household, Stage.VACATED, TODAY, operator=None, today=TODAY)
    assert "0.01" in refused.value.message
    record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=Decimal("0.01"),
        paid_on=TODAY,
        voucher_number="PZ-2",
        payee=household.head_name,
        operator=None,
        today=TODAY,
    )
    record_step(db.session, household, Stage.VACATED, TODAY, operator=None, today=TODAY)
    assert household.stage == Stage.VACATED


def test_instalments_must_add_up_and_come_before_the_moving_deadline(project):
    household = _household(project)
    assert parse_instalments("500000, 2025-06-30\n301200，2025-07-15") == [
        (Decimal("500000.00"), date(2025, 6, 30)),
        (Decimal("301200.00"), date(2025, 7, 15)),
    ]
    with pytest.raises(RuleViolation):
        parse_instalments("五十万, 明天")
    cases = [
        AgreementInput(instalments=[(Decimal("500000"), date(2025, 6, 30))]),  # short
        AgreementInput(instalments=[(Decimal("801200"), date(2025, 6, 1))]),  # before signing
        AgreementInput(
            instalments=[(Decimal("801200"), date(2025, 7, 30))],
            moving_deadline=date(2025, 7, 20),  # moving before the payment
        ),
    ]
    for data in cases:
        with pytest.raises(RuleViolation):
            with db.session.begin_nested():
                issue_agreement(db.session, household, data, user=None, today=TODAY)
    agreement = issue_agreement(
        db.session,
        household,
        AgreementInput(
            instalments=[
                (Decimal("500000"), date(2025, 6, 30)),
                (Decimal("301200"), date(2025, 7, 15)),
            ]
        ),
        user=None,
        today=TODAY,
    )
    assert [i["amount"] for i in agreement.figures["instalments"]] == ["500000.00", "301200.00"]
    assert agreement.figures["moving_deadline"] == "2025-08-29"


def test_a_draft_records_and_numbers_nothing(project, tmp_path):
    household = _household(project)
    pdf = draft_agreement_pdf(db.session, household, today=TODAY)
    assert "草稿" in _text(pdf, tmp_path)
    db.session.expire_all()
    assert household.stage == Stage.APPRAISED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Agreement)) == 0
    assert db.session.scalar(sa.select(sa.func.max(DocumentSequence.last_number))) in (None, 0)


def test_a_batch_is_one_document_numbered_consecutively(project):
    households = [_household(project) for _ in range(3)]
    agreements = issue_agreements(db.session, households, user=None, today=TODAY)
    assert [a.sequence for a in agreements] == [1, 2, 3]
    assert len({a.document_id for a in agreements}) == 1
    assert [a.first_page for a in agreements] == sorted({a.first_page for a in agreements})


def test_an_agreement_verifies_on_a_phone_however_its_number_is_typed(client, project):
    household = _household(project)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    typed = agreement.number.replace("〔", "(").replace("〕", ")").removesuffix("号")
    page = client.get(
        "/public/verify", query_string={"number": typed, "code": agreement.check_code.lower()}
    ).get_data(as_text=True)
    assert msg("Genuine agreement") in page and "货币补偿协议" in page
    assert household.head_name not in page  # masked
    wrong = client.get(
        "/public/verify", query_string={"number": agreement.number, "code": "ABCDEFGH"}
    ).get_data(as_text=True)
    assert msg("Genuine agreement") not in wrong and "货币补偿协议" not in wrong


def test_a_caseworker_signs_from_the_household_page_and_another_project_sees_nothing(
    client, login_as, project
):
    household = _household(project)
    login_as(Role.CASEWORKER, projects=[project])
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "agreement-issue" in page
    answer = client.post(f"/agreements/household/{household.id}/issue", data={})
    assert answer.status_code == 302
    agreement = db.session.scalar(
        sa.select(Agreement).where(Agreement.household_id == household.id)
    )
    assert agreement is not None
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert agreement.number in page
    again = client.post(
        f"/agreements/household/{household.id}/issue", data={}, follow_redirects=True
    ).get_data(as_text=True)
    assert agreement.number in again  # told it exists; no second one
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Agreement)) == 1
    assert client.get(f"/agreements/{agreement.id}/pdf").data == agreement_pdf(agreement)
    client.post("/logout")
    login_as(Role.CASEWORKER, projects=[add_project(db.session)])
    assert client.get(f"/agreements/{agreement.id}/pdf").status_code == 404
    assert client.post(f"/agreements/household/{household.id}/issue").status_code == 404


def test_the_capitals_of_a_printed_amount(project):
    assert amount_in_capitals(Decimal("801200.00")) == "捌拾万壹仟贰佰元整"


def test_a_change_after_signing_asks_for_a_supplement_and_the_signing_cannot_be_undone(
    client, login_as, project
):
    from resettle.households.services import undo_last_step

    household = _household(project)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    supervisor = login_as(Role.SUPERVISOR, projects=[project])
    with pytest.raises(RuleViolation) as refused:
        undo_last_step(db.session, household, reason="录错了", user=supervisor)
    assert agreement.number in refused.value.message
    assert household.stage == Stage.SIGNED
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "agreement-drift" not in page
    household.legal_area = Decimal("82.00")  # corrected after signing
    db.session.flush()
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "agreement-drift" in page and agreement.number in page


def test_without_an_agreement_a_swap_household_is_still_owed_net_before_moving(project):
    """A signing recorded from a paper agreement (no agreement in the system yet): the same
    rule, net of the entitled area's price."""
    from resettle.funds.services import due_before_moving

    household = _household(project, mode=CompensationMode.SWAP)
    record_step(db.session, household, Stage.SIGNED, TODAY, operator=None, today=TODAY)
    owed = due_before_moving(db.session, household, by=TODAY)
    assert owed.due == Decimal("531200.00")  # 801,200.00 − 90 m² × 3,000


def test_a_date_years_ahead_is_a_typo_and_refused(project):
    household = _household(project)
    for data in (
        AgreementInput(instalments=[(Decimal("801200"), date(9999, 12, 31))]),
        AgreementInput(instalments=[(Decimal("801200"), date(2099, 12, 31))]),
        AgreementInput(moving_deadline=date(2099, 12, 31)),
    ):
        with pytest.raises(RuleViolation) as refused:
            with db.session.begin_nested():
                issue_agreement(db.session, household, data, user=None, today=TODAY)
        assert "2099" in refused.value.message or "9999" in refused.value.message
    with pytest.raises(RuleViolation):
        parse_instalments("801200.005, 2025-07-01")  # a third decimal is a typo too
    assert parse_instalments("８０１２００，２０２５－０７－０１") == [
        (Decimal("801200.00"), date(2025, 7, 1))
    ]


def test_a_changed_entitled_area_or_mode_after_signing(client, login_as, project, tmp_path):

    household = _household(project, mode=CompensationMode.MIXED, entitled_area=Decimal("50.00"))
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    household.entitled_area = Decimal("80.00")  # 30 m² more at 3,000 set against it
    db.session.flush()
    login_as(Role.CASEWORKER, projects=[project])
    page = client.get(f"/households/{household.id}").get_data(as_text=True)
    assert "agreement-drift" in page and "561,200.00" in page  # 801,200 − 80 m² × 3,000
    supplement = issue_supplement(
        db.session,
        household,
        AgreementInput(reason="应安置面积复核"),
        user=None,
        today=TODAY + timedelta(days=1),
    )
    assert supplement.figures["difference"] == "-90000.00"
    assert supplement.figures["refund"] == "0.00"  # nothing was paid: nothing to hand back
    text = _text(agreement_pdf(supplement), tmp_path)
    assert "号号" not in text and "退还" not in text and "相应减少" in text
    assert "80.00 m² × 3,000.00" in text  # the deduction the new net comes from
    verify = client.get(
        "/public/verify",
        query_string={
            "number": agreement.number.replace("〕", "〕0"),  # a leading zero typed
            "code": agreement.check_code.translate(
                {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # full width
            ),
        },
    ).get_data(as_text=True)
    assert msg("Genuine agreement") in verify and supplement.number in verify


def test_a_transit_flat_is_agreed_and_then_no_allowance_accrues(project, tmp_path):
    from resettle.funds.services import allowance_statement

    money_household = _household(project)
    with pytest.raises(RuleViolation):
        with db.session.begin_nested():
            issue_agreement(
                db.session,
                money_household,
                AgreementInput(transit_flat="东城区周转房3号楼201"),
                user=None,
                today=TODAY,
            )
    household = _household(project, mode=CompensationMode.SWAP)
    agreement = issue_agreement(
        db.session,
        household,
        AgreementInput(transit_flat="  东城区周转房3号楼 201 "),
        user=None,
        today=TODAY,
    )
    assert household.transit_flat == "东城区周转房3号楼 201"
    text = _text(agreement_pdf(agreement), tmp_path)
    assert "周转房（东城区周转房3号楼 201）" in text and "不发放临时安置费" in text
    record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=agreement.before_moving,
        paid_on=TODAY,
        voucher_number="PZ-T",
        payee=household.head_name,
        operator=None,
        today=TODAY,
    )
    record_step(db.session, household, Stage.VACATED, TODAY, operator=None, today=TODAY)
    later = TODAY + timedelta(days=200)
    assert allowance_statement(db.session, household, as_of=later) is None
    lines = household_money(db.session, household, as_of=later).lines
    assert not [line for line in lines if line.key.startswith("allowance")]


def test_a_vacating_notice_asks_for_the_agreements_date_and_names_it(project, tmp_path):
    from resettle.notices.guards import NoticeInput
    from resettle.notices.models import NoticeType
    from resettle.notices.services import issue_notice, notice_pdf

    household = _household(project, mode=CompensationMode.SWAP)
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    moving = agreement.figures["moving_deadline"]
    with pytest.raises(RuleViolation) as refused:
        with db.session.begin_nested():
            issue_notice(
                db.session,
                household,
                NoticeType.VACATING,
                NoticeInput(deadline=TODAY + timedelta(days=3)),
                user=None,
                today=TODAY,
            )
    assert agreement.number in refused.value.message
    notice = issue_notice(db.session, household, NoticeType.VACATING, user=None, today=TODAY)
    assert notice.details["deadline"] == moving
    assert notice.details["agreement_number"] == agreement.number
    text = _text(notice_pdf(notice), tmp_path)
    assert agreement.number in text and "/public/verify" in text


def test_before_signing_nothing_is_owed_and_a_swap_shows_its_flat_price(project):
    household = _household(project, mode=CompensationMode.SWAP)
    money = household_money(db.session, household, as_of=TODAY)
    assert money.balance.value == "estimate"
    flat = next(line for line in money.lines if line.key == "flat_entitled")
    assert flat.amount == Decimal("-270000.00") and "90.00 m² × 3,000.00" in flat.formula
    agreement = issue_agreement(db.session, household, user=None, today=TODAY)
    record_payment(
        db.session,
        household,
        kind=PaymentKind.COMPENSATION,
        amount=agreement.before_moving,
        paid_on=TODAY,
        voucher_number="PZ-N",
        payee=household.head_name,
        operator=None,
        today=TODAY,
    )
    settled = household_money(db.session, household, as_of=TODAY)
    assert settled.outstanding == 0 and settled.balance.value == "settled"
