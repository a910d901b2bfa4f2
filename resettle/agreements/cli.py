"""`flask agreements ...`: issue a household's agreement (or preview it), reprint one."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from resettle.agreements.services import (
    AgreementInput,
    agreement_by_number,
    agreement_pdf,
    draft_agreement_pdf,
    issue_agreement,
)
from resettle.audit.services import acting_as
from resettle.clitools import check_output_folder, household_or_fail, write_reprint
from resettle.documents.archive import lacking_glyphs
from resettle.documents.numbers import begin_numbering
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.translate import gettext as _

agreements_cli = AppGroup(
    "agreements", help="Compensation agreements (补偿协议): issue at signing, reprint."
)


@agreements_cli.command("issue")
@click.argument("case_number", metavar="CASE_NO")
@click.argument("out", metavar="OUT.pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--draft",
    is_flag=True,
    help="Preview the agreement unnumbered (草稿): nothing is signed, numbered or kept.",
)
@click.option(
    "--transit-flat",
    default="",
    help="A property swap household lent a transit flat (周转房): which one (no allowance).",
)
def issue_command(case_number: str, out: Path, draft: bool, transit_flat: str) -> None:
    """Issue the agreement of the household CASE_NO, which signs today (or signed already on
    paper): number, archive, write the PDF to OUT.pdf and print its number and check code."""
    check_output_folder(out)
    with acting_as("cli"):
        if not draft and not db.session().in_transaction():  # (a test runs in its own)
            begin_numbering(db.session)
        household = household_or_fail(case_number)
        try:
            if draft:
                data = draft_agreement_pdf(
                    db.session, household, AgreementInput(transit_flat=transit_flat)
                )
                number = code = ""
                lacking = lacking_glyphs(
                    {"head_name": household.head_name, "house_address": household.house_address}
                )
            else:
                agreement = issue_agreement(
                    db.session, household, AgreementInput(transit_flat=transit_flat), user=None
                )
                data = agreement_pdf(agreement)
                number, code = agreement.number, agreement.check_code
                lacking = lacking_glyphs(agreement.figures)
        except RuleViolation as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from None
        db.session.commit()
    out.write_bytes(data)
    click.echo(f"{number}\t{code}" if number else _("draft written to %(path)s", path=str(out)))
    if lacking:
        click.echo(f"warning: the PDF font lacks {' '.join(lacking)} (printed as boxes)", err=True)


@agreements_cli.command("reprint")
@click.argument("number", metavar="NUMBER")
@click.argument("out", metavar="OUT.pdf", type=click.Path(dir_okay=False, path_type=Path))
def reprint_command(number: str, out: Path) -> None:
    """Write the archived PDF of the agreement NUMBER (byte for byte as issued) to OUT.pdf."""
    check_output_folder(out)
    agreement = agreement_by_number(db.session, number)
    if agreement is None:
        raise click.ClickException(_("There is no agreement numbered %(number)s.", number=number))
    write_reprint(out, agreement_pdf(agreement), agreement.number, agreement.document.sha256)
