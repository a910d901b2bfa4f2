"""`flask notices ...`: issue a notice to a household and write its archived PDF; reprint."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.clitools import check_output_folder, household_or_fail, write_reprint
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.notices.models import NoticeType
from resettle.notices.services import (
    HOUSEHOLD_TYPES,
    NoticeInput,
    begin_numbering,
    issue_notice,
    lacking_glyphs,
    notice_by_number,
    notice_pdf,
)
from resettle.translate import gettext as _

notices_cli = AppGroup("notices", help="Notices (通知书): issue, archive and reprint.")


@notices_cli.command("issue")
@click.argument(
    "notice_type", metavar="TYPE", type=click.Choice([t.value for t in HOUSEHOLD_TYPES])
)
@click.argument("case_number", metavar="CASE_NO")
@click.argument("out", metavar="OUT.pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--selection-time",
    type=click.DateTime(formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="Selection notices: the date and time of the selection (YYYY-MM-DD HH:MM).",
)
@click.option(
    "--deadline",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the notice asks for (YYYY-MM-DD), when not the plan's; never before today.",
)
@click.option(
    "--again",
    is_flag=True,
    help="Issue it although the household has one of this type in force.",
)
def issue_command(
    notice_type: str,
    case_number: str,
    out: Path,
    selection_time: datetime | None,
    deadline: datetime | None,
    again: bool,
) -> None:
    """Issue and archive one notice for the household CASE_NO; write the PDF to OUT.pdf and
    print its number and check code."""
    check_output_folder(out)
    with acting_as("cli"):
        if not db.session().in_transaction():  # (inside a test it runs in the test's own)
            begin_numbering(db.session)
        household = household_or_fail(case_number)
        try:
            notice = issue_notice(
                db.session,
                household,
                NoticeType(notice_type),
                NoticeInput(
                    selection_at=selection_time,
                    deadline=deadline.date() if deadline else None,
                    again=again,
                ),
                user=None,
            )
        except RuleViolation as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from None
        data, number, code = notice_pdf(notice), notice.number, notice.check_code
        lacking = lacking_glyphs(notice.details)
        db.session.commit()
    out.write_bytes(data)
    click.echo(f"{number}\t{code}")
    if lacking:
        click.echo(f"warning: the PDF font lacks {' '.join(lacking)} (printed as boxes)", err=True)


@notices_cli.command("reprint")
@click.argument("number", metavar="NUMBER")
@click.argument("out", metavar="OUT.pdf", type=click.Path(dir_okay=False, path_type=Path))
def reprint_command(number: str, out: Path) -> None:
    """Write the archived PDF of the notice NUMBER (byte for byte as issued) to OUT.pdf."""
    check_output_folder(out)
    notice = notice_by_number(db.session, number)
    if notice is None:
        raise click.ClickException(_("There is no notice numbered %(number)s.", number=number))
    write_reprint(out, notice_pdf(notice), notice.number, notice.document.sha256)
