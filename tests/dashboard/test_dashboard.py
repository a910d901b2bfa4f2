"""The dashboard shows real figures: households per stage and per project."""

import re

from resettle.auth.models import Role
from resettle.households.models import Stage


def _tile(page: str, stage: str) -> int:
    return int(re.search(rf'data-stage="{stage}">(\d+)<', page).group(1))


def test_dashboard_counts_households_per_stage_and_project(
    client, login_as, make_project, make_household
):
    project = make_project(name="滨江路拓宽工程")
    make_household(project=project, stage=Stage.SURVEYED)
    make_household(project=project, stage=Stage.SIGNED)
    make_household(project=project, stage=Stage.SIGNED)
    login_as(Role.LEADER)
    page = client.get("/").get_data(as_text=True)
    assert "工作台" in page and "滨江路拓宽工程" in page
    assert _tile(page, "signed") == 2 and _tile(page, "surveyed") == 1
    assert re.search(r'data-testid="total-households">3<', page)
    assert "调查登记" in page and "签约" in page


def test_leader_sees_no_audit_link(client, login_as):
    login_as(Role.LEADER)
    assert "操作日志" not in client.get("/").get_data(as_text=True)


def test_supervisor_sees_audit_link(client, login_as):
    login_as(Role.SUPERVISOR)
    assert "操作日志" in client.get("/").get_data(as_text=True)
