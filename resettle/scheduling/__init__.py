"""Pure back/forward scheduling of plans on working days: no Flask, no database."""

from resettle.scheduling.core import (
    Dependency,
    Node,
    ScheduleResult,
    SchedulingError,
    provisional_span,
    schedule,
)
from resettle.scheduling.jsonio import schedule_from_json

__all__ = [
    "Dependency",
    "Node",
    "ScheduleResult",
    "SchedulingError",
    "provisional_span",
    "schedule",
    "schedule_from_json",
]
