"""`flask plan ...`: back-schedule a plan given as JSON, without the database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import IO

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

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


@plan_cli.command("replan")
@with_appcontext
def replan_command() -> None:
    """Schedule every plan again from today (run daily: forecasts move with the date)."""
    from resettle.audit.services import acting_as
    from resettle.extensions import db
    from resettle.plans.models import Plan
    from resettle.plans.services import replan_all

    with acting_as("plan-replan"):
        replan_all(db.session)
        db.session.commit()
    plans = db.session.scalars(sa.select(Plan).where(Plan.is_template.is_(False))).all()
    failed = [p for p in plans if p.schedule_error]
    click.echo(f"scheduled {len(plans) - len(failed)} plans")
    for plan in failed:
        click.echo(f"  plan {plan.id} {plan.name}: {plan.schedule_error}")
