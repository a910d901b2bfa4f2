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
from resettle.privacy import is_pii_field, mask_field, personal, shown_audit_value
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
    PaymentKind.RECEIPT: _l("Receipt from the household (price difference, refund)"),
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
    "line_added": _l("Other compensation or deduction added"),
    "line_removed": _l("Other compensation or deduction removed"),
    "lookup": _l("Resident lookup"),
    "export": _l("Export (download)"),
    "pii_viewed": _l("Full personal data viewed"),
    "audit_pii_masked": _l("Personal data in earlier audit rows masked"),
    "audit_chained": _l("Earlier audit rows chained"),
    "audit_pruned": _l("Audit rows past their retention pruned"),
    "backup_created": _l("Backup made"),
    "backup_restored": _l("Backup restored"),
    "replan": _l("Re-planned"),
    "password_reset": _l("Password reset (one-time password)"),
    "unlock": _l("Account unlocked"),
    "account_disabled": _l("Account disabled"),
    "account_enabled": _l("Account enabled"),
    "projects_changed": _l("Projects changed"),
    "mfa_enrolled": _l("Authenticator app set up"),
    "mfa_new_codes": _l("New recovery codes"),
    "mfa_reset": _l("Second factor reset"),
    "mfa_failed": _l("Wrong second-factor code"),
    "mfa_recovery_used": _l("Recovery code used"),
    "reauth_failed": _l("Wrong password when confirming"),
}

ENTITY_LABELS = {
    "AuditEvent": _l("Audit trail"),
    "AuditChainHead": _l("End of the audit chain"),
    "Backup": _l("Backup"),
    "Job": _l("Background job"),
    "User": _l("User"),
    "PasswordHistory": _l("Earlier password"),
    "RecoveryCode": _l("Recovery code"),
    "UserProject": _l("Project of an account"),
    "ExpropriationProject": _l("Expropriation project"),
    "ResettlementSite": _l("Resettlement estate"),
    "Building": _l("Building"),
    "Unit": _l("Flat"),
    "Household": _l("Household"),
    "HouseholdMember": _l("Household member"),
    "CaseStep": _l("Case step"),
    "HouseholdFixture": _l("Fixture count"),
    "HouseholdAdjustment": _l("Other compensation or deduction"),
    "RulePriceItem": _l("Price-list item"),
    "Payment": _l("Payment"),
    "CompensationRule": _l("Compensation rules"),
    "FundSource": _l("Fund source"),
    "Plan": _l("Plan"),
    "PlanNode": _l("Plan node"),
    "OfficialYear": _l("Official holiday year"),
    "PlanLink": _l("Plan link"),
    "SupervisionResponse": _l("Supervision response"),
    "ArchivedDocument": _l("Archived document"),
    "DocumentSequence": _l("Document numbering"),
    # (the names these had in the audit trail before agreements were numbered too)
    "NoticeDocument": _l("Notice document"),
    "NoticeSequence": _l("Notice numbering"),
    "SupervisionItem": _l("Supervision item"),
    "SupervisionOrder": _l("Supervision order"),
    "Notice": _l("Notice"),
    "Agreement": _l("Agreement"),
    "Disclosure": _l("Disclosure"),
    "DisclosurePdf": _l("Disclosure PDF"),
    "CalendarDay": _l("Calendar day"),
    "PendingUpload": _l("Upload awaiting import"),
}


