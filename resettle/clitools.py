"""What the `flask ...` commands share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa

from resettle.translate import gettext as _

if TYPE_CHECKING:
    from resettle.households.models import Household


def check_output_folder(out: Path) -> None:
    """Refuse an output file whose folder does not exist, before anything is made or saved
    (a notice is numbered and archived before its PDF is written)."""
    if not out.parent.is_dir():
        raise click.ClickException(_("There is no folder %(folder)s.", folder=out.parent))


def household_or_fail(case_number: str) -> Household:
    """The household with this case number (spaces aside), or the command stops with a message
    (and whatever it opened is rolled back)."""
    from resettle.extensions import db
    from resettle.households.models import Household

    household = db.session.scalar(
        sa.select(Household).where(Household.case_number == case_number.strip())
    )
    if household is None:
        db.session.rollback()
        raise click.ClickException(
            _("There is no household with the case number %(number)s.", number=case_number)
        )
    return household


def write_reprint(out: Path, pdf: bytes, number: str, sha256: str) -> None:
    """Write an archived document's bytes as they were issued, and print its number and hash."""
    out.write_bytes(pdf)
    click.echo(f"{number}\t{sha256}")
