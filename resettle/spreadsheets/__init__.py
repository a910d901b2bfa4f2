"""Spreadsheets in one place: reading an office's workbook (.xlsx or .xls, as Excel and WPS save
them) within limits, parsing its cells, collecting each row's problems, writing workbooks (the
error report, templates, exports) and keeping an upload between its preview and its import.

`reading` opens a workbook and finds a table's header; `cells` turns cell values into Python
values; `problems` holds the problems of a row; `writing` makes workbooks; `stash` keeps an
upload in the database, so the confirmation may reach another machine than the preview.
"""
