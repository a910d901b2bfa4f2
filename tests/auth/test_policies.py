"""Every route declares who may use it, and the app enforces it (fail closed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask

from resettle.agreements.models import Agreement, AgreementKind
from resettle.auth.models import Role
from resettle.auth.policy import EXEMPT_ENDPOINTS
from resettle.disclosure.models import Disclosure, DisclosureKind
from resettle.documents.models import ArchivedDocument
from resettle.extensions import db
from resettle.funds.models import Payment, PaymentKind
from resettle.households.models import HouseholdAdjustment
from resettle.notices.models import Notice, NoticeType
from resettle.plans.models import CalendarDay
from resettle.plans.services import plan_for_project, replan
from resettle.supervision.models import SupervisionOrder
from tests.conftest import make_test_app
from tests.sites import add_site

A, C, S, L = Role.ADMIN, Role.CASEWORKER, Role.SUPERVISOR, Role.LEADER
ALL = {A, C, S, L}
PUBLIC = "public"

EDITORS = {A, C}

# The intended matrix, written out by hand: adding an endpoint means adding a line here.
# endpoint -> (method, sample path, who may use it, status an allowed user gets)
# Paths may name {user_id}, {project_id} and {household_id}: made fresh for each test.
EXPECTED: dict[str, tuple[str, str, object, int]] = {
    "auth.login": ("GET", "/login", PUBLIC, 200),
    "auth.logout": ("POST", "/logout", ALL, 302),
    "auth.password": ("GET", "/account/password", ALL, 200),
    "auth.login_code": ("GET", "/login/code", PUBLIC, 302),
    "auth.two_factor": ("GET", "/account/two-factor", ALL, 200),
    "auth.new_codes": ("POST", "/account/two-factor/codes", ALL, 302),
    "auth.reset_user_mfa": ("POST", "/admin/users/{user_id}/reset-mfa", {A}, 302),
    "auth.users": ("GET", "/admin/users", {A}, 200),
    "auth.new_user": ("GET", "/admin/users/new", {A}, 200),
    "auth.user": ("GET", "/admin/users/{user_id}", {A}, 200),
    "auth.reset_user_password": ("POST", "/admin/users/{user_id}/reset-password", {A}, 200),
    "auth.unlock_user": ("POST", "/admin/users/{user_id}/unlock", {A}, 302),
    "auth.disable_user": ("POST", "/admin/users/{user_id}/disable", {A}, 302),
    "auth.enable_user": ("POST", "/admin/users/{user_id}/enable", {A}, 302),
    "dashboard.index": ("GET", "/", ALL, 200),
    "dashboard.language": ("POST", "/language", PUBLIC, 302),
    "audit.index": ("GET", "/audit/", {A, S}, 200),
    "audit.record": ("GET", "/audit/User/{user_id}", {A, S}, 200),
    "projects.index": ("GET", "/projects/", ALL, 200),
    "projects.new": ("GET", "/projects/new", EDITORS, 200),
    "projects.edit": ("GET", "/projects/{project_id}/edit", EDITORS, 200),
    "projects.publish": ("POST", "/projects/{project_id}/publish", {S, A}, 302),
    "projects.withdraw": ("POST", "/projects/{project_id}/withdraw", {S, A}, 302),
    "households.index": ("GET", "/households/", ALL, 200),
    "households.new": ("GET", "/households/new", EDITORS, 200),
    "households.detail": ("GET", "/households/{household_id}", ALL, 200),
    "households.edit": ("GET", "/households/{household_id}/edit", EDITORS, 200),
    "households.record": ("POST", "/households/{household_id}/steps", EDITORS, 200),
    "households.undo": ("POST", "/households/{household_id}/undo", {S, A}, 200),
    "households.payment": ("POST", "/households/{household_id}/payments", EDITORS, 200),
    "households.add_line": ("POST", "/households/{household_id}/adjustments", EDITORS, 200),
    "households.remove_line": (
        "POST",
        "/households/{household_id}/adjustments/{adjustment_id}/remove",
        EDITORS,
        302,
    ),
    "sites.index": ("GET", "/sites/", ALL, 200),
    "sites.new": ("GET", "/sites/new", EDITORS, 200),
    "sites.edit": ("GET", "/sites/{site_id}/edit", EDITORS, 200),
    "sites.detail": ("GET", "/sites/{site_id}", ALL, 200),
    "sites.new_building": ("GET", "/sites/{site_id}/buildings/new", EDITORS, 200),
    "sites.new_unit": ("GET", "/sites/buildings/{building_id}/units/new", EDITORS, 200),
    "sites.complete_building": ("POST", "/sites/buildings/{building_id}/complete", EDITORS, 302),
    "sites.import_template": ("GET", "/sites/import-template.xlsx", EDITORS, 200),
    "sites.import_units_upload": ("GET", "/sites/{site_id}/import", EDITORS, 200),
    "sites.confirm_import": ("POST", "/sites/{site_id}/import/confirm", EDITORS, 302),
    "sites.allocate": ("GET", "/sites/allocate/{household_id}", EDITORS, 200),
    "households.import_form": ("GET", "/households/import", EDITORS, 200),
    "households.import_confirm": ("POST", "/households/import/confirm", EDITORS, 302),
    "households.import_template": ("GET", "/households/import/template", EDITORS, 200),
    "households.import_report": ("GET", "/households/import/{token}/report.xlsx", EDITORS, 404),
    "households.import_preview": ("GET", "/households/import/{token}", EDITORS, 404),
    "households.export": ("GET", "/households/export", ALL, 303),
    "funds.project": ("GET", "/funds/projects/{project_id}", ALL, 200),
    "funds.plan_xlsx": ("GET", "/funds/projects/{project_id}/plan.xlsx", ALL, 303),
    "funds.add_source": ("POST", "/funds/projects/{project_id}/sources", EDITORS, 200),
    "funds.new_rule": ("GET", "/funds/projects/{project_id}/rules/new", {A}, 200),
    "funds.reverse": ("POST", "/funds/payments/{payment_id}/reverse", {A, S}, 302),
    "agreements.draft": ("GET", "/agreements/household/{household_id}/draft.pdf", EDITORS, 302),
    "agreements.issue": ("POST", "/agreements/household/{household_id}/issue", EDITORS, 302),
    "agreements.supplement": (
        "POST",
        "/agreements/household/{household_id}/supplement",
        EDITORS,
        302,
    ),
    "agreements.pdf": ("GET", "/agreements/{agreement_id}/pdf", ALL, 200),
    "funds.settlement": ("GET", "/funds/households/{household_id}/settlement", ALL, 200),
    # (the matrix's household has no compensation mode: the page says there is no sheet)
    "funds.settlement_pdf": ("GET", "/funds/households/{household_id}/settlement.pdf", ALL, 409),
    "notices.index": ("GET", "/notices/", ALL, 200),
    "notices.issue": ("GET", "/notices/issue/{household_id}", EDITORS, 200),
    "notices.batch": ("GET", "/notices/batch", EDITORS, 200),
    "jobs.index": ("GET", "/jobs/", ALL, 200),
    "backup.index": ("GET", "/admin/backups", {A}, 200),
    "backup.start": ("POST", "/admin/backups", {A}, 303),
    "jobs.detail": ("GET", "/jobs/0123456789abcdef0123456789abcdef", ALL, 404),
    "jobs.download": ("GET", "/jobs/0123456789abcdef0123456789abcdef/file", ALL, 404),
    "notices.detail": ("GET", "/notices/{notice_id}", ALL, 200),
    "notices.pdf": ("GET", "/notices/{notice_id}/pdf", ALL, 200),
    "notices.void": ("POST", "/notices/{notice_id}/void", {A, S}, 302),
    "notices.document_pdf": ("GET", "/notices/documents/{document_id}/pdf", ALL, 200),
    "supervision.overdue": ("GET", "/supervision/overdue", ALL, 200),
    "supervision.overdue_list_pdf": ("POST", "/supervision/overdue.pdf", ALL, 303),
    "supervision.overdue_list_xlsx": ("POST", "/supervision/overdue.xlsx", ALL, 303),
    "supervision.new_order": ("GET", "/supervision/orders/new", {S, A}, 200),
    "supervision.orders": ("GET", "/supervision/orders", ALL, 200),
    "supervision.order": ("GET", "/supervision/orders/{order_id}", ALL, 200),
    "supervision.order_pdf": ("GET", "/supervision/orders/{order_id}/pdf", ALL, 200),
    "supervision.respond": ("POST", "/supervision/orders/{order_id}/responses", {S, A}, 200),
    "supervision.close": ("POST", "/supervision/orders/{order_id}/close", {S, A}, 200),
    "supervision.leader_dashboard": ("GET", "/supervision/dashboard", {L, S, A}, 200),
    "disclosure.index": ("GET", "/disclosures/", ALL, 200),
    "disclosure.new": ("GET", "/disclosures/new", EDITORS, 200),
    "disclosure.detail": ("GET", "/disclosures/{disclosure_id}", ALL, 200),
    "disclosure.approve": ("POST", "/disclosures/{disclosure_id}/approve", {S, A}, 302),
    "disclosure.withdraw": ("POST", "/disclosures/{disclosure_id}/withdraw", {S, A}, 200),
    "disclosure.discard": ("POST", "/disclosures/{disclosure_id}/discard", {A, C, S}, 302),
    # (the sample is a draft: refused with a message, back to its page)
    "disclosure.make_pdf": ("POST", "/disclosures/{disclosure_id}/pdf/make", {A, C, S}, 302),
    "public.index": ("GET", "/public/", PUBLIC, 200),
    "public.project": ("GET", "/public/projects/{project_code}", PUBLIC, 200),
    "public.disclosure": ("GET", "/public/disclosures/{disclosure_id}", PUBLIC, 200),
    "public.disclosure_pdf": ("GET", "/public/disclosures/{disclosure_id}.pdf", PUBLIC, 200),
    "public.status": ("GET", "/public/status", PUBLIC, 200),
    "public.verify": ("GET", "/public/verify", PUBLIC, 200),
    "plans.index": ("GET", "/plans/", ALL, 200),
    "plans.open_plan": ("POST", "/plans/open/project/{project_id}", EDITORS, 302),
    "plans.open_template": ("POST", "/plans/templates/project", {A}, 302),
    "plans.detail": ("GET", "/plans/{plan_id}", ALL, 200),
    "plans.print_gantt": ("POST", "/plans/{plan_id}/print", ALL, 303),
    "plans.new_node": ("GET", "/plans/{plan_id}/nodes/new", EDITORS, 200),
    "plans.edit_node": ("GET", "/plans/{plan_id}/nodes/{node_id}/edit", EDITORS, 200),
    "plans.remove_node": ("POST", "/plans/{plan_id}/nodes/{node_id}/delete", EDITORS, 302),
    "plans.calendar": ("GET", "/plans/calendar", {A}, 200),
    "plans.remove_day": ("POST", "/plans/calendar/{day_id}/delete", {A}, 302),
}


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints whose view declares no access policy."""
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT_ENDPOINTS
        and getattr(app.view_functions[rule.endpoint], "access_policy", None) is None
    )


