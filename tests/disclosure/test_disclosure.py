"""Disclosures: the allowlist, the frozen snapshot, approval by someone else, withdrawal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from resettle.audit.models import AuditEvent
from resettle.auth.models import Role
from resettle.disclosure.models import DisclosureKind, DisclosureStatus
from resettle.disclosure.services import (
    DisclosureData,
    approve_disclosure,
    discard_draft,
    is_public,
    prepare_disclosure,
    public_disclosures,
    street_of,
    withdraw_disclosure,
)
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.households.models import CaseStep, CompensationMode, Stage
from resettle.sites.models import UnitStatus
from tests.funds import add_rules

TODAY = date(2025, 7, 1)


def _data(kind=DisclosureKind.SURVEY, start=TODAY, end=TODAY + timedelta(days=10)):
    return DisclosureData(kind=kind, title="调查登记结果公示", period_start=start, period_end=end)


@pytest.fixture
def surveyed(make_household):
    household = make_household(
        head_name="欧阳娜娜",
        house_address="东城区解放路88号3单元401室",
        stage=Stage.APPRAISED,
        unregistered_area=Decimal("12.50"),
    )
    household.steps.append(CaseStep(stage=Stage.SURVEYED, actual_date=date(2025, 4, 1)))
    db.session.flush()
    return household


@pytest.mark.parametrize(
    ("address", "street"),
    [
        ("东城区解放路88号3单元401室", "东城区解放路"),
        ("北京市东城区东四十二条胡同5号", "北京市东城区东四十二条胡同"),
        ("东城区人民大道100号", "东城区人民大道"),
        ("新华村三组8号", "新华村"),
        ("长安街", "长安街"),
    ],
)
def test_the_location_goes_down_to_the_street_only(address, street):
    assert street_of(address) == street


def test_a_survey_disclosure_freezes_the_allowlisted_fields_only(surveyed, make_user):
    caseworker = make_user(Role.CASEWORKER)
    disclosure = prepare_disclosure(
        db.session, surveyed.project, _data(), user=caseworker, today=TODAY
    )
    assert disclosure.status == DisclosureStatus.DRAFT and disclosure.row_count == 1
    assert disclosure.rows == [
        {
            "case_number": surveyed.case_number,
            "name": "欧**娜",
            "location": "东城区解放路",
            "legal_area": "85.32",
            "unregistered_area": "12.50",
            "house_use": "住宅",
        }
    ]
    text = str(disclosure.rows)
    assert surveyed.head_id_number not in text and surveyed.phone not in text
    # frozen: later edits do not change what was disclosed
    surveyed.head_name = "欧阳改名"
    surveyed.legal_area = Decimal("99.00")
    db.session.flush()
    db.session.expire(disclosure)
    assert disclosure.rows[0]["legal_area"] == "85.32" and disclosure.rows[0]["name"] == "欧**娜"


def test_compensation_rows_carry_lines_and_total_and_selection_rows_the_flat(
    make_project, make_household, make_user
):
    from tests.sites import add_site, flat

    site, building = add_site(db.session)
    project = make_project(site_id=site.id)
    add_rules(project)
    household = make_household(
        project=project,
        stage=Stage.SELECTED,
        selection_order=4,
        compensation_mode=CompensationMode.SWAP,
        appraisal_value=Decimal("500000"),
        entitled_area=Decimal("90"),
    )
    for stage, day in (
        (Stage.SIGNED, date(2025, 4, 1)),
        (Stage.VACATED, date(2025, 5, 1)),
        (Stage.SELECTED, date(2025, 6, 1)),
    ):
        household.steps.append(CaseStep(stage=stage, actual_date=day))
    unit = flat(building, "101")
    unit.household, unit.status = household, UnitStatus.ALLOCATED
    db.session.flush()
    caseworker = make_user(Role.CASEWORKER)
    money = prepare_disclosure(
        db.session, project, _data(DisclosureKind.COMPENSATION), user=caseworker, today=TODAY
    )
    row = money.rows[0]
    assert row["mode"] == "产权调换" and row["total"]
    labels = [line["label"] for line in row["lines"]]
    assert "被征收房屋价值补偿" in labels and "搬迁费" in labels  # frozen in Chinese
    chosen = prepare_disclosure(
        db.session, project, _data(DisclosureKind.SELECTION), user=caseworker, today=TODAY
    )
    assert chosen.rows[0]["selection_order"] == 4
    assert chosen.rows[0]["flat"] == f"{site.name}{unit.label}"
    assert "location" not in chosen.rows[0]


def test_prepare_refuses_bad_periods_and_empty_lists(surveyed, make_user, make_project):
    caseworker = make_user(Role.CASEWORKER)
    project = surveyed.project
    with pytest.raises(RuleViolation, match="不能早于今天|past"):
        prepare_disclosure(
            db.session,
            project,
            _data(start=TODAY - timedelta(days=1)),
            user=caseworker,
            today=TODAY,
        )
    with pytest.raises(RuleViolation) as refused:
        prepare_disclosure(
            db.session, project, _data(end=TODAY - timedelta(days=1)), user=caseworker, today=TODAY
        )
    assert refused.value.field == "period_end"
    with pytest.raises(RuleViolation) as refused:
        prepare_disclosure(
            db.session,
            project,
            _data(end=TODAY + timedelta(days=400)),
            user=caseworker,
            today=TODAY,
        )
    assert refused.value.field == "period_end"
    with pytest.raises(RuleViolation) as refused:
        prepare_disclosure(db.session, make_project(), _data(), user=caseworker, today=TODAY)
    assert refused.value.field == "kind"


def test_someone_else_in_the_supervision_office_approves_then_it_is_public(surveyed, make_user):
    caseworker, supervisor = make_user(Role.CASEWORKER), make_user(Role.SUPERVISOR)
    disclosure = prepare_disclosure(
        db.session, surveyed.project, _data(), user=caseworker, today=TODAY
    )
    assert not is_public(disclosure, TODAY)
    with pytest.raises(RuleViolation):
        approve_disclosure(db.session, disclosure, user=caseworker, today=TODAY)
    own = prepare_disclosure(db.session, surveyed.project, _data(), user=supervisor, today=TODAY)
    with pytest.raises(RuleViolation):  # who prepared it cannot approve it
        approve_disclosure(db.session, own, user=supervisor, today=TODAY)
    approve_disclosure(db.session, disclosure, user=supervisor, today=TODAY)
    assert disclosure.status == DisclosureStatus.PUBLISHED
    assert is_public(disclosure, TODAY) and is_public(disclosure, TODAY + timedelta(days=10))
    assert not is_public(disclosure, TODAY + timedelta(days=11))
    assert public_disclosures(db.session, surveyed.project_id, TODAY) == [disclosure]
    assert public_disclosures(db.session, surveyed.project_id, TODAY + timedelta(days=11)) == []
    with pytest.raises(RuleViolation):
        approve_disclosure(db.session, disclosure, user=make_user(Role.ADMIN), today=TODAY)


def test_withdrawal_needs_a_reason_and_is_audited(surveyed, make_user):
    caseworker, supervisor = make_user(Role.CASEWORKER), make_user(Role.SUPERVISOR)
    disclosure = prepare_disclosure(
        db.session, surveyed.project, _data(), user=caseworker, today=TODAY
    )
    with pytest.raises(RuleViolation):
        withdraw_disclosure(db.session, disclosure, reason="x", user=supervisor)  # a draft
    approve_disclosure(db.session, disclosure, user=supervisor, today=TODAY)
    with pytest.raises(RuleViolation) as refused:
        withdraw_disclosure(db.session, disclosure, reason="  ", user=supervisor)
    assert refused.value.field == "reason"
    with pytest.raises(RuleViolation):
        withdraw_disclosure(db.session, disclosure, reason="错", user=caseworker)
    withdraw_disclosure(db.session, disclosure, reason="面积有误，更正后重新公示", user=supervisor)
    assert disclosure.status == DisclosureStatus.WITHDRAWN
    assert is_public(disclosure, TODAY)  # its page stays, with the notice of withdrawal
    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_type == "Disclosure", AuditEvent.entity_id == disclosure.id
        )
    ).all()
    changes = [e.changes for e in events if e.action == "update"]
    assert any(c.get("withdrawal_reason") == [None, "面积有误，更正后重新公示"] for c in changes)
    assert any(c.get("status") == ["published", "withdrawn"] for c in changes)


def test_only_a_draft_can_be_discarded(surveyed, make_user):
    caseworker, supervisor = make_user(Role.CASEWORKER), make_user(Role.SUPERVISOR)
    other = make_user(Role.CASEWORKER)
    draft = prepare_disclosure(db.session, surveyed.project, _data(), user=caseworker, today=TODAY)
    with pytest.raises(RuleViolation):
        discard_draft(db.session, draft, user=other)
    discard_draft(db.session, draft, user=caseworker)
    published = prepare_disclosure(
        db.session, surveyed.project, _data(), user=caseworker, today=TODAY
    )
    approve_disclosure(db.session, published, user=supervisor, today=TODAY)
    with pytest.raises(RuleViolation):
        discard_draft(db.session, published, user=supervisor)


def test_withdrawing_a_draft_on_the_page_says_why_nothing_happened(
    client, login_as, surveyed, make_user
):
    caseworker = make_user(Role.CASEWORKER)
    disclosure = prepare_disclosure(
        db.session, surveyed.project, _data(), user=caseworker, today=TODAY
    )
    login_as(Role.SUPERVISOR)
    response = client.post(
        f"/disclosures/{disclosure.id}/withdraw", data={"reason": "误发"}, follow_redirects=True
    )
    assert "只有已发布的公示才能撤回" in response.get_data(as_text=True)
    assert disclosure.status == DisclosureStatus.DRAFT


def test_a_disclosure_prepared_in_english_freezes_chinese_rows(
    client, login_as, make_project, make_household, monkeypatch
):
    """The sealed rows are a Chinese public document whatever language the preparer browses in."""
    from resettle import clock
    from resettle.disclosure.models import Disclosure

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    project = make_project()
    add_rules(project)
    household = make_household(
        project=project,
        stage=Stage.VACATED,
        compensation_mode=CompensationMode.SWAP,
        appraisal_value=Decimal("500000"),
        entitled_area=Decimal("90"),
    )
    for stage, day in ((Stage.SIGNED, date(2025, 4, 1)), (Stage.VACATED, date(2025, 5, 1))):
        household.steps.append(CaseStep(stage=stage, actual_date=day))
    db.session.flush()
    login_as(Role.CASEWORKER)
    client.post("/language", data={"lang": "en", "next": "/disclosures/"})
    response = client.post(
        "/disclosures/new",
        data={
            "project_id": project.id,
            "kind": DisclosureKind.COMPENSATION.value,
            "title": "分户补偿情况公示",
            "period_start": TODAY.isoformat(),
            "period_end": (TODAY + timedelta(days=10)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "The disclosure is prepared" in response.get_data(as_text=True)  # an English page
    row = db.session.scalar(sa.select(Disclosure).where(Disclosure.project_id == project.id)).rows[
        0
    ]
    assert row["mode"] == "产权调换"
    labels = [line["label"] for line in row["lines"]]
    assert "被征收房屋价值补偿" in labels and "搬迁费" in labels
    assert "临时安置费（过渡费）" in labels
