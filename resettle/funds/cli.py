"""`flask funds ...`: a household's money and a project's fund plan, for scripts and checks."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from resettle import clock
from resettle.clitools import household_or_fail
from resettle.extensions import db
from resettle.funds.models import INCOMING_KINDS, PaymentKind
from resettle.funds.services import BALANCE_LABELS, fund_plan, household_money
from resettle.i18n import PAYMENT_KIND_LABELS
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _

funds_cli = AppGroup("funds", help="Fund scheduling: household money and fund plans.")


def _amount(value: object) -> str:
    return f"{value:.2f}"


@funds_cli.command("household")
@click.argument("case_no")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def household(case_no: str, as_json: bool) -> None:
    """Lines (label, amount, formula) and totals (due, paid, outstanding) of one household."""
    found = household_or_fail(case_no)
    result = household_money(db.session, found, as_of=clock.today())
    if result is None:
        raise click.ClickException(
            _("This project has no compensation rules yet: household money cannot be computed.")
        )
    due = result.outstanding + result.paid
    data = {
        "case_number": found.case_number,
        "rule_version": result.rule.version,
        "estimate": result.estimate,
        "lines": [
            {
                "key": line.key,
                "label": line.label,
                "amount": _amount(line.amount),
                "formula": line.formula,
            }
            for line in result.lines
        ]
        + [
            {
                "key": "receipt",
                "label": str(PAYMENT_KIND_LABELS[PaymentKind.RECEIPT]),
                "amount": _amount(receipt.amount),
                "formula": f"{receipt.paid_on.isoformat()} {receipt.voucher_number}",
            }
            for receipt in found.payments
            if receipt.kind in INCOMING_KINDS and not receipt.is_reversed
        ],
        "totals": {
            "total": _amount(result.total),
            "due": _amount(due),
            "paid": _amount(result.paid),
            "received": _amount(result.received),
            "outstanding": _amount(result.outstanding),
            "balance": result.balance.value,
        },
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for line in data["lines"]:
        click.echo(f"{line['label']}\t{line['amount']}\t{line['formula']}")
    for key, value in data["totals"].items():
        click.echo(f"{key}\t{value}")
    click.echo(f"{BALANCE_LABELS[result.balance]}\t{_amount(result.balance_amount)}")


@funds_cli.command("plan")
@click.option("--project", "code", required=True, help="Project code.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plan(code: str, as_json: bool) -> None:
    """The monthly fund plan (month, planned, paid, available, balance) and its first shortfall."""
    project = db.session.scalar(
        sa.select(ExpropriationProject).where(ExpropriationProject.code == code)
    )
    if project is None:
        raise click.ClickException(_("There is no project with the code %(code)s.", code=code))
    result = fund_plan(db.session, project)
    data = {
        "project": project.code,
        "months": [
            {
                "month": row.month,
                "planned": _amount(row.planned),
                "overrun": _amount(row.overrun),
                "paid": _amount(row.paid),
                "available": _amount(row.available),
                "balance": _amount(row.balance),
            }
            for row in result.months
        ],
        "first_shortfall_month": result.first_shortfall_month,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for row in data["months"]:
        click.echo("\t".join(row[k] for k in ("month", "planned", "paid", "available", "balance")))
    click.echo(f"first shortfall: {data['first_shortfall_month'] or 'none'}")