FIELD_LABELS = {
    # disclosure PDFs
    "disclosure_id": _l("Disclosure"),
    "rendered_at": _l("Rendered at"),
    "rendered_by_id": _l("Rendered by"),
    # background jobs
    "state": _l("State"),
    "params": _l("Parameters"),
    "done": _l("Done"),
    "attempts": _l("Attempts"),
    "message": _l("Message"),
    "file_path": _l("File"),
    "file_name": _l("File name"),
    "file_type": _l("File type"),
    "file_size": _l("File size"),
    "file_sha256": _l("File SHA-256"),
    "result": _l("Result"),
    "worker": _l("Worker"),
    "started_at": _l("Started at"),
    "finished_at": _l("Finished at"),
    "expires_at": _l("Kept until"),
    "case_number": _l("Case number"),
    "head_name": _l("Head of household"),
    "head_id_number": _l("ID number"),
    "phone": _l("Phone"),
    "download": _l("Download"),
    "filter": _l("Filter used"),
    "job": _l("Background job"),
    "house_address": _l("House address"),
    "legal_area": _l("Legal floor area (m²)"),
    "unregistered_area": _l("Unregistered area (m²)"),
    "house_use": _l("Use"),
    "appraisal_unit_price": _l("Appraised unit price (yuan/m²)"),
    "appraisal_value": _l("Appraised value (yuan)"),
    "compensation_mode": _l("Compensation mode"),
    "entitled_area": _l("Entitled resettlement area (m²)"),
    "transit_flat": _l("Transit flat"),
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
    "active": _l("Active"),
    "approved_at": _l("Approved at"),
    "approved_by_id": _l("Approved by"),
    "area": _l("Floor area (m²)"),
    "available_on": _l("Available on"),
    "band_m2": _l("First extra band (m²)"),
    "building_id": _l("Building"),
    "check_code": _l("Check code"),
    "amends_id": _l("Amends agreement"),
    "before_moving": _l("Paid before moving (yuan)"),
    "figures": _l("Agreed figures"),
    "signed_on": _l("Signed on"),
    "total": _l("Total"),
    "closed_by_id": _l("Closed by"),
    "closed_on": _l("Closing date"),
    "closing_note": _l("Closing remarks"),
    "code": _l("Project code"),
    "compensation_due_days": _l("Compensation due within (days after signing)"),
    "complete": _l("Complete"),
    "created_at": _l("Created at"),
    "token": _l("Token"),
    "scope_id": _l("Imported into (project or estate)"),
    "user_id": _l("Uploaded by"),
    "filename": _l("File name"),
    "content": _l("File content"),
    "preview": _l("What the check found"),
    "created_by_id": _l("Created by"),
    "critical": _l("Critical"),
    "day": _l("Date"),
    "days_late": _l("Days late"),
    "decision_date": _l("Decision date"),
    "decision_number": _l("Decision number"),
    "details": _l("Details"),
    "document_id": _l("Document"),
    "effective_from": _l("In force from"),
    "entered_at": _l("Entered at"),
    "entrance": _l("Entrance"),
    "failed_logins": _l("Failed logins"),
    "second_factor": _l("With the second factor"),
    "attempt": _l("Login attempt"),
    "replayed": _l("Code used before"),
    "first_page": _l("First page"),
    "floor": _l("Floor"),
    "floors": _l("Floors"),
    "forecast_start": _l("Forecast start"),
    "forecast_provisional": _l("Forecast provisional"),
    "full_name": _l("Full name"),
    "is_demo": _l("Demo account"),
    "is_template": _l("Template"),
    "issued_at": _l("Issued at"),
    "issued_by_id": _l("Issued by"),
    "issued_on": _l("Issued on"),
    "items_open_at_close": _l("Items open at closing"),
    "key": _l("Key"),
    "key_check": _l("Key fingerprint"),
    "voided_at": _l("Voided at"),
    "voided_by_id": _l("Voided by"),
    "void_reason": _l("Reason for voiding"),
    "base_hmac": _l("HMAC before the chain's start"),
    "base_seq": _l("Position before the chain's start"),
    "last_hmac": _l("Last HMAC"),
    "last_seq": _l("Last position"),
    "lag": _l("Lag (working days)"),
    "last_login_at": _l("Last login"),
    "last_number": _l("Last number"),
    "level": _l("Level"),
    "location": _l("Location"),
    "locked_until": _l("Locked until"),
    "month_counting": _l("Month counting"),
    "moving_allowance_per_m2": _l("Moving allowance (yuan/m², each move)"),
    "notice_count": _l("Notices"),
    "notice_id": _l("Notice"),
    "number": _l("Number"),
    "official": _l("Official"),
    "operator_id": _l("Operator"),
    "order_id": _l("Supervision order"),
    "overrun_tiers": _l("Overrun tiers"),
    "page_count": _l("Pages"),
    "pages": _l("Pages"),
    "payment_amount": _l("Payment on finishing (yuan)"),
    "pdf": _l("PDF"),
    "period_end": _l("Period ends"),
    "period_start": _l("Period starts"),
    "plan_id": _l("Plan"),
    "plan_node_id": _l("Plan node"),
    "position": _l("Position"),
    "predecessor_id": _l("Predecessor"),
    "prepared_at": _l("Prepared at"),
    "prepared_by_id": _l("Prepared by"),
    "price_beyond_band": _l("Flat price beyond the band (yuan/m²)"),
    "price_first_band": _l("Flat price in the first extra band (yuan/m²)"),
    "price_within_entitled": _l("Flat price within the entitled area (yuan/m²)"),
    "provisional": _l("Provisional"),
    "published_at": _l("Published at"),
    "recorded_at": _l("Recorded at"),
    "recorded_by_id": _l("Recorded by"),
    "rectify_by": _l("Rectify by"),
    "rectify_workdays": _l("Working days to rectify"),
    "remind_workdays": _l("Remind working days before"),
    "published": _l("On the public pages"),
    "responded_on": _l("Response date"),
    "reversal_reason": _l("Reason for reversal"),
    "reversed_at": _l("Reversed at"),
    "reversed_by_id": _l("Reversed by"),
    "role": _l("Role"),
    "row_count": _l("Rows"),
    "rows": _l("Rows"),
    "rule_id": _l("Compensation rules"),
    "schedule_error": _l("Scheduling problem"),
    "scheduled_at": _l("Scheduled at"),
    "scope": _l("Scope"),
    "sequence": _l("Sequence"),
    "sha256": _l("SHA-256"),
    "signing_bonus": _l("Signing bonus inside the window (yuan)"),
    "signing_end": _l("Signing window to"),
    "signing_start": _l("Signing window from"),
    "site_id": _l("Resettlement estate"),
    "size": _l("Size (bytes)"),
    "slip": _l("Slip (working days)"),
    "snapshot_as_of": _l("Snapshot as of"),
    "snapshot_sha256": _l("Snapshot SHA-256"),
    "subject": _l("Subject"),
    "successor_id": _l("Successor"),
    "supervise_workdays": _l("Supervise after working days"),
    "notice_workdays": _l("Notice period (working days)"),
    "temporary_allowance_per_m2_month": _l("Temporary allowance (yuan/m² a month)"),
    "text": _l("Response"),
    "title": _l("Title"),
    "transition_months": _l("Transition months"),
    "type": _l("Type"),
    "unit_name": _l("Unit"),
    "username": _l("Username"),
    "password_hash": _l("Password"),
    "session_token": _l("Session token"),
    "totp_secret": _l("Authenticator secret"),
    "totp_last_step": _l("Last authenticator code used"),
    "code_hash": _l("Recovery code"),
    "must_change_password": _l("Must change the password"),
    "all_projects": _l("Every project"),
    "projects": _l("Projects"),
    "password_changed_at": _l("Password set at"),
    "version": _l("Version"),
    "withdrawal_reason": _l("Reason for withdrawal"),
    "withdrawn_at": _l("Withdrawn at"),
    "withdrawn_by_id": _l("Withdrawn by"),
    "working": _l("Working day"),
    "year": _l("Year"),
    "signing_reward_tiers": _l("Signing reward tiers (signed on or before date: yuan)"),
    "moving_bonus_tiers": _l("Moving bonus tiers (vacated on or before date: yuan)"),
    "business_loss_method": _l("Business-loss compensation (non-residential use)"),
    "business_loss_percent": _l("Business loss: share of the house value (%)"),
    "business_loss_months": _l("Business loss: months"),
    "business_loss_per_m2_month": _l("Business loss: yuan/m² a month"),
    "lawful_unregistered_per_m2": _l("Unregistered building found lawful (yuan/m²)"),
    "hardship_subsidy": _l("Hardship subsidy per qualifying household (yuan)"),
    "decoration_value": _l("Appraised decoration (yuan)"),
    "business_area": _l("Area used for business (m², blank: the legal area)"),
    "lawful_unregistered_area": _l("Unregistered area found lawful (m²)"),
    "hardship": _l("Hardship (qualifies for the subsidy)"),
    "unit": _l("Unit of count"),
    "price": _l("Unit price (yuan)"),
    "quantity": _l("Quantity"),
    "label": _l("Item"),
    "added_by_id": _l("Added by"),
    "added_at": _l("Added at"),
}


