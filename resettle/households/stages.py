"""A household's path through the case stages (DOMAIN.md, "Household stages"): the one home
of the stage order, of which stages a compensation mode goes through, of what comes next, and
of the same rules as SQL expressions for the lists.

Pure: no Flask, no session. Every page, list, export and check asks this module, so a staff
page, the resident's page and the supervision office cannot disagree about a household's path.

A household compensated in money only skips selection and handover (选房, 交付). A household
whose mode is not known yet goes the full path: until the mode is chosen it may still get a
flat, so a caseworker cannot exclude selection and handover (DOMAIN.md is silent; this is the
reading the issue asks for).
"""

from __future__ import annotations

import sqlalchemy as sa

from resettle.households.models import CompensationMode, Stage

STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)
STAGE_RANK: dict[Stage, int] = {stage: rank for rank, stage in enumerate(STAGE_ORDER)}
SWAP_MODES: tuple[CompensationMode, ...] = (CompensationMode.SWAP, CompensationMode.MIXED)
FLAT_STAGES: tuple[Stage, ...] = (Stage.SELECTED, Stage.HANDED_OVER)  # only with a flat


def rank(stage: Stage) -> int:
    """The stage's position in the order (surveyed = 0)."""
    return STAGE_RANK[Stage(stage)]


def reached(current: Stage, stage: Stage) -> bool:
    """True when a household at `current` has reached `stage` (or gone past it)."""
    return rank(current) >= rank(stage)


def gets_flat(mode: CompensationMode | None) -> bool:
    """True when the household's path goes through selection and handover: a swap, or a mode
    not chosen yet (it may still become one)."""
    return mode != CompensationMode.MONEY


def on_path(mode: CompensationMode | None, stage: Stage) -> bool:
    """True when a household with this compensation mode goes through `stage`."""
    return gets_flat(mode) or Stage(stage) not in FLAT_STAGES


def path(mode: CompensationMode | None) -> tuple[Stage, ...]:
    """The stages a household with this compensation mode goes through, in order."""
    return tuple(s for s in STAGE_ORDER if on_path(mode, s))


def next_stage(mode: CompensationMode | None, current: Stage) -> Stage | None:
    """The stage to record after `current`, or None when the case is closed."""
    later = [s for s in path(mode) if rank(s) > rank(current)]
    return later[0] if later else None


def in_transition(mode: CompensationMode | None, current: Stage) -> bool:
    """A swap household is in transition (过渡) from vacating until the flat is handed over."""
    return (
        mode in SWAP_MODES
        and reached(current, Stage.VACATED)
        and not reached(current, Stage.HANDED_OVER)
    )


TRANSITION_STAGES: tuple[Stage, ...] = tuple(
    s for s in STAGE_ORDER if in_transition(CompensationMode.SWAP, s)
)


# --- the same rules in SQL ---------------------------------------------------------------------


def rank_sql(column: sa.ColumnElement) -> sa.ColumnElement[int]:
    """A stage column as its position in the order, for comparisons in SQL."""
    return sa.case({s.value: r for s, r in STAGE_RANK.items()}, value=column)


def on_path_sql(
    mode_column: sa.ColumnElement, stage: Stage | sa.ColumnElement
) -> sa.ColumnElement[bool]:
    """SQL for `on_path`: the household's mode column goes through `stage` (a Stage or a
    stage column)."""
    gets_flat_sql = sa.or_(mode_column.is_(None), mode_column != CompensationMode.MONEY)
    if isinstance(stage, Stage):
        return sa.true() if stage not in FLAT_STAGES else gets_flat_sql
    return sa.or_(stage.not_in(FLAT_STAGES), gets_flat_sql)


def before_sql(stage_column: sa.ColumnElement, stage: Stage) -> sa.ColumnElement[bool]:
    """SQL: the household's current stage comes before `stage` (so `stage` is still open)."""
    return stage_column.in_([s for s in STAGE_ORDER if rank(s) < rank(stage)])
