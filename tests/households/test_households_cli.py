"""`flask households import|list` and `flask projects list`: output and exit codes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from resettle.extensions import db
from resettle.households.models import Household, Stage
from resettle.privacy import mask_name
from tests.households.test_ledger_import import HEADERS, LOST, simple_ledger, valid_id


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _ledger_file(tmp_path, rows, headers=HEADERS):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(simple_ledger(rows, headers).getvalue())
    return path


def _count(project) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Household).where(Household.project_id == project.id)
    )


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王*明"),
        ("欧阳娜娜", "欧**娜"),
        ("买买提·艾力", "买**·*力"),  # the dot stays, both parts are masked
        ("阿依古丽·买买提", "阿***·**提"),
        ("司马光", "司*光"),
        ("李", "*"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_projects_list(cli, make_project):
    make_project(code="ZZ-02", name="西城片区")
    make_project(code="ZZ-01", name="东城片区")
    result = cli.invoke(args=["projects", "list"])
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if line.startswith("ZZ-")]
    assert lines == ["ZZ-01\t东城片区", "ZZ-02\t西城片区"]


def test_households_list_masks_names_and_filters(cli, make_project, make_household):
    project, other = make_project(code="LS"), make_project(code="LT")
    make_household(project=project, case_number="LS-0002", head_name="欧阳娜娜", stage=Stage.SIGNED)
    make_household(project=project, case_number="LS-0001", head_name="张三")
    make_household(project=other, case_number="LT-0001", head_name="王小明")

    everything = cli.invoke(args=["households", "list"])
    one_project = cli.invoke(args=["households", "list", "--project", "LS"])
    signed = cli.invoke(args=["households", "list", "--project", "LS", "--stage", "signed"])

    assert everything.exit_code == one_project.exit_code == signed.exit_code == 0
    assert "LT-0001\t王*明\tsurveyed" in everything.output.splitlines()
    assert one_project.output.splitlines() == ["LS-0001\t张*\tsurveyed", "LS-0002\t欧**娜\tsigned"]
    assert signed.output.splitlines() == ["LS-0002\t欧**娜\tsigned"]
    assert "张三" not in everything.output and "欧阳娜娜" not in everything.output


def test_households_list_refuses_unknown_project_and_stage(cli, make_project):
    make_project(code="OK")
    unknown_project = cli.invoke(args=["households", "list", "--project", "NOPE"])
    unknown_stage = cli.invoke(args=["households", "list", "--stage", "finished"])
    assert unknown_project.exit_code != 0
    assert gettext("There is no project with the code %(code)s.", code="NOPE") in (
        unknown_project.output
    )
    assert unknown_stage.exit_code != 0
    assert "finished" in unknown_stage.output and "handed_over" in unknown_stage.output


def test_import_prints_the_counts_and_a_second_run_changes_nothing(cli, make_project, tmp_path):
    project = make_project(code="CLI")
    path = _ledger_file(
        tmp_path, [["甲", valid_id(1), "一号", 50], ["乙", valid_id(2), "二号", 60]]
    )

    first = cli.invoke(args=["households", "import", str(path), "--project", "CLI"])
    second = cli.invoke(args=["households", "import", str(path), "--project", "CLI"])

    assert first.exit_code == 0, first.output
    summary = "Created %(created)d, updated %(updated)d, unchanged %(unchanged)d."
    assert gettext(summary, created=2, updated=0, unchanged=0) in first.output
    assert second.exit_code == 0, second.output
    assert gettext(summary, created=0, updated=0, unchanged=2) in second.output
    cases = db.session.scalars(
        sa.select(Household.case_number).where(Household.project_id == project.id)
    )
    assert sorted(cases) == ["CLI-0001", "CLI-0002"]


def test_import_dry_run_saves_nothing(cli, make_project, tmp_path):
    project = make_project(code="DRY")
    path = _ledger_file(tmp_path, [["甲", valid_id(1), "一号", 50]])
    result = cli.invoke(args=["households", "import", str(path), "--project", "DRY", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert gettext("Dry run: nothing was saved.") in result.output
    assert _count(project) == 0


def test_import_prints_row_errors_and_exits_non_zero(cli, make_project, tmp_path):
    project = make_project(code="BAD")
    rows = [["甲", valid_id(1), "一号", 50], ["乙", 110105194912310021, "二号", 60]]
    path = _ledger_file(tmp_path, rows)

    result = cli.invoke(args=["households", "import", str(path), "--project", "BAD"])

    assert result.exit_code == 1
    line = gettext("Sheet %(sheet)s, row %(row)d", sheet="Sheet", row=3) + (
        "：身份证号码：" + gettext(LOST)
    )
    assert line in result.output.splitlines()
    assert gettext("%(n)d problems found; nothing was imported.", n=1) in result.output
    assert _count(project) == 0


def test_import_refuses_an_unknown_project_and_an_unreadable_file(cli, make_project, tmp_path):
    make_project(code="REAL")
    path = _ledger_file(tmp_path, [["甲", valid_id(1), "一号", 50]])
    unknown = cli.invoke(args=["households", "import", str(path), "--project", "NOPE"])
    assert unknown.exit_code == 1
    assert "NOPE" in unknown.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    unreadable = cli.invoke(args=["households", "import", str(broken), "--project", "REAL"])
    assert unreadable.exit_code == 1
    assert ".xlsx" in unreadable.output
