"""Resettlement estates: sites, buildings and flats, the unit import, and flat selection (选房)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from resettle import clock
from resettle.audit.services import record_event
from resettle.auth.models import User
from resettle.db import begin_write, money
from resettle.errors import RuleViolation
from resettle.households.models import Household, Stage
from resettle.households.services import record_step, stage_label, step_for
from resettle.households.stages import SWAP_MODES
from resettle.sites.models import Building, ResettlementSite, Unit, UnitStatus
from resettle.spreadsheets.problems import RowErrors
from resettle.translate import gettext as _
from resettle.translate import lazy_gettext as _l

MAX_FLOORS = 100
MAX_ENTRANCES = 20
MAX_FLATS_PER_FLOOR = 20
MAX_AREA = Decimal("1000.00")

UNIT_STATUS_LABELS = {
    UnitStatus.AVAILABLE: _l("Available"),
    UnitStatus.RESERVED: _l("Reserved"),
    UnitStatus.ALLOCATED: _l("Allocated"),
    UnitStatus.HANDED_OVER: _l("Handed over to the household"),
}


# --- sites -----------------------------------------------------------------------------------


@dataclass
class SiteData:
    """The editable fields of an estate."""

    name: str
    location: str | None = None
    promised_handover_date: date | None = None


def _check_site(session: Session, data: SiteData, site_id: int | None) -> SiteData:
    data.name = " ".join((data.name or "").split())
    data.location = (data.location or "").strip() or None
    if not data.name:
        raise RuleViolation(_("The name of the estate is required."), "name")
    taken = session.scalar(
        sa.select(ResettlementSite.id).where(
            ResettlementSite.name == data.name, ResettlementSite.id != (site_id or 0)
        )
    )
    if taken:
        raise RuleViolation(_("An estate named %(name)s exists already.", name=data.name), "name")
    return data


def create_site(session: Session, data: SiteData) -> ResettlementSite:
    """Create a resettlement estate (安置房项目) with a unique name."""
    data = _check_site(session, data, None)
    site = ResettlementSite(
        name=data.name,
        location=data.location,
        promised_handover_date=data.promised_handover_date,
    )
    session.add(site)
    session.flush()
    return site


def update_site(session: Session, site: ResettlementSite, data: SiteData) -> ResettlementSite:
    """Save the name, location and promised handover date of an estate (a new date re-plans)."""
    data = _check_site(session, data, site.id)
    moved = site.promised_handover_date != data.promised_handover_date
    site.name = data.name
    site.location = data.location
    site.promised_handover_date = data.promised_handover_date
    session.flush()
    if moved:  # deadlines are set backwards from the promised date: re-plan at once
        from resettle.plans.services import replan_owner

        replan_owner(session, site_id=site.id)
    return site


def site_data(site: ResettlementSite) -> SiteData:
    """The editable fields of an estate, to fill its form."""
    return SiteData(site.name, site.location, site.promised_handover_date)


@dataclass
class SiteRow:
    """One line of the estate list: the estate and its flats counted by status."""

    site: ResettlementSite
    buildings: int
    complete_buildings: int
    by_status: dict[UnitStatus, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def site_overview(session: Session) -> list[SiteRow]:
    """Every estate by name, with its buildings and flats per status."""
    rows = {
        site.id: SiteRow(site, 0, 0, {status: 0 for status in UnitStatus})
        for site in session.scalars(sa.select(ResettlementSite).order_by(ResettlementSite.name))
    }
    buildings = session.execute(
        sa.select(Building.site_id, Building.complete, sa.func.count()).group_by(
            Building.site_id, Building.complete
        )
    )
    for site_id, complete, count in buildings:
        rows[site_id].buildings += count
        if complete:
            rows[site_id].complete_buildings += count
    units = session.execute(
        sa.select(Building.site_id, Unit.status, sa.func.count())
        .join(Unit, Unit.building_id == Building.id)
        .group_by(Building.site_id, Unit.status)
    )
    for site_id, status, count in units:
        rows[site_id].by_status[status] = count
    return list(rows.values())


# --- buildings and flats ---------------------------------------------------------------------


def normalise_text(value: str | None) -> str:
    """Full-width forms to half-width (NFKC) and every space removed: '１ 单元' -> '1单元'."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))


