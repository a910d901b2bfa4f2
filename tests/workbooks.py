"""Workbooks for tests and benchmarks."""

from __future__ import annotations

import io
import zipfile

import openpyxl


def zip_bomb(headers: list[str], rows: int) -> bytes:
    """An .xlsx with this header and `rows` identical rows: a few hundred KB packed for
    2,000,000 rows, over a hundred MB unpacked (PITFALLS.md, "Excel")."""
    template = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(headers)
    book.save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _, tail = content.partition(b"<sheetData>")
                body, _, end = tail.partition(b"</sheetData>")
                row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>'
                content = head + b"<sheetData>" + body + row * rows + b"</sheetData>" + end
            bomb.writestr(info.filename, content)
    return out.getvalue()
