"""`flask disclosures ...`: render the PDFs that published disclosures are missing."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.disclosure.services import disclosures_missing_pdf, store_disclosure_pdf
from resettle.errors import RuleViolation
from resettle.extensions import db
from resettle.translate import gettext as _

disclosures_cli = AppGroup("disclosures", help="Disclosures (信息公开).")


@disclosures_cli.command("pdfs")
def pdfs_command() -> None:
    """Render and store the PDF of every published disclosure that has none yet (those
    published before PDFs were kept, or whose job failed); each is committed as it is made."""
    made = 0
    with acting_as("cli"):
        for disclosure in disclosures_missing_pdf(db.session):
            try:
                stored = store_disclosure_pdf(db.session, disclosure)
            except RuleViolation as exc:
                db.session.rollback()
                click.echo(f"{disclosure.id}: {exc.message}", err=True)
                continue
            db.session.commit()
            made += 1
            click.echo(f"{disclosure.id} {disclosure.title}: {stored.size:,} B {stored.sha256}")
    click.echo(_("%(n)d disclosure PDFs made.", n=made))
