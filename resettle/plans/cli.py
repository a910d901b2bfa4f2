"""`flask plan ...`: back-schedule a plan given as JSON, without the database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import IO

import click

from resettle.scheduling import SchedulingError, schedule_from_json

plan_cli = click.Group(
    "plan",
    help="Plans: back-scheduling (倒排工期) on working days of the China calendar.",
)


@plan_cli.command("schedule")
@click.argument("input_file", metavar="INPUT.json", type=click.File("r", encoding="utf-8"))
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Also forecast from actual dates and this day (YYYY-MM-DD): slip and critical path.",
)
def schedule_command(input_file: IO[str], today: datetime | None) -> None:
    """Print the deadlines (and, with --today, the forecast) of the plan in INPUT.json as JSON."""
    try:
        data = json.load(input_file)
    except UnicodeDecodeError:
        raise click.ClickException("input is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise click.ClickException(f"invalid JSON: {error}") from None
    except RecursionError:
        raise click.ClickException("invalid JSON: nested too deeply") from None
    try:
        result = schedule_from_json(data, today.date() if today else None)
    except SchedulingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
