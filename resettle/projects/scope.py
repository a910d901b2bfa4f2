"""Projects (片区) are the boundary: which projects an account sees, and the one query scope that
keeps everything else out.

`visible_project_ids()` is the only home of "which projects this account sees". Every ORM
statement run inside a request of a staff account bounded by projects gets loader criteria for
each project-owned model (`_criteria`), so lists, counts, searches, exports and the routes that
load an object by id (which then answer 404) see only that account's projects. Core statements
(`Model.__table__`) do not get loader criteria: they call `visible_project_ids()` themselves.

Outside a request (CLI), on public pages, for anonymous users and for accounts that see every
project, nothing is added. A background job runs `scoped_to()` the projects of the account that
started it, so its statements are bounded as that account's requests are.
`all_projects_visible()` lifts the scope explicitly.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

_COMPUTING = object()
_UNSCOPED_OPTION = "all_projects"
_UNSET: Any = object()
#: The scope of a background job (outside a request): the starting account's projects.
_job_scope: contextvars.ContextVar[Any] = contextvars.ContextVar("project_scope", default=_UNSET)


def visible_project_ids() -> frozenset[int] | None:
    """The ids of the projects the current account sees, or None when it is bounded by none
    (outside a request, public pages, anonymous, admins and accounts given every project)."""
    if not has_request_context():
        scope = _job_scope.get()
        return None if scope is _UNSET else scope
    # Kept on the request, not on `g`: an app context (and its `g`) may outlive one request.
    state = request.environ.setdefault("resettle.project_scope", {})
    if "scope" in state:
        return state["scope"]
    if state.get("computing"):
        return None  # loading the account itself
    state["computing"] = True
    try:
        scope = _compute_scope()
    finally:
        state["computing"] = False
    state["scope"] = scope
    return scope


def _compute_scope() -> frozenset[int] | None:
    view = current_app.view_functions.get(request.endpoint or "")
    policy = getattr(view, "access_policy", None)
    if view is None or policy is None or policy.public:
        return None
    from flask_login import current_user

    if not current_user.is_authenticated or current_user.sees_every_project:
        return None
    return current_user.project_ids


def sees_project(project_id: int | None) -> bool:
    """Whether the current account sees this project."""
    ids = visible_project_ids()
    return ids is None or project_id in ids


@contextmanager
def scoped_to(ids: frozenset[int] | None) -> Iterator[None]:
    """Bound the statements run inside (outside a request: a background job) to `ids`, or to
    nothing with None. Inside a request the request's own scope stays."""
    token = _job_scope.set(ids)
    try:
        yield
    finally:
        _job_scope.reset(token)


@contextmanager
def all_projects_visible() -> Iterator[None]:
    """Lift the scope for the statements run inside (code that must see every project)."""
    if not has_request_context():
        with scoped_to(None):
            yield
        return
    state = request.environ.setdefault("resettle.project_scope", {})
    previous = state.get("scope", _COMPUTING)
    state["scope"] = None
    try:
        yield
    finally:
        if previous is _COMPUTING:
            state.pop("scope", None)
        else:
            state["scope"] = previous