def test_every_endpoint_declares_a_policy(app):
    assert undeclared_endpoints(app) == []


def test_every_endpoint_is_in_the_expected_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()} - EXEMPT_ENDPOINTS
    assert endpoints == set(EXPECTED), "update EXPECTED in this test for new or removed routes"


def test_a_route_without_policy_is_caught_and_refused():
    app = make_test_app("sqlite://")

    @app.route("/forgotten")
    def forgotten():
        return "secret"

    assert undeclared_endpoints(app) == ["forgotten"]
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_anonymous_is_sent_to_login_unless_public(client, endpoint):
    method, path, allowed, _status = EXPECTED[endpoint]
    # any id will do: the policy answers before the record is looked up
    response = client.open(path.format_map(defaultdict(lambda: 1)), method=method)
    if allowed == PUBLIC:
        # a made-up id may name no record (404); what matters is that no login is asked for
        assert response.status_code in ((200, 302, 404) if "{" in path else (200, 302))
        if response.status_code == 302 and endpoint != "auth.login_code":
            assert not response.headers["Location"].startswith("/login")
        elif response.status_code == 302:  # the code step without a password step before it
            assert response.headers["Location"] == "/login"
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("endpoint", sorted(e for e, v in EXPECTED.items() if v[2] != PUBLIC))
def test_role_matrix(client, login_as, make_household, role, endpoint):
    method, path, allowed, status = EXPECTED[endpoint]
    user = login_as(role)
    household = make_household()
    household.project.land_delivery_date = date(2026, 6, 30)
    plan = plan_for_project(db.session, household.project)
    replan(db.session, plan, today=date(2025, 6, 2))
    day = CalendarDay(day=date(2031, 1, 2), working=False)
    db.session.add(day)
    site, building = add_site(db.session)
    payment = Payment(
        household=household,
        kind=PaymentKind.COMPENSATION,
        amount=1,
        paid_on=date(2025, 7, 1),
        voucher_number=f"P-{user.id}",
        payee="x",
    )
    db.session.add(payment)
    document = ArchivedDocument(
        pdf=b"%PDF-1.7 test", sha256="0" * 64, size=13, pages=1, notice_count=1
    )
    notice = Notice(
        type=NoticeType.SUPERVISION,
        year=2025,
        sequence=user.id,
        number=f"test-{user.id}",
        check_code="ABCDEFGH",
        document=document,
        issued_on=date(2025, 7, 1),
        details={},
    )
    order = SupervisionOrder(
        notice=notice,
        responsible_unit="街道办事处",
        issued_on=date(2025, 7, 1),
        rectify_workdays=3,
        rectify_by=date(2025, 7, 4),
    )
    disclosure = Disclosure(
        project=household.project,
        kind=DisclosureKind.SURVEY,
        title="t",
        period_start=date(2025, 7, 1),
        period_end=date(2025, 7, 10),
        rows=[],
        snapshot_sha256="0" * 64,
        snapshot_as_of=date(2025, 7, 1),
        prepared_by_id=user.id,
    )
    agreement = Agreement(
        kind=AgreementKind.MONEY,
        year=2025,
        sequence=user.id,
        number=f"agreement-{user.id}",
        check_code="ABCDEFGH",
        household=household,
        document=document,
        signed_on=date(2025, 7, 1),
        total=1,
        before_moving=1,
        figures={},
    )
    adjustment = HouseholdAdjustment(
        household=household, label="其他补偿", amount=Decimal("100.00"), reason="会议决定"
    )
    db.session.add_all([document, notice, order, disclosure, agreement, adjustment])
    db.session.flush()
    ids = {
        "adjustment_id": adjustment.id,
        "user_id": user.id,
        "project_id": household.project_id,
        "household_id": household.id,
        "plan_id": plan.id,
        "node_id": plan.nodes[-1].id,
        "day_id": day.id,
        "site_id": site.id,
        "building_id": building.id,
        "payment_id": payment.id,
        "notice_id": notice.id,
        "agreement_id": agreement.id,
        "document_id": document.id,
        "order_id": order.id,
        "disclosure_id": disclosure.id,
        "project_code": household.project.code,
        "token": "0" * 32,
    }
    response = client.open(path.format(**ids), method=method)
    if role in allowed:
        assert response.status_code == status
    else:
        assert response.status_code == 403
        assert "无权访问" in response.get_data(as_text=True)
