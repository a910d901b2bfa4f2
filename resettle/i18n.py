"""Locale selection and the labels and formats templates share."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Flask, current_app, has_request_context, session
from flask_babel import format_datetime

from resettle.auth.models import Role
from resettle.funds.models import PaymentKind, SourceKind
from resettle.households.models import CompensationMode, Stage
from resettle.translate import lazy_gettext as _l

STAGE_LABELS = {
    Stage.SURVEYED: _l("Surveyed"),
    Stage.APPRAISED: _l("Appraised"),
    Stage.SIGNED: _l("Signed"),
    Stage.VACATED: _l("Vacated"),
    Stage.DEMOLISHED: _l("Demolished"),
    Stage.SELECTED: _l("Unit selected"),
    Stage.HANDED_OVER: _l("Handed over"),
    Stage.SETTLED: _l("Settled"),
    Stage.CLOSED: _l("Closed"),
}

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.CASEWORKER: _l("Caseworker"),
    Role.SUPERVISOR: _l("Supervision office"),
    Role.LEADER: _l("Leader"),
}

MODE_LABELS = {
    CompensationMode.MONEY: _l("Money compensation"),
    CompensationMode.SWAP: _l("Property swap"),
    CompensationMode.MIXED: _l("Money and property swap"),
}

PAYMENT_KIND_LABELS = {
    PaymentKind.COMPENSATION: _l("Compensation"),
    PaymentKind.MOVING_ALLOWANCE: _l("Moving allowance"),
    PaymentKind.TEMPORARY_ALLOWANCE: _l("Temporary resettlement allowance"),
    PaymentKind.BONUS: _l("Signing bonus"),
    PaymentKind.SETTLEMENT: _l("Price difference settlement"),
    PaymentKind.OTHER: _l("Other"),
}

SOURCE_KIND_LABELS = {
    SourceKind.FISCAL: _l("Fiscal allocation"),
    SourceKind.SPECIAL_BOND: _l("Special-purpose bond"),
    SourceKind.PLATFORM: _l("Platform company"),
    SourceKind.OTHER: _l("Other"),
}

ACTION_LABELS = {
    "insert": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "login_failed": _l("Failed login"),
    "login_refused_locked": _l("Login refused: account locked"),
    "lockout": _l("Account locked"),
    "undo_step": _l("Step undone"),
}

ENTITY_LABELS = {
    "User": _l("User"),
    "ExpropriationProject": _l("Expropriation project"),
    "ResettlementSite": _l("Resettlement estate"),
    "Building": _l("Building"),
    "Unit": _l("Flat"),
    "Household": _l("Household"),
    "HouseholdMember": _l("Household member"),
    "CaseStep": _l("Case step"),
    "Payment": _l("Payment"),
    "CompensationRule": _l("Compensation rules"),
    "FundSource": _l("Fund source"),
    "Plan": _l("Plan"),
    "PlanNode": _l("Plan node"),
}


FIELD_LABELS = {
    "case_number": _l("Case number"),
    "head_name": _l("Head of household"),
    "head_id_number": _l("ID number"),
    "phone": _l("Phone"),
    "house_address": _l("House address"),
    "legal_area": _l("Legal floor area (m²)"),
    "unregistered_area": _l("Unregistered area (m²)"),
    "house_use": _l("Use"),
    "appraisal_unit_price": _l("Appraised unit price (yuan/m²)"),
    "appraisal_value": _l("Appraised value (yuan)"),
    "compensation_mode": _l("Compensation mode"),
    "entitled_area": _l("Entitled resettlement area (m²)"),
    "selection_order": _l("Selection order number"),
    "caseworker_id": _l("Responsible caseworker"),
    "stage": _l("Stage"),
    "note": _l("Note"),
    "project_id": _l("Expropriation project"),
    "actual_date": _l("Date"),
    "deadline": _l("Deadline"),
    "status": _l("Status"),
    "household_id": _l("Household"),
    "name": _l("Name"),
    "relation": _l("Relation"),
    "id_number": _l("ID number"),
    "amount": _l("Amount (yuan)"),
    "paid_on": _l("Paid on"),
    "voucher_number": _l("Voucher number"),
    "payee": _l("Payee"),
    "kind": _l("Payment type"),
    "reason": _l("Reason"),
    "duration": _l("Duration (working days, 0 = milestone)"),
    "planned_start": _l("Deadline start"),
    "planned_finish": _l("Deadline"),
    "forecast_finish": _l("Forecast finish"),
    "actual_start": _l("Actual start"),
    "actual_finish": _l("Actual finish"),
    "responsible_unit": _l("Responsible unit"),
    "responsible_person": _l("Responsible person"),
    "leader": _l("Leader"),
    "land_delivery_date": _l("Land delivery date"),
    "promised_handover_date": _l("Promised handover date"),
}


def audit_value(field: str, value: Any) -> Any:
    """A stored value as people read it: stages, modes and payment types by their names."""
    labels = {"stage": STAGE_LABELS, "compensation_mode": MODE_LABELS, "kind": PAYMENT_KIND_LABELS}
    table = labels.get(field)
    if table is not None and value is not None:
        for key, label in table.items():
            if key.value == value:
                return label
    if field == "stage" and isinstance(value, list):
        return [audit_value(field, v) for v in value]
    return "—" if value in (None, "") else value


def select_locale() -> str:
    """The language chosen in this session, else Chinese (also outside requests: CLI)."""
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def format_money(value: Decimal | None) -> str:
    """¥-less yuan with thousands separators and two decimals: 1,234,567.80."""
    if value is None:
        return "—"
    return f"{value:,.2f}"


def format_date(value: date | None) -> str:
    if value is None:
        return "—"
    return value.isoformat()


def format_percent(value: float | None) -> str:
    """A share as a percentage with one decimal: 0.8234 → 82.3%."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"


def format_local_time(value: datetime | None) -> str:
    """A UTC time shown in Asia/Shanghai."""
    if value is None:
        return "—"
    return format_datetime(value, "yyyy-MM-dd HH:mm:ss")


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["isodate"] = format_date
    app.jinja_env.filters["localtime"] = format_local_time
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.globals["audit_value"] = audit_value

    @app.context_processor
    def labels() -> dict[str, Any]:
        return {
            "STAGE_LABELS": STAGE_LABELS,
            "ROLE_LABELS": ROLE_LABELS,
            "MODE_LABELS": MODE_LABELS,
            "PAYMENT_KIND_LABELS": PAYMENT_KIND_LABELS,
            "SOURCE_KIND_LABELS": SOURCE_KIND_LABELS,
            "ACTION_LABELS": ACTION_LABELS,
            "ENTITY_LABELS": ENTITY_LABELS,
            "FIELD_LABELS": FIELD_LABELS,
            "current_locale": select_locale(),
            "LANGUAGES": app.config["LANGUAGES"],
        }
