"""`flask projects ...`: expropriation projects from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from resettle.projects.services import all_projects

projects_cli = AppGroup("projects", help="Expropriation projects.")


@projects_cli.command("list")
def list_command() -> None:
    """Print each project's code and name, tab-separated, by code."""
    for project in all_projects():
        click.echo(f"{project.code}\t{project.name}")
