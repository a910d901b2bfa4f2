"""Every model, imported in one place so the metadata (and Alembic) see all tables."""

from resettle.agreements.models import Agreement, AgreementKind
from resettle.audit.models import AuditEvent
from resettle.auth.models import Role, User
from resettle.disclosure.models import Disclosure, DisclosureKind, DisclosureStatus
from resettle.documents.models import ArchivedDocument, DocumentSequence
from resettle.funds.models import (
    CompensationRule,
    FundSource,
    MonthCounting,
    Payment,
    PaymentKind,
    SourceKind,
)
from resettle.households.models import CaseStep, CompensationMode, Household, HouseholdMember, Stage
from resettle.jobs.models import Job, JobState
from resettle.notices.models import Notice, NoticeType
from resettle.plans.models import CalendarDay, OfficialYear, Plan, PlanKind, PlanLink, PlanNode
from resettle.projects.models import ExpropriationProject
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus
from resettle.spreadsheets.models import PendingUpload
from resettle.supervision.models import (
    ItemKind,
    OrderStatus,
    SupervisionItem,
    SupervisionOrder,
    SupervisionResponse,
)

__all__ = [
    "Job",
    "JobState",
    "Agreement",
    "AgreementKind",
    "AuditEvent",
    "Building",
    "CaseStep",
    "CompensationMode",
    "Disclosure",
    "DisclosureKind",
    "DisclosureStatus",
    "ExpropriationProject",
    "Household",
    "Payment",
    "PendingUpload",
    "CompensationRule",
    "FundSource",
    "MonthCounting",
    "SourceKind",
    "CalendarDay",
    "OfficialYear",
    "Plan",
    "PlanKind",
    "PlanLink",
    "PlanNode",
    "PaymentKind",
    "HouseholdMember",
    "ResettlementSite",
    "Role",
    "Stage",
    "Unit",
    "UnitStatus",
    "User",
    "ItemKind",
    "Notice",
    "ArchivedDocument",
    "DocumentSequence",
    "NoticeType",
    "OrderStatus",
    "SupervisionItem",
    "SupervisionOrder",
    "SupervisionResponse",
]
