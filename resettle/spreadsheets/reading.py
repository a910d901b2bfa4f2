"""Reading an office's workbook: .xlsx (Excel, WPS) streamed with openpyxl, .xls (Excel 97–2003,
what WPS saves by default) with python-calamine, within limits a hostile or broken file cannot
get past, and finding a table's header row under titles, over two rows, with merged cells.

The type comes from the file's first bytes, not its name. Limits (PITFALLS.md, "Excel"): an
.xlsx is a zip, and a 374 KB one can hold 2,000,000 rows; its parts' declared sizes are checked
before anything is parsed (Python's zipfile stops at the declared size, so a lying size ends in
a CRC error, not in memory), rows are streamed and counted, and a sheet stops at the row limit
with a message saying so. Rows are cut at `max_columns` cells.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.utils import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

from resettle.errors import RuleViolation
from resettle.spreadsheets.cells import header_key, header_text, is_blank
from resettle.translate import gettext as _

XLSX, XLS, ODS = "xlsx", "xls", "ods"
# An OpenDocument file names its type in a first, stored member called "mimetype".
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HEADER_SEARCH_ROWS = 30
# A run of blank rows this long ends a sheet (styled empty rows to the end of the grid).
BLANK_RUN_END = 10_000
MergedRange = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col (1-based)


@dataclass(frozen=True)
class ReadLimits:
    """How much of a file is read: rows with data per sheet, the unpacked size of an .xlsx,
    and cells per row."""

    max_rows: int = 20_000
    max_unpacked_bytes: int = 100 * 1024 * 1024
    max_columns: int = 256

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReadLimits:
        return cls(
            max_rows=int(config.get("IMPORT_MAX_ROWS", cls.max_rows)),
            max_unpacked_bytes=int(config.get("IMPORT_MAX_UNPACKED_MB", 100)) * 1024 * 1024,
        )


def current_limits() -> ReadLimits:
    """The limits the app is configured with (the defaults outside an app)."""
    from flask import current_app, has_app_context

    return ReadLimits.from_config(current_app.config) if has_app_context() else ReadLimits()


@dataclass
class SheetRow:
    number: int  # the row number Excel shows
    values: list[Any]


def _not_a_workbook() -> RuleViolation:
    return RuleViolation(
        _(
            "This is not an Excel workbook (.xlsx or .xls), or it is damaged. Open it in Excel "
            "or WPS, save it as .xlsx and try again."
        ),
        "file",
    )


def _too_many_rows(sheet: str, limits: ReadLimits) -> RuleViolation:
    return RuleViolation(
        _(
            "Sheet %(sheet)s has more than %(n)d rows, more than one import takes: split it "
            "into files of at most %(n)d rows.",
            sheet=sheet,
            n=limits.max_rows,
        ),
        "file",
    )


class Sheet:
    """One sheet: its name, merged ranges and rows (merged cells filled with their value)."""

    def __init__(self, name: str, limits: ReadLimits) -> None:
        self.name = name
        self.limits = limits

    def merged(self) -> list[MergedRange]:
        raise NotImplementedError

    def stated_rows(self) -> int | None:
        """How many rows the file says the sheet has, without reading them; None when it does
        not say (only an estimate: the rows read are what counts)."""
        raise NotImplementedError

    def _raw_rows(self) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def rows(self, *, fill_merged: bool = True) -> Iterator[SheetRow]:
        """Every row with its number, blank ones too, until the data ends; RuleViolation past
        the row limit. Each cell of a merged range holds the range's value unless not
        `fill_merged` (the error report writes the cells as they are)."""
        fills: dict[int, list[tuple[int, tuple[int, int]]]] = {}
        anchor_cols: dict[int, list[int]] = {}
        if fill_merged:
            for min_row, min_col, max_row, max_col in self.merged():
                if (max_row - min_row + 1) * (max_col - min_col + 1) > 200_000:
                    continue  # a merge that large is page layout, not data
                anchor_cols.setdefault(min_row, []).append(min_col)
                for r in range(min_row, max_row + 1):
                    for c in range(min_col, min(max_col, self.limits.max_columns) + 1):
                        if (r, c) != (min_row, min_col):
                            fills.setdefault(r, []).append((c, (min_row, min_col)))
        anchor_values: dict[tuple[int, int], Any] = {}
        filled = 0
        blank_run = 0
        width = self.limits.max_columns
        for number, values in enumerate(self._raw_rows(), start=1):
            cells = [None if v == "" else v for v in values[:width]]
            for c in anchor_cols.get(number, ()):
                anchor_values[(number, c)] = cells[c - 1] if c <= len(cells) else None
            for c, anchor in fills.get(number, ()):
                if c > len(cells):
                    cells.extend([None] * (c - len(cells)))
                cells[c - 1] = anchor_values.get(anchor)
            if all(is_blank(v) for v in cells):
                blank_run += 1
                if blank_run >= BLANK_RUN_END:
                    return
            else:
                blank_run = 0
                filled += 1
                if filled > self.limits.max_rows + HEADER_SEARCH_ROWS:
                    raise _too_many_rows(self.name, self.limits)
            yield SheetRow(number, cells)


class _XlsxSheet(Sheet):
    def __init__(self, ws: Any, limits: ReadLimits) -> None:
        super().__init__(ws.title, limits)
        self._ws = ws

    def merged(self) -> list[MergedRange]:
        merged = getattr(self._ws, "merged_cells", None)
        if merged is not None:
            return [(r.min_row, r.min_col, r.max_row, r.max_col) for r in merged.ranges]
        # A read-only worksheet skips <mergeCells> (after <sheetData>): find them in its XML,
        # read in pieces so that only the part after the rows is kept.
        try:
            source = self._ws._get_source()
        except (AttributeError, KeyError, OSError):
            return []
        tail = b""
        past_rows = False
        with source:
            while chunk := source.read(1 << 20):
                if past_rows:
                    tail += chunk
                    continue
                tail = tail[-16:] + chunk
                at = tail.find(b"</sheetData>")
                if at >= 0:
                    past_rows, tail = True, tail[at:]
        if not past_rows:
            return []
        found = []
        for ref in re.findall(
            rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"', tail
        ):
            min_col, min_row, max_col, max_row = range_boundaries(ref.decode())
            found.append((min_row, min_col, max_row, max_col))
        return found

    def stated_rows(self) -> int | None:
        return self._ws.max_row  # from the sheet's <dimension>, when it has one

    def _raw_rows(self) -> Iterator[tuple[Any, ...]]:
        if hasattr(self._ws, "reset_dimensions"):
            self._ws.reset_dimensions()  # the stored dimension may be wrong; read every row
        yield from self._ws.iter_rows(values_only=True, max_col=self.limits.max_columns)


class _XlsSheet(Sheet):
    def __init__(self, sheet: Any, limits: ReadLimits) -> None:
        super().__init__(sheet.name, limits)
        self._sheet = sheet

    def merged(self) -> list[MergedRange]:
        ranges = self._sheet.merged_cell_ranges or []
        return [(r0 + 1, c0 + 1, r1 + 1, c1 + 1) for (r0, c0), (r1, c1) in ranges]

    def stated_rows(self) -> int | None:
        return self._sheet.height

    def _raw_rows(self) -> Iterator[tuple[Any, ...]]:
        yield from self._sheet.to_python(skip_empty_area=False)


class Workbook:
    """An opened workbook: its sheets, the active one first."""

    def __init__(self, kind: str, sheets: list[Sheet], closer: Any = None) -> None:
        self.kind = kind
        self.sheets = sheets
        self._closer = closer

    def close(self) -> None:
        if self._closer is not None:
            self._closer()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def source_bytes(source: bytes | str | Path | IO[bytes]) -> bytes:
    """The bytes of a file given as bytes, a path or an open binary file."""
    if isinstance(source, bytes):
        return source
    if isinstance(source, str | Path):
        return Path(source).read_bytes()
    return source.read()


def kind_of(data: bytes) -> str | None:
    """'xlsx', 'xls' or 'ods' from the file's first bytes; None for anything else."""
    if data.startswith(_ZIP_MAGIC):
        return ODS if _ODS_MIMETYPE in data[:200] else XLSX
    if data.startswith(_OLE2_MAGIC):
        return XLS
    return None


