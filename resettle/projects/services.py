"""Expropriation projects: creation and edits, with their checks."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from resettle import clock
from resettle.auth.models import Role, User
from resettle.errors import RuleViolation
from resettle.funds.services import renew_rule_for_new_terms
from resettle.projects.models import ExpropriationProject
from resettle.translate import gettext as _


@dataclass
class ProjectData:
    code: str
    name: str
    decision_number: str | None = None
    decision_date: date | None = None
    signing_start: date | None = None
    signing_end: date | None = None
    land_delivery_date: date | None = None
    transition_months: int = 24
    remind_workdays: int = 5
    supervise_workdays: int = 10
    notice_workdays: int = 10
    site_id: int | None = None


def _check(session: Session, data: ProjectData, project_id: int | None) -> ProjectData:
    data.code = (data.code or "").strip().upper()
    data.name = (data.name or "").strip()
    if not data.code:
        raise RuleViolation(_("The project code is required."), "code")
    if not data.name:
        raise RuleViolation(_("The project name is required."), "name")
    taken = session.scalar(
        sa.select(ExpropriationProject.id).where(
            ExpropriationProject.code == data.code, ExpropriationProject.id != (project_id or 0)
        )
    )
    if taken:
        raise RuleViolation(_("The project code %(code)s is taken.", code=data.code), "code")
    if data.signing_start and data.signing_end and data.signing_end < data.signing_start:
        raise RuleViolation(_("The signing window ends before it starts."), "signing_end")
    if data.decision_date and data.signing_start and data.signing_start < data.decision_date:
        raise RuleViolation(
            _("Signing cannot start before the expropriation decision."), "signing_start"
        )
    for name in ("transition_months", "remind_workdays", "supervise_workdays"):
        if getattr(data, name) is None or getattr(data, name) < 0:
            raise RuleViolation(_("Enter a whole number, zero or more."), name)
    if data.supervise_workdays < 1:
        raise RuleViolation(
            _("Supervision starts at least one working day after the deadline."),
            "supervise_workdays",
        )
    if data.notice_workdays is None or not 1 <= data.notice_workdays <= 120:
        raise RuleViolation(_("Enter a whole number from 1 to 120."), "notice_workdays")
    data.decision_number = (data.decision_number or "").strip() or None
    return data


def publish_project(session: Session, project: ExpropriationProject) -> bool:
    """Show the project on the public pages. False when it already was (a second click)."""
    if project.published:
        return False
    project.published = True
    session.flush()
    return True


def withdraw_project(session: Session, project: ExpropriationProject) -> bool:
    """Take the project off the public pages. False when it was not on them."""
    if not project.published:
        return False
    project.published = False
    session.flush()
    return True


def published_project_ids(session: Session) -> set[int]:
    return set(
        session.scalars(
            sa.select(ExpropriationProject.id).where(ExpropriationProject.published.is_(True))
        )
    )


def create_project(session: Session, data: ProjectData) -> ExpropriationProject:
    """Create an expropriation project after checking its code and dates."""
    data = _check(session, data, None)
    project = ExpropriationProject(**{f.name: getattr(data, f.name) for f in fields(data)})
    session.add(project)
    session.flush()
    return project


#: What decides what a household is owed besides the rules' amounts: changed by an admin only,
#: and never for households that signed (a new rule version carries the change).
ENTITLEMENT_FIELDS = ("signing_start", "signing_end", "transition_months")


def update_project(
    session: Session,
    project: ExpropriationProject,
    data: ProjectData,
    *,
    user: User | None = None,
    today: date | None = None,
) -> ExpropriationProject:
    """Save changes to a project after the same checks as on creation. The signing window and
    transition period are changed by an admin (or the CLI, `user` None) only, and go into a new
    compensation rule version: a household that signed keeps what it was owed."""
    data = _check(session, data, project.id)
    changed = [f for f in ENTITLEMENT_FIELDS if getattr(project, f) != getattr(data, f)]
    if changed and user is not None and user.role != Role.ADMIN:
        raise RuleViolation(
            _(
                "Only an administrator changes the signing window or the transition period: "
                "they decide what households are owed (a new version of the compensation rules)."
            ),
            changed[0],
        )
    moved = (project.land_delivery_date, project.site_id) != (data.land_delivery_date, data.site_id)
    for f in fields(data):
        setattr(project, f.name, getattr(data, f.name))
    session.flush()
    if changed:
        renew_rule_for_new_terms(session, project, on=today or clock.today())
    if moved:  # deadlines are set backwards from the promised date: re-plan at once
        from resettle.plans.services import replan_owner

        replan_owner(session, project_id=project.id)
    return project


def project_data(project: ExpropriationProject) -> ProjectData:
    return ProjectData(**{f.name: getattr(project, f.name) for f in fields(ProjectData)})


def all_projects(session: Session | None = None) -> list[ExpropriationProject]:
    """Projects by code, for filters and choices."""
    from resettle.extensions import db

    session = session or db.session
    return list(
        session.scalars(sa.select(ExpropriationProject).order_by(ExpropriationProject.code))
    )
