"""Nothing private leaks: a unique marker is planted in every column the public may not see,
then every public page, download and PDF (found by following links from /public/, plus every
resident's own lookup and every notice verification) is searched for the markers."""

from __future__ import annotations

import re
from collections import deque
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from resettle import clock
from resettle.auth.models import Role
from resettle.disclosure.models import DisclosureKind
from resettle.disclosure.services import (
    DisclosureData,
    approve_disclosure,
    prepare_disclosure,
    store_disclosure_pdf,
)
from resettle.extensions import db
from resettle.funds.models import PaymentKind
from resettle.funds.services import add_adjustment, reverse_payment
from resettle.households.models import CompensationMode, HouseholdFixture, HouseholdMember, Stage
from resettle.households.services import record_payment
from resettle.idnumbers import mask_id_number
from resettle.notices.models import NoticeType
from resettle.notices.services import NoticeInput, issue_notice
from resettle.sites.models import UnitStatus
from tests.funds import add_rules
from tests.pdf import pdf_text
from tests.sites import add_site, flat
from tests.supervision import add_household, add_plan, add_project, id_number

TODAY = date(2025, 7, 1)

#: Columns the public pages may show (some only transformed: names masked, the address cut to
#: the street). Every other text column gets a marker.
PUBLIC_COLUMNS = {
    ("expropriation_projects", "code"),
    ("expropriation_projects", "name"),
    ("expropriation_projects", "decision_number"),
    ("resettlement_sites", "name"),
    ("buildings", "name"),
    ("units", "entrance"),
    ("units", "number"),
    ("households", "case_number"),
    ("households", "head_name"),  # masked: checked below that the full name never shows
    ("households", "house_address"),  # to the street: checked below that the rest never shows
    ("households", "house_use"),
    ("plan_nodes", "name"),
    ("disclosures", "title"),
    ("disclosures", "withdrawal_reason"),
    ("disclosures", "snapshot_sha256"),
    ("notices", "number"),
    # a fixture's line is named by its price-list item (空调移装): the rules' words, not personal
    ("rule_price_items", "name"),
    ("household_fixtures", "name"),
}
#: Not planted, with the reason: what the requester typed in, or what the system must parse.
NOT_PLANTED = {
    ("households", "head_id_number"): "needed for the lookup; checked below in every form",
    ("notices", "check_code"): "typed in by who holds the notice",
    ("compensation_rules", "overrun_tiers"): "a parsed rule parameter, not personal data",
    ("compensation_rules", "signing_reward_tiers"): "a parsed rule parameter, not personal data",
    ("compensation_rules", "moving_bonus_tiers"): "a parsed rule parameter, not personal data",
    ("plan_nodes", "key"): "an internal identifier the plan links use",
}
SKIP_TABLES = {"audit_events"}  # cannot be changed (a trigger refuses): not public either
MARKER = re.compile(r"MK\d{5}KM")


def _build_case_files(supervisor):
    site, building = add_site(db.session, floors=2)
    project = add_project(db.session, site_id=site.id)
    add_rules(
        project,
        signing_bonus=Decimal("3000"),
        note="规则备注",
        hardship_subsidy=Decimal("2000"),
        price_list="空调移装,台,300",
    )
    add_plan(
        db.session,
        project=project,
        nodes=[
            {
                "name": "签约",
                "stage": Stage.SIGNED,
                "deadline": date(2025, 6, 3),
                "unit": "区征收事务所",
                "person": "经办人甲",
                "leader": "分管领导乙",
            },
            {"name": "腾空交房", "stage": Stage.VACATED, "deadline": date(2025, 8, 29)},
        ],
    )
    add_plan(
        db.session,
        site_id=site.id,
        nodes=[
            {
                "name": "交付",
                "stage": Stage.HANDED_OVER,
                "deadline": date(2027, 6, 30),
                "provisional": True,
            },
        ],
    )
    households = []
    for n, (stage, mode) in enumerate(
        [
            (Stage.SURVEYED, None),
            (Stage.SIGNED, CompensationMode.MONEY),
            (Stage.VACATED, CompensationMode.SWAP),
            (Stage.SELECTED, CompensationMode.SWAP),
            (Stage.HANDED_OVER, CompensationMode.MIXED),
        ]
    ):
        household = add_household(
            db.session,
            project,
            stage=stage,
            mode=mode,
            head_name=["欧阳标记娜娜", "买买提·标记艾力", "司马标记光", "张标记三", "李标记四"][n],
            head_id_number=id_number(900 + n),
            house_address=f"东城区解放路{70 + n}号标记楼{n}单元",
            appraisal_value=Decimal("500000"),
            entitled_area=Decimal("90"),
            selection_order=n if mode else None,
            phone="x",
            note="x",
        )
        household.members.append(HouseholdMember(name="x", relation="x", id_number="x"))
        for step in household.steps:
            step.note = "x"
        households.append(household)
    # the catalogue's own text: a hardship reason, a fixture, a free line with its reason
    households[1].hardship = "低保"
    households[1].fixtures.append(HouseholdFixture(name="空调移装", quantity=Decimal("2")))
    add_adjustment(
        db.session, households[1], label="院内果树", amount=Decimal("800"), reason="x", user=None
    )
    for household, number in zip(households[3:], ("101", "102"), strict=True):
        unit = flat(building, number)
        unit.household, unit.status = household, UnitStatus.ALLOCATED
    db.session.flush()
    for household in households[1:]:
        record_payment(
            db.session,
            household,
            kind=PaymentKind.COMPENSATION,
            amount=Decimal("1000"),
            paid_on=date(2025, 6, 1),
            voucher_number=f"V{household.id}",
            payee="x",
            operator=None,
            note="x",
            today=TODAY,
        )
    reversed_payment = record_payment(
        db.session,
        households[1],
        kind=PaymentKind.OTHER,
        amount=Decimal("5"),
        paid_on=date(2025, 6, 2),
        voucher_number="VR",
        payee="x",
        operator=None,
        today=TODAY,
    )
    reverse_payment(db.session, reversed_payment, reason="x", user=supervisor)
    notices = [
        issue_notice(
            db.session,
            households[0],
            NoticeType.SIGNING,
            NoticeInput(deadline=TODAY + timedelta(days=14)),  # the plan's date has passed
            user=None,
            today=TODAY,
        ),
        issue_notice(
            db.session,
            households[2],
            NoticeType.SELECTION,
            NoticeInput(selection_at=datetime(2025, 7, 9, 9, 0)),
            user=None,
            today=TODAY,
        ),
        issue_notice(db.session, households[2], NoticeType.ALLOWANCE, user=None, today=TODAY),
    ]
    return project, households, notices


