"""What is wrong with an imported file, row by row: every problem of a row on one RowError, each
naming the column as the file heads it (and its position, to mark the cell in the report)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from resettle.translate import gettext as _


@dataclass(frozen=True)
class CellProblem:
    """One problem: the column's header as written ('' for the row as a whole), the reason,
    and the 0-based column index when a cell is to blame."""

    column: str
    reason: str
    index: int | None = None

    def __str__(self) -> str:
        return f"{self.column}：{self.reason}" if self.column else self.reason


@dataclass
class RowError:
    """Everything wrong with one row of a sheet, found at once (a person fixes a row once)."""

    row: int  # the row number Excel shows
    problems: list[CellProblem] = field(default_factory=list)
    sheet: str = ""

    def add(self, column: str, reason: str, index: int | None = None) -> None:
        problem = CellProblem(column, reason, index)
        if problem not in self.problems:
            self.problems.append(problem)

    @property
    def columns(self) -> set[int]:
        """The indexes of the cells to blame."""
        return {p.index for p in self.problems if p.index is not None}

    def explanation(self) -> str:
        """The problems in one line, for the report's 错误说明 column."""
        return "；".join(str(p) for p in self.problems)

    def __str__(self) -> str:
        where = (
            _("Sheet %(sheet)s, row %(row)d", sheet=self.sheet, row=self.row)
            if self.sheet
            else _("Row %(row)d", row=self.row)
        )
        return f"{where}：{self.explanation()}"


class RowErrors:
    """The rows of an import that have problems, in the order they were found."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, int], RowError] = {}

    def row(self, row: int, sheet: str = "") -> RowError:
        """The RowError of a row, made when the row's first problem is added."""
        key = (sheet, row)
        if key not in self._rows:
            self._rows[key] = RowError(row, sheet=sheet)
        return self._rows[key]

    def add(
        self, row: int, column: str, reason: str, *, index: int | None = None, sheet: str = ""
    ) -> RowError:
        error = self.row(row, sheet)
        error.add(column, reason, index)
        return error

    def extend(self, errors: list[RowError]) -> None:
        for error in errors:
            for problem in error.problems:
                self.add(
                    error.row,
                    problem.column,
                    problem.reason,
                    index=problem.index,
                    sheet=error.sheet,
                )

    def sort(self) -> None:
        """Rows in sheet and row order (problems found in several passes)."""
        self._rows = dict(sorted(self._rows.items()))

    def has(self, row: int, sheet: str = "") -> bool:
        return (sheet, row) in self._rows

    def __iter__(self) -> Iterator[RowError]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    @property
    def problem_count(self) -> int:
        return sum(len(e.problems) for e in self._rows.values())

    def by_sheet(self, sheet: str) -> dict[int, RowError]:
        return {row: e for (name, row), e in self._rows.items() if name == sheet}