def parse_area(value: Decimal | int | str | None, field_name: str = "area") -> Decimal:
    """An area in m², two decimals, more than zero and plausible for a flat."""
    text = normalise_text(str(value) if value is not None else "")
    text = re.sub(r"(m2|㎡|平方米|平米)$", "", text, flags=re.IGNORECASE)
    try:
        area = money(text)
    except (InvalidOperation, ValueError):
        raise RuleViolation(
            _("Enter an area in square metres, such as 89.50."), field_name
        ) from None
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        raise RuleViolation(
            _("An area is more than zero and at most %(max)s m².", max=MAX_AREA), field_name
        )
    return area


def parse_areas(text: str | None) -> list[Decimal]:
    """Areas typed in one field, separated by commas, '、' or spaces: '89.5, 120' -> [89.50, 120.00]."""
    parts = [p for p in re.split(r"[,;，；、\s]+", unicodedata.normalize("NFKC", text or "")) if p]
    return [parse_area(p, "flat_areas") for p in parts]


@dataclass
class BuildingData:
    """A building and the flats to generate: entrances × floors × flats per floor.

    `flat_areas` gives the area of each flat position on a floor (01, 02, …), or one area for all;
    with `flats_per_floor` = 0 the building starts empty (flats added one by one or imported).
    """

    name: str
    floors: int
    entrances: int = 1
    flats_per_floor: int = 0
    flat_areas: Sequence[Decimal | str] = ()


def _check_building_name(session: Session, site: ResettlementSite, name: str | None) -> str:
    name = normalise_text(name)
    if not name:
        raise RuleViolation(_("The name of the building is required."), "name")
    if len(name) > 50:
        raise RuleViolation(_("At most %(n)d characters.", n=50), "name")
    taken = session.scalar(
        sa.select(Building.id).where(Building.site_id == site.id, Building.name == name)
    )
    if taken:
        raise RuleViolation(_("%(name)s exists already in this estate.", name=name), "name")
    return name


def add_building(session: Session, site: ResettlementSite, data: BuildingData) -> Building:
    """Add a building to an estate and generate its flats, numbered floor + position (1502)."""
    name = _check_building_name(session, site, data.name)
    if data.floors is None or not 1 <= data.floors <= MAX_FLOORS:
        raise RuleViolation(_("A building has 1 to %(n)d floors.", n=MAX_FLOORS), "floors")
    if data.entrances is None or not 1 <= data.entrances <= MAX_ENTRANCES:
        raise RuleViolation(_("A building has 1 to %(n)d entrances.", n=MAX_ENTRANCES), "entrances")
    per_floor = data.flats_per_floor or 0
    if not 0 <= per_floor <= MAX_FLATS_PER_FLOOR:
        raise RuleViolation(
            _("Enter 0 to %(n)d flats per floor.", n=MAX_FLATS_PER_FLOOR), "flats_per_floor"
        )
    areas = [parse_area(a, "flat_areas") for a in data.flat_areas]
    if per_floor and len(areas) == 1:
        areas = areas * per_floor
    if len(areas) != per_floor:
        raise RuleViolation(
            _(
                "Enter one area for each flat on a floor (%(n)d), in the order of their numbers, "
                "or one area for all of them.",
                n=per_floor,
            ),
            "flat_areas",
        )
    building = Building(site=site, name=name, floors=data.floors, complete=False)
    session.add(building)
    for entrance in range(1, data.entrances + 1):
        for floor in range(1, data.floors + 1):
            for position, area in enumerate(areas, start=1):
                building.units.append(
                    Unit(
                        entrance=str(entrance),
                        floor=floor,
                        number=f"{floor}{position:02d}",
                        area=area,
                        status=UnitStatus.AVAILABLE,
                    )
                )
    session.flush()
    return building


@dataclass
class UnitData:
    """One flat: entrance (单元), floor, number (室号) and floor area."""

    entrance: str
    floor: int
    number: str
    area: Decimal | str


def clean_entrance(value: str | None) -> str:
    """'１单元' and '1' are the same entrance; an empty entrance is the only one, '1'."""
    text = re.sub(r"单元$", "", normalise_text(value))
    return text or "1"


def clean_number(value: str | None) -> str:
    """'1502室' and ' 1502 ' are flat 1502."""
    return re.sub(r"[室号]$", "", normalise_text(value))


