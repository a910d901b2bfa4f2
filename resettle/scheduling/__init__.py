"""Pure back/forward scheduling of plans on working days: no Flask, no database."""

from resettle.scheduling.core import Dependency, Node, ScheduleResult, SchedulingError, schedule
from resettle.scheduling.jsonio import schedule_from_json

__all__ = [
    "Dependency",
    "Node",
    "ScheduleResult",
    "SchedulingError",
    "schedule",
    "schedule_from_json",
]