def _check_unpacked_size(data: bytes, limits: ReadLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_a_workbook() from None
    if unpacked > limits.max_unpacked_bytes:
        raise RuleViolation(
            _(
                "This file unpacks to %(size)d MB, more than the %(limit)d MB an import reads: "
                "it holds far more than a ledger (or is built to exhaust the server). Save only "
                "the ledger's sheet in a new file and try again.",
                size=unpacked // (1024 * 1024),
                limit=limits.max_unpacked_bytes // (1024 * 1024),
            ),
            "file",
        )


def open_workbook(
    source: bytes | str | Path | IO[bytes], limits: ReadLimits | None = None
) -> Workbook:
    """The workbook in these bytes (.xlsx or .xls); RuleViolation (field "file") when it is
    neither, is damaged, protected, or too large to read."""
    limits = limits or current_limits()
    data = source_bytes(source)
    kind = kind_of(data)
    if kind == XLSX:
        _check_unpacked_size(data, limits)
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
            raise _not_a_workbook() from None
        active = book.active
        ordered = [active] + [ws for ws in book.worksheets if ws is not active]
        sheets: list[Sheet] = [
            _XlsxSheet(ws, limits) for ws in ordered if ws is not None and hasattr(ws, "iter_rows")
        ]
        return Workbook(kind, sheets, book.close)
    if kind == XLS:
        import python_calamine

        try:
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheets = [
                _XlsSheet(book.get_sheet_by_index(i), limits) for i in range(len(book.sheet_names))
            ]
        except python_calamine.PasswordError:
            raise RuleViolation(
                _("This file is protected by a password: save it without one and try again."),
                "file",
            ) from None
        except (python_calamine.CalamineError, ValueError, OSError):
            raise _not_a_workbook() from None
        return Workbook(kind, sheets, getattr(book, "close", None))
    if kind == ODS:
        raise RuleViolation(
            _(
                "This is an OpenDocument spreadsheet (.ods). Save it as .xlsx or .xls in WPS or "
                "LibreOffice (File, Save as) and upload that file."
            ),
            "file",
        )
    raise _not_a_workbook()


# ---------------------------------------------------------------------------------------------
# Finding a table's header


@dataclass(frozen=True)
class Column:
    """One column a table may have: the field it fills, the header we write, the headers we
    accept (compared without spaces, required marks and units)."""

    field: str
    header: str
    aliases: tuple[str, ...]
    required: bool = False


@dataclass
class Header:
    """Where a table's header is and what each column holds."""

    row: int
    columns: dict[str, int] = field(default_factory=dict)  # field -> 0-based column index
    headers: dict[str, str] = field(default_factory=dict)  # field -> header as written
    scales: dict[str, int] = field(default_factory=dict)  # field -> multiplier (万元 → 10000)
    ignored: list[str] = field(default_factory=list)  # headers nobody reads
    missing: list[Column] = field(default_factory=list)  # required columns not found


@dataclass
class Table:
    """A table found in a workbook: the sheet, its header and the rows below the header."""

    sheet: Sheet
    header: Header
    rows: Iterator[SheetRow]


def _lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {header_key(alias)[0]: c for c in columns for alias in c.aliases}


def find_header(
    rows: list[SheetRow], merged: list[MergedRange], columns: tuple[Column, ...]
) -> Header | None:
    """The row (of these first rows) naming the most known columns, with up to two rows above
    it read as group headers ("房屋情况" over "地址"); None when no row names two."""
    by_alias = _lookup(columns)
    spans = {
        (r, c)
        for min_row, min_col, max_row, max_col in merged
        if max_col > min_col and (max_row - min_row + 1) * (max_col - min_col) <= 10_000
        for r in range(min_row, max_row + 1)
        for c in range(min_col + 1, max_col + 1)
    }  # cells covered by a merge to their left: the merged header names one column only
    best: Header | None = None
    best_duplicates: list[tuple[str, str]] = []
    for i, row in enumerate(rows):
        header = Header(row.number)
        duplicates: list[tuple[str, str]] = []
        for index, value in enumerate(row.values):
            if (row.number, index + 1) in spans:
                continue
            text = header_text(value)
            candidates = [text]
            for above in rows[max(i - 2, 0) : i][::-1]:
                upper = header_text(above.values[index]) if index < len(above.values) else ""
                if upper and upper != text:
                    candidates.append(f"{upper}/{text}" if text else upper)
            for candidate in candidates:
                key, scale = header_key(candidate.replace("/", ""))
                column = by_alias.get(key)
                if column is None:
                    continue
                if column.field in header.columns:
                    duplicates.append((header.headers[column.field], candidate))
                else:
                    header.columns[column.field] = index
                    header.headers[column.field] = candidate
                    header.scales[column.field] = scale
                break
            else:
                shown = next((c for c in candidates if c), "")
                if shown:
                    header.ignored.append(shown)
        if best is None or len(header.columns) > len(best.columns):
            best, best_duplicates = header, duplicates
    if best is None or len(best.columns) < 2:
        return None
    if best_duplicates:
        first, second = best_duplicates[0]
        raise RuleViolation(
            _(
                "The columns %(first)s and %(second)s hold the same thing; keep one of them.",
                first=first,
                second=second,
            ),
            "file",
        )
    best.missing = [c for c in columns if c.required and c.field not in best.columns]
    return best


def find_table(
    workbook: Workbook,
    columns: tuple[Column, ...],
    *,
    skip: frozenset[str] = frozenset(),
    required: bool = True,
) -> Table | None:
    """The first sheet (the active one first) whose header names every required column.

    Without such a sheet: RuleViolation saying which columns the closest header lacks, or that
    no header was found; None instead when not `required` (an optional sheet)."""
    closest: Header | None = None
    for sheet in workbook.sheets:
        if sheet.name in skip:
            continue
        merged = sheet.merged()
        rows = sheet.rows()
        head = list(itertools.islice(rows, HEADER_SEARCH_ROWS))
        header = find_header(head, merged, columns)
        if header is None:
            continue
        if header.missing:
            if closest is None or len(header.columns) > len(closest.columns):
                closest = header
            continue
        body = itertools.chain((r for r in head if r.number > header.row), rows)
        return Table(sheet, header, body)
    if not required:
        return None
    if closest is not None:
        raise RuleViolation(
            _(
                "The header row (row %(row)d) has no column for %(missing)s.",
                row=closest.row,
                missing="、".join(c.header for c in closest.missing),
            ),
            "file",
        )
    raise RuleViolation(
        _(
            "No header row found in the first %(n)d rows: the file needs the columns %(columns)s.",
            n=HEADER_SEARCH_ROWS,
            columns="、".join(c.header for c in columns if c.required),
        ),
        "file",
    )