def add_unit(session: Session, building: Building, data: UnitData) -> Unit:
    """Add one flat to a building (a flat the generator did not make, or a corrected one)."""
    entrance = clean_entrance(data.entrance)
    number = clean_number(data.number)
    if not number:
        raise RuleViolation(_("The flat number is required."), "number")
    for value, name in ((entrance, "entrance"), (number, "number")):
        if len(value) > 10:
            raise RuleViolation(_("At most %(n)d characters.", n=10), name)
    if data.floor is None or not 1 <= data.floor <= building.floors:
        raise RuleViolation(
            _(
                "%(building)s has floors 1 to %(floors)d.",
                building=building.name,
                floors=building.floors,
            ),
            "floor",
        )
    area = parse_area(data.area)
    taken = session.scalar(
        sa.select(Unit.id).where(
            Unit.building_id == building.id, Unit.entrance == entrance, Unit.number == number
        )
    )
    if taken:
        raise RuleViolation(
            _("%(flat)s exists already.", flat=f"{building.name}{entrance}单元{number}室"), "number"
        )
    unit = Unit(
        building=building,
        entrance=entrance,
        floor=data.floor,
        number=number,
        area=area,
        status=UnitStatus.AVAILABLE,
    )
    session.add(unit)
    session.flush()
    return unit


def mark_building_complete(session: Session, building: Building) -> Building:
    """Record that a building is complete (竣工): only then can its flats be handed over."""
    if building.complete:
        raise RuleViolation(
            _("%(building)s is marked complete already.", building=building.name), "building"
        )
    building.complete = True
    session.flush()
    return building


@dataclass
class FloorRow:
    floor: int
    units: list[Unit]


@dataclass
class BuildingGrid:
    """A building's flats by floor, top floor first, for the estate page."""

    building: Building
    floors: list[FloorRow]
    by_status: dict[UnitStatus, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def site_grid(session: Session, site: ResettlementSite) -> list[BuildingGrid]:
    """Every building of an estate with its flats laid out by floor."""
    buildings = session.scalars(
        sa.select(Building)
        .where(Building.site_id == site.id)
        .options(selectinload(Building.units).selectinload(Unit.household))
        .order_by(Building.name)
    )
    grids = []
    for building in buildings:
        by_floor: dict[int, list[Unit]] = defaultdict(list)
        by_status = {status: 0 for status in UnitStatus}
        for unit in building.units:
            by_floor[unit.floor].append(unit)
            by_status[unit.status] += 1
        floors = [
            FloorRow(floor, sorted(units, key=lambda u: (_natural(u.entrance), _natural(u.number))))
            for floor, units in sorted(by_floor.items(), reverse=True)
        ]
        grids.append(BuildingGrid(building, floors, by_status))
    return grids


def _natural(text: str) -> tuple[int, str]:
    """Sort '2' before '10'."""
    return (int(text), "") if text.isdigit() else (1 << 30, text)


# --- the unit import -------------------------------------------------------------------------


@dataclass
class UnitRow:
    """One flat read from an import file; `row` is its row number in the sheet."""

    row: int
    building: str
    entrance: str
    floor: int
    number: str
    area: Decimal

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.number)

    @property
    def label(self) -> str:
        return f"{self.building}{self.entrance}单元{self.number}室"


@dataclass
class UnitSheet:
    """Flats read from an import file, the cells that could not be used, and the file's headers."""

    rows: list[UnitRow] = field(default_factory=list)
    errors: RowErrors = field(default_factory=RowErrors)
    columns: dict[str, str] = field(default_factory=dict)  # field -> header as written


@dataclass
class UnitImportPlan:
    """What an import would do; nothing is written while `errors` is not empty."""

    new_buildings: dict[str, int] = field(default_factory=dict)  # name -> floors
    to_create: list[UnitRow] = field(default_factory=list)
    to_update: list[tuple[Unit, UnitRow]] = field(default_factory=list)
    unchanged: int = 0
    errors: RowErrors = field(default_factory=RowErrors)

    @property
    def changes(self) -> int:
        return len(self.to_create) + len(self.to_update)