def _plant_markers() -> set[str]:
    """Write a marker unique to each non-public text column (and row) into every filled value;
    returns the columns' markers."""
    planted: set[str] = set()
    for table in db.metadata.sorted_tables:
        if table.name in SKIP_TABLES or "id" not in table.c:
            continue
        for column in table.columns:
            if (
                not isinstance(column.type, (sa.String, sa.Text))
                or isinstance(column.type, sa.Enum)
                or (table.name, column.name) in PUBLIC_COLUMNS | set(NOT_PLANTED)
            ):
                continue
            marker = f"MK{len(planted):05d}KM"
            db.session.execute(
                sa.update(table)
                .where(column.is_not(None))
                .values({column.name: sa.literal(marker) + "-" + sa.cast(table.c.id, sa.String)})
            )
            planted.add(marker)
    db.session.expire_all()
    return planted


def _bodies(client, households, notices) -> dict[str, str]:
    """Every public page reachable from /public/ by links, every download, every lookup."""
    seen: dict[str, str] = {}
    queue = deque(["/public/"])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        if response.headers["Content-Type"].startswith("application/pdf"):
            seen[path] = pdf_text(response.data) + response.data.decode("latin-1")
            continue
        text = response.get_data(as_text=True)
        seen[path] = text
        for link in re.findall(r'href="(/public/[^"#]*)"', text):
            queue.append(link.replace("&amp;", "&"))
    for household in households:
        response = client.post(
            "/public/status",
            data={"case_number": household.case_number, "id_suffix": household.head_id_number[-6:]},
        )
        assert household.case_number in response.get_data(as_text=True)
        seen[f"status {household.case_number}"] = response.get_data(as_text=True)
    for notice in notices:
        response = client.get(
            "/public/verify", query_string={"number": notice.number, "code": notice.check_code}
        )
        assert "真实有效" in response.get_data(as_text=True)
        seen[f"verify {notice.number}"] = response.get_data(as_text=True)
    return seen


def test_no_public_page_download_or_pdf_shows_a_non_public_column(client, make_user, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    caseworker, supervisor = make_user(Role.CASEWORKER), make_user(Role.SUPERVISOR)
    project, households, notices = _build_case_files(supervisor)
    planted = _plant_markers()
    assert len(planted) > 30  # every non-public text column of the schema
    for kind in DisclosureKind:
        disclosure = prepare_disclosure(
            db.session,
            project,
            DisclosureData(
                kind=kind,
                title=f"{kind.value} 公示",
                period_start=TODAY,
                period_end=TODAY + timedelta(days=7),
            ),
            user=caseworker,
            today=TODAY,
        )
        approve_disclosure(db.session, disclosure, user=supervisor, today=TODAY)
        store_disclosure_pdf(db.session, disclosure)  # as the job started on publishing does
    bodies = _bodies(client, households, notices)
    assert sum(p.endswith(".pdf") for p in bodies) == 3  # each disclosure's download was read
    assert any("/public/disclosures/" in p for p in bodies)
    leaks = {path: MARKER.findall(body) for path, body in bodies.items() if MARKER.search(body)}
    assert leaks == {}
    for household in households:
        for private in (
            household.head_id_number,
            mask_id_number(household.head_id_number),
            household.head_name,
            household.house_address.split("解放路")[1],
        ):
            found = [path for path, body in bodies.items() if private in body]
            assert found == [], (private, found)
    # the check is alive: the public data it is allowed to show is there
    everything = "\n".join(bodies.values())
    assert "欧****娜" in everything and "买**·***力" in everything  # masked names are shown
    assert households[3].case_number in everything and "东城区解放路" in everything
