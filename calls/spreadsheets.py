"""Tables out to a spreadsheet: CSV and XLSX downloads that are safe to open, for any export.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (some also after a tab or a
carriage return) as a formula, so a name such as ``=HYPERLINK("http://…")`` typed into an import or a
form would become a live link or a command in HR's Excel (CSV / formula injection). Every *text* cell
that starts so gets a leading apostrophe. Numbers are written as numbers — a refund of -12.50 must stay
a number that sums, not become the text ``'-12.50`` — which is why a caller passes ``Decimal``/``int``
values as they are and never pre-formats them as strings.

Both responses stream: the CSV row by row, the XLSX from openpyxl's write-only workbook (rows go to a
temporary file, not memory), so a table of a million rows costs the server no more than one of ten.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from calls.months import center_tz

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CHUNK = 64 * 1024  # characters sent at once: one write per row would be slow for large tables
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def safe_cell(value):
    """The value as a spreadsheet should receive it: numbers, dates and booleans as they are, text
    that a spreadsheet would run as a formula behind an apostrophe, ``None`` as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | dt.date | dt.time):
        return value  # dt.datetime is a dt.date
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(
    filename: str, header: Sequence, rows: Iterable[Sequence], *, stream: bool = True
) -> HttpResponse | StreamingHttpResponse:
    """A CSV download in UTF-8 with a BOM (without it Excel reads Chinese as the local code page).

    ``stream=False`` sends a short table (an import's error report, at most 1,000 lines) in one piece,
    with its length, instead of row by row.
    """
    chunks = _csv_chunks(header, rows)
    response: HttpResponse | StreamingHttpResponse
    if stream:
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse("".join(chunks), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def xlsx_response(
    filename: str, sheet_title: str, header: Sequence, rows: Iterable[Sequence]
) -> FileResponse:
    """An XLSX download of one sheet: a bold header row, then the rows, numbers as numbers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, name, font=bold) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    # Small files stay in memory; large ones spill to disk. FileResponse closes (and so deletes) it.
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(output)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def table_export(request, name: str, header: Sequence, rows: Iterable[Sequence]):
    """``?export=csv`` or ``?export=xlsx`` on a page's table: the same rows as a download (cells safe
    for spreadsheets, numbers as numbers); None when the page itself is asked for. The caller passes
    the rows its page shows, read through the same selector, so an export is scoped like its page."""
    kind = request.GET.get("export")
    if kind == "csv":
        return csv_response(f"{name}.csv", header, rows)
    if kind == "xlsx":
        return xlsx_response(f"{name}.xlsx", name, header, rows)
    return None


class _Echo:
    """A file that hands back what is written to it, so csv.writer formats one row at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(header: Sequence, rows: Iterable[Sequence]):
    writer = csv.writer(_Echo())
    buffer = ["\ufeff", writer.writerow([_csv_value(name) for name in header])]
    size = 0
    for row in rows:
        line = writer.writerow([_csv_value(value) for value in row])
        buffer.append(line)
        size += len(line)
        if size >= CSV_CHUNK:
            yield "".join(buffer)
            buffer, size = [], 0
    yield "".join(buffer)


def _csv_value(value):
    value = safe_cell(value)
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        # On the center's clock, with its offset, so the time reads as the floor lived it.
        return timezone.localtime(value, center_tz()).isoformat(sep=" ")
    return value


def _xlsx_cell(sheet, value, *, font: Font | None = None) -> WriteOnlyCell:
    value = safe_cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters openpyxl refuses to write
    elif isinstance(value, dt.datetime) and timezone.is_aware(value):
        # Excel has no time zones: the center's wall-clock time.
        value = timezone.make_naive(value, center_tz())
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, Decimal) and value.is_finite() and int(value.as_tuple().exponent) < 0:
        cell.number_format = "0." + "0" * -int(
            value.as_tuple().exponent
        )  # 1700.00 shows as 1700.00
    if font is not None:
        cell.font = font
    return cell


def _sheet_title(title: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\."""
    return _SHEET_TITLE_FORBIDDEN.sub("-", title)[:31] or "Sheet1"
