"""What the `flask ...` commands share."""

from __future__ import annotations

from pathlib import Path

import click

from resettle.translate import gettext as _


def check_output_folder(out: Path) -> None:
    """Refuse an output file whose folder does not exist, before anything is made or saved
    (a notice is numbered and archived before its PDF is written)."""
    if not out.parent.is_dir():
        raise click.ClickException(_("There is no folder %(folder)s.", folder=out.parent))
