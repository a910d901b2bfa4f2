"""`flask demo ...`: realistic demo data for trying the system out."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from resettle.audit.services import acting_as
from resettle.demo.services import database_is_empty, reset_demo_accounts, seed_demo
from resettle.extensions import db
from resettle.translate import gettext as _

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option(
    "--households",
    default=400,
    show_default=True,
    type=click.IntRange(1, 200_000),
    help="The estate has 600 flats and gets more buildings when more households need one.",
)
@click.option("--seed", default=2025, show_default=True, type=int, help="Same seed, same data.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has projects already.")
def seed(households: int, seed: int, if_empty: bool) -> None:
    """Fill an empty database with two projects, one estate and demo households."""
    if not database_is_empty(db.session):
        if if_empty:
            click.echo("the database has data already; demo data not loaded")
            return
        raise click.ClickException(
            _("The database is not empty; demo data goes into an empty one.")
        )
    with acting_as("demo-seed"):
        summary = seed_demo(db.session, households=households, seed=seed, disclosure_pdfs=True)
        db.session.commit()
    click.echo(
        f"demo data: {summary['projects']} projects, {summary['households']} households, "
        f"{summary['units']} units"
    )


@demo_cli.command("accounts")
def accounts() -> None:
    """Give the demo accounts new random passwords and print how to log in."""
    with acting_as("demo-accounts"):
        credentials = reset_demo_accounts(db.session)
        db.session.commit()
    if not credentials:
        click.echo("no demo accounts in this database")
        return
    click.echo("Log in at http://127.0.0.1:5000 with one of these demo accounts:")
    for username, role, password in credentials:
        click.echo(f"  {role:<11} user: {username:<16} password: {password}")