def plan_unit_import(session: Session, site: ResettlementSite, sheet: UnitSheet) -> UnitImportPlan:
    """Match imported flats with the estate's (by building, entrance and number) and check them.

    A flat already there with the same floor and area is left alone, so importing a file twice
    changes nothing. The plan's errors include the cells the file reader could not use.
    """
    columns = {"building": "楼栋", "floor": "楼层", "area": "建筑面积(㎡)", **sheet.columns}
    plan = UnitImportPlan()
    plan.errors.extend(list(sheet.errors))
    buildings = {
        b.name: b
        for b in session.scalars(
            sa.select(Building)
            .where(Building.site_id == site.id)
            .options(selectinload(Building.units))
        )
    }
    existing = {(b.name, u.entrance, u.number): u for b in buildings.values() for u in b.units}
    for row in sheet.rows:
        building = buildings.get(row.building)
        if not 1 <= row.floor <= MAX_FLOORS:
            plan.errors.add(
                row.row, columns["floor"], _("A building has 1 to %(n)d floors.", n=MAX_FLOORS)
            )
            continue
        if building is None:
            plan.new_buildings[row.building] = max(
                plan.new_buildings.get(row.building, 0), row.floor
            )
        elif row.floor > building.floors:
            plan.errors.add(
                row.row,
                columns["floor"],
                _(
                    "%(building)s has floors 1 to %(floors)d.",
                    building=building.name,
                    floors=building.floors,
                ),
            )
            continue
        unit = existing.get(row.key)
        if unit is None:
            plan.to_create.append(row)
        elif unit.floor == row.floor and unit.area == row.area:
            plan.unchanged += 1
        elif unit.status != UnitStatus.AVAILABLE:
            plan.errors.add(
                row.row,
                columns["area"],
                _(
                    "%(flat)s is %(status)s: its floor and area cannot be changed by an import.",
                    flat=row.label,
                    status=UNIT_STATUS_LABELS[unit.status],
                ),
            )
        else:
            plan.to_update.append((unit, row))
    plan.errors.sort()
    return plan


def import_units(session: Session, site: ResettlementSite, sheet: UnitSheet) -> UnitImportPlan:
    """Create and correct the estate's flats from an import file: all rows or none."""
    plan = plan_unit_import(session, site, sheet)
    if plan.errors:
        raise RuleViolation(
            _("%(n)d rows have errors; nothing was imported.", n=len(plan.errors)),
            "file",
        )
    buildings = {b.name: b for b in site.buildings}
    for name, floors in plan.new_buildings.items():
        buildings[name] = Building(site=site, name=name, floors=floors, complete=False)
        session.add(buildings[name])
    for row in plan.to_create:
        session.add(
            Unit(
                building=buildings[row.building],
                entrance=row.entrance,
                floor=row.floor,
                number=row.number,
                area=row.area,
                status=UnitStatus.AVAILABLE,
            )
        )
    for unit, row in plan.to_update:
        unit.floor = row.floor
        unit.area = row.area
    session.flush()
    return plan


# --- selection (选房) ------------------------------------------------------------------------


def check_can_select(household: Household) -> None:
    """Refuse a household that may not select a flat now, saying what comes first."""
    if household.compensation_mode not in SWAP_MODES:
        raise RuleViolation(
            _("A household compensated in money only does not select or receive a flat."),
            "household",
        )
    if household.selection_order is None:
        raise RuleViolation(
            _(
                "Household %(case)s has no selection order number yet: enter it on the household "
                "page before selecting a flat.",
                case=household.case_number,
            ),
            "household",
        )
    if household.stage in (Stage.SURVEYED, Stage.APPRAISED, Stage.SIGNED, Stage.VACATED):
        raise RuleViolation(
            _(
                "A flat is selected only after the house has been vacated and demolished: "
                "household %(case)s is at “%(stage)s”.",
                case=household.case_number,
                stage=stage_label(household.stage),
            ),
            "household",
        )
    if household.stage != Stage.DEMOLISHED or household.units:
        raise RuleViolation(
            _("Household %(case)s has selected a flat already.", case=household.case_number),
            "household",
        )


def _check_unit_available(unit: Unit) -> None:
    if unit.status in (UnitStatus.ALLOCATED, UnitStatus.HANDED_OVER):
        raise RuleViolation(
            _(
                "%(flat)s is allocated to another household already; choose another flat.",
                flat=unit.label,
            ),
            "unit_id",
        )
    if unit.status != UnitStatus.AVAILABLE:
        raise RuleViolation(
            _(
                "%(flat)s is %(status)s and cannot be selected.",
                flat=unit.label,
                status=UNIT_STATUS_LABELS[unit.status],
            ),
            "unit_id",
        )