# Where a column's name means something else on another record (a fund source's `kind` is not a
# payment type, its `name` not a person's).
ENTITY_FIELD_LABELS = {
    ("FundSource", "kind"): _l("Kind"),
    ("Disclosure", "kind"): _l("Kind"),
    ("Agreement", "kind"): _l("Kind"),
    ("Agreement", "total"): _l("Agreed amount (yuan)"),
    ("PendingUpload", "kind"): _l("Kind"),
    ("FundSource", "name"): _l("Source name"),
    ("PasswordHistory", "user_id"): _l("Account"),
    ("UserProject", "user_id"): _l("Account"),
    ("RecoveryCode", "user_id"): _l("Account"),
    ("PlanNode", "name"): _l("Node"),
    ("Plan", "name"): _l("Plan"),
    ("ExpropriationProject", "name"): _l("Project name"),
    ("ResettlementSite", "name"): _l("Estate name"),
    ("Building", "name"): _l("Building"),
    ("Unit", "number"): _l("Flat number"),
    ("Notice", "number"): _l("Notice number"),
    ("Notice", "type"): _l("Notice"),
    ("Unit", "status"): _l("Status"),
    ("RulePriceItem", "name"): _l("Item"),
    ("HouseholdFixture", "name"): _l("Item"),
}


def field_label(entity_type: str, field: str) -> Any:
    """The label of an audited column of a record type, as people read it."""
    return ENTITY_FIELD_LABELS.get((entity_type, field)) or FIELD_LABELS.get(field, field)


def audit_value(field: str, value: Any) -> Any:
    """A stored value as people read it: stages, modes and payment types by their names;
    ID numbers, phones and bank accounts masked, whoever reads (`privacy.PII_FIELDS`)."""
    if is_pii_field(field):
        if isinstance(value, list):
            return [shown_audit_value(field, v) for v in value]
        value = shown_audit_value(field, value)
    labels = {
        "stage": STAGE_LABELS,
        "compensation_mode": MODE_LABELS,
        "kind": PAYMENT_KIND_LABELS,
        "role": ROLE_LABELS,
    }
    if isinstance(value, bool):
        return _l("Yes") if value else _l("No")
    if field == "projects" and isinstance(value, list):
        return "、".join(value) or "—"
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
    app.jinja_env.globals["field_label"] = field_label
    app.jinja_env.globals["personal"] = personal
    app.jinja_env.globals["masked"] = mask_field

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