@lru_cache(maxsize=256)
def _criteria(ids: frozenset[int]) -> tuple[Any, ...]:
    """Loader criteria for every project-owned model, for an account that sees `ids`. Built
    once per set of projects: building them for every statement cost a bounded account's
    household list about 18 ms a page (100,000 households, SQLite)."""
    from resettle.agreements.models import Agreement
    from resettle.disclosure.models import Disclosure
    from resettle.documents.models import ArchivedDocument
    from resettle.funds.models import CompensationRule, FundSource, Payment, RulePriceItem
    from resettle.households.models import (
        CaseStep,
        Household,
        HouseholdAdjustment,
        HouseholdFixture,
        HouseholdMember,
    )
    from resettle.notices.models import Notice
    from resettle.plans.models import Plan, PlanNode
    from resettle.projects.models import ExpropriationProject
    from resettle.sites.models import Building, ResettlementSite, Unit
    from resettle.supervision.models import SupervisionItem, SupervisionOrder, SupervisionResponse

    # Loader criteria reach into subqueries too: a subquery of a model here is itself scoped,
    # so each model names its parent plainly (and no chain loops back on itself).
    ids_list = sorted(ids)

    # A household-owned row is seen through a correlated EXISTS on the household's primary
    # key: one index lookup per row, where `IN (SELECT ...)` builds the list of every household
    # of the projects first.
    household = sa.exists().where(Household.project_id.in_(ids_list)).correlate_except(Household)

    # An estate (resettlement site) is shared: seen when one of the account's projects uses it.
    sites = sa.select(ExpropriationProject.site_id)
    nodes = sa.select(PlanNode.id)
    orders = sa.select(SupervisionOrder.id)
    # Each criterion is a function of the entity, so that an alias (aliased(Household) in a
    # subquery) is bounded by its own columns: a plain clause would name the outer table and
    # make PostgreSQL run the subquery once per row (the overdue list took minutes). The
    # functions name only SQL elements and `ids_list` (SQLAlchemy caches them by their code
    # and tracks those values; a helper function in between would hide them from it).
    options: list[tuple[Any, Any]] = [
        (ExpropriationProject, lambda cls: cls.id.in_(ids_list)),
        (Household, lambda cls: cls.project_id.in_(ids_list)),
        (HouseholdMember, lambda cls: household.where(Household.id == cls.household_id)),
        (CaseStep, lambda cls: household.where(Household.id == cls.household_id)),
        (HouseholdFixture, lambda cls: household.where(Household.id == cls.household_id)),
        (HouseholdAdjustment, lambda cls: household.where(Household.id == cls.household_id)),
        (Disclosure, lambda cls: cls.project_id.in_(ids_list)),
        (CompensationRule, lambda cls: cls.project_id.in_(ids_list)),
        (RulePriceItem, lambda cls: cls.rule_id.in_(sa.select(CompensationRule.id))),
        (FundSource, lambda cls: cls.project_id.in_(ids_list)),
        (
            Payment,
            lambda cls: sa.or_(
                household.where(Household.id == cls.household_id), cls.plan_node_id.in_(nodes)
            ),
        ),
        (ResettlementSite, lambda cls: cls.id.in_(sites)),
        (Building, lambda cls: cls.site_id.in_(sa.select(ResettlementSite.id))),
        (Unit, lambda cls: cls.building_id.in_(sa.select(Building.id))),
        (
            Plan,
            lambda cls: sa.or_(
                cls.project_id.in_(ids_list),
                cls.site_id.in_(sa.select(ResettlementSite.id)),
                cls.is_template,
            ),
        ),
        (PlanNode, lambda cls: cls.plan_id.in_(sa.select(Plan.id))),
        (
            SupervisionItem,
            lambda cls: sa.or_(
                household.where(Household.id == cls.household_id), cls.plan_node_id.in_(nodes)
            ),
        ),
        (SupervisionOrder, lambda cls: cls.id.in_(sa.select(SupervisionItem.order_id))),
        (SupervisionResponse, lambda cls: cls.order_id.in_(orders)),
        (
            Notice,
            lambda cls: sa.or_(
                household.where(Household.id == cls.household_id),
                cls.id.in_(sa.select(SupervisionOrder.notice_id)),
            ),
        ),
        (Agreement, lambda cls: household.where(Household.id == cls.household_id)),
        (
            ArchivedDocument,
            lambda cls: sa.or_(
                cls.id.in_(sa.select(Notice.document_id)),
                cls.id.in_(sa.select(Agreement.document_id)),
            ),
        ),
    ]
    return tuple(
        with_loader_criteria(model, clause, include_aliases=True) for model, clause in options
    )


SCOPED_MODEL_NAMES = frozenset(
    {
        "ExpropriationProject",
        "Household",
        "HouseholdMember",
        "CaseStep",
        "HouseholdFixture",
        "HouseholdAdjustment",
        "Disclosure",
        "CompensationRule",
        "RulePriceItem",
        "FundSource",
        "Payment",
        "ResettlementSite",
        "Building",
        "Unit",
        "Plan",
        "PlanNode",
        "SupervisionOrder",
        "SupervisionItem",
        "SupervisionResponse",
        "Notice",
        "ArchivedDocument",
        "Agreement",
    }
)


def _active_scope(state: ORMExecuteState | None = None) -> frozenset[int] | None:
    if state is not None and state.execution_options.get(_UNSCOPED_OPTION):
        return None
    return visible_project_ids()


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    ids = _active_scope(state)
    if ids is None:
        return
    state.statement = state.statement.options(*_criteria(ids))


def _pk_attribute(mapper: Any) -> Any:
    return mapper.get_property_by_column(mapper.primary_key[0]).class_attribute


class ProjectScopedSession(FlaskSession):
    """`Session.get` answers from the identity map without running a statement, so without
    the scope: for a project-owned model under a scope it asks the database first."""

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        mapper = sa.inspect(entity)
        if mapper.class_.__name__ in SCOPED_MODEL_NAMES and _active_scope() is not None:
            try:
                key = int(ident)
            except (TypeError, ValueError):
                return None
            pk = _pk_attribute(mapper)  # the ORM attribute: a Table column would not be scoped
            seen = self.execute(sa.select(pk).where(pk == key)).first()
            if seen is None:
                return None
        return super().get(entity, ident, **kwargs)