def begin_allocation(session: Session) -> None:
    """Open the transaction an allocation runs in; on SQLite it takes the write lock at BEGIN
    (BEGIN IMMEDIATE) so concurrent allocations wait their turn instead of failing with
    "database is locked". Call it before the transaction reads anything."""
    begin_write(session, must_open=True)


def allocate_unit(
    session: Session,
    unit_id: int,
    household: Household,
    *,
    selection_date: date,
    operator: User | None,
    today: date | None = None,
) -> Unit:
    """Give an available flat to a household at its selection (选房): one flat, one household,
    also when many households ask for the same flat at the same moment.

    The flat is taken with one conditional UPDATE (still free? then it is mine), so of concurrent
    requests exactly one changes the row; on PostgreSQL the household row is locked first so two
    allocations for the same household queue. On SQLite open the transaction with
    `begin_allocation()` so writers queue from the start.
    """
    today = today or clock.today()
    session.refresh(household, with_for_update=True)  # PostgreSQL: SELECT … FOR UPDATE
    check_can_select(household)
    if selection_date > today:
        raise RuleViolation(_("The date cannot be in the future."), "selection_date")
    previous = step_for(household, household.stage)
    if previous is not None and previous.actual_date and selection_date < previous.actual_date:
        raise RuleViolation(
            _(
                "The date cannot be before the previous step (%(date)s).",
                date=previous.actual_date.isoformat(),
            ),
            "selection_date",
        )
    unit = session.get(Unit, unit_id, populate_existing=True)
    if unit is None:
        raise RuleViolation(_("This flat does not exist."), "unit_id")
    _check_unit_available(unit)
    label = unit.label
    units = Unit.__table__
    taken = session.execute(
        sa.update(units)
        .where(
            units.c.id == unit_id,
            units.c.household_id.is_(None),
            units.c.status == UnitStatus.AVAILABLE,
        )
        .values(
            household_id=household.id,
            status=UnitStatus.ALLOCATED,
            version_id=units.c.version_id + 1,
        )
    )
    if taken.rowcount != 1:
        raise RuleViolation(
            _(
                "%(flat)s has just been allocated to another household; choose another flat.",
                flat=label,
            ),
            "unit_id",
        )
    # A Core UPDATE bypasses the audit flush listener: record the change explicitly.
    record_event(
        session,
        "update",
        "Unit",
        unit_id,
        {
            "household_id": [None, household.id],
            "status": [UnitStatus.AVAILABLE.value, UnitStatus.ALLOCATED.value],
        },
    )
    session.expire(unit)
    session.expire(household, ["units"])
    record_step(session, household, Stage.SELECTED, selection_date, operator=operator, today=today)
    return unit


def selection_queue(session: Session, project_id: int) -> list[Household]:
    """Swap households of a project waiting to select a flat, in selection order (unnumbered last)."""
    has_unit = sa.exists().where(Unit.household_id == Household.id)
    return list(
        session.scalars(
            sa.select(Household)
            .where(
                Household.project_id == project_id,
                Household.compensation_mode.in_(SWAP_MODES),
                Household.stage == Stage.DEMOLISHED,
                ~has_unit,
            )
            .order_by(
                Household.selection_order.is_(None),
                Household.selection_order,
                Household.case_number,
            )
        )
    )


@dataclass
class UnitFilter:
    """Which available flats the selection page lists."""

    site_id: int | None = None
    building_id: int | None = None
    min_area: Decimal | None = None
    max_area: Decimal | None = None


def available_units(session: Session, f: UnitFilter) -> list[Unit]:
    """Available flats by estate, building, entrance, floor and number."""
    query = (
        sa.select(Unit)
        .join(Unit.building)
        .join(Building.site)
        .where(Unit.status == UnitStatus.AVAILABLE, Unit.household_id.is_(None))
        .options(selectinload(Unit.building).selectinload(Building.site))
        .order_by(ResettlementSite.name, Building.name, Unit.entrance, Unit.floor, Unit.number)
    )
    if f.site_id:
        query = query.where(Building.site_id == f.site_id)
    if f.building_id:
        query = query.where(Unit.building_id == f.building_id)
    if f.min_area is not None:
        query = query.where(Unit.area >= f.min_area)
    if f.max_area is not None:
        query = query.where(Unit.area <= f.max_area)
    return list(session.scalars(query))
