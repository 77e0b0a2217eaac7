"""An uploaded file as it may be kept for audit: every customer number replaced by its key.

The import stores a customer only as a keyed hash of the number's digits (``calls.privacy``); a file kept
after its import must not hold the numbers either. Which cells hold them:

- a CSV or XLSX file of calls: the column the mapping reads ``customer_number`` from (its name or
  position, a pattern's column too), or, without a mapping, the column named ``customer_number``; and
  the same number wherever else its row repeats it (Asterisk's ``clid``: ``"Alice" <13800000001>``);
- an Asterisk queue_log: the caller id of each ENTERQUEUE (its second data field), in the file and in
  the table export alike.

Files of other kinds hold no customer number. The copy is CSV in the file's own encoding and delimiter
(an XLSX workbook becomes the CSV of its first sheet, the rows the import read); a cell with no digit in
it ("anonymous") holds no number and is left as it is. ``None`` when the file cannot be read through:
such a file is not kept (its caller deletes it).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from calls.importers.facts import KINDS
from calls.importers.mapping import MappingError, rules_of
from calls.importers.sources import CsvSource, FileError, XlsxSource, cell_text, open_source
from calls.privacy import customer_key

CUSTOMER_FIELD = "customer_number"
# A customer's number found again in another cell of its row is keyed there too, from this many digits.
MIN_REPEATED_DIGITS = 6
_NOT_DIGITS = re.compile(r"[^0-9]")


def keyed(value: str) -> str:
    """A cell's customer number as its key; a cell without digits as it is."""
    key = customer_key(value)
    return value if key is None else str(key)


def customer_columns(
    header: Sequence[str],
    *,
    kind: str,
    columns: dict | None,
    value_maps: dict | None,
    has_header: bool,
) -> list[int]:
    """The positions (from 0) of the columns that hold customer numbers in a file of ``kind``."""
    if kind != "calls":
        return []
    try:
        rule = rules_of(KINDS["calls"], columns, value_maps).get(CUSTOMER_FIELD)
    except MappingError:
        rule = None  # a mapping that cannot be read: the field's own column, if the file has one
    column = rule.column if rule is not None else None
    if column is None:
        name = CUSTOMER_FIELD if rule is None else None
    elif column.position:
        return [column.position - 1] if column.position <= len(header) else []
    else:
        name = column.name
    if has_header and name is not None and name in header:
        return [list(header).index(name)]
    return []


def keyed_copy(
    stream: BinaryIO,
    filename: str,
    *,
    kind: str,
    columns: dict | None = None,
    value_maps: dict | None = None,
    has_header: bool = True,
    queue_log: bool = False,
) -> tuple[BinaryIO, str] | None:
    """A temporary file (at its start) holding the file with its customer numbers keyed, and the name
    to keep it under; None when the file cannot be read through."""
    try:
        if queue_log:
            return _queue_log_copy(stream), filename
        source = open_source(stream, filename, has_header=has_header)
        positions = customer_columns(
            source.header, kind=kind, columns=columns, value_maps=value_maps, has_header=has_header
        )
        if isinstance(source, XlsxSource):
            return _xlsx_copy(source, positions), f"{filename}.csv"
        assert isinstance(source, CsvSource)
        return _csv_copy(source, positions), filename
    except (FileError, UnicodeError, csv.Error, OSError, ValueError):
        return None


def _rows_out(rows: Iterable[list[str]], encoding: str, dialect, bom: bool = False) -> BinaryIO:
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
    if bom:
        out.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(out, encoding=encoding, newline="")
    writer = csv.writer(text, dialect=dialect)
    for row in rows:
        writer.writerow(row)
    text.flush()
    text.detach()
    out.seek(0)
    return out


def _keyed_rows(
    rows: Iterable[list[str]], positions: list[int], skip_first: bool
) -> Iterator[list[str]]:
    """Each row with its customer cells keyed, and the same number wherever else the row repeats it
    (Asterisk's ``clid`` column holds ``"Alice" <13800000001>`` beside ``src``)."""
    for number, row in enumerate(rows):
        if skip_first and number == 0:
            yield row
            continue
        found = []
        for i in positions:
            if i < len(row) and (key := customer_key(row[i])) is not None:
                found.append((row[i].strip(), _NOT_DIGITS.sub("", row[i]), str(key)))
                row[i] = str(key)
        for value, digits, keyed in found:
            if len(digits) < MIN_REPEATED_DIGITS:
                continue  # a short number (an extension) may be part of anything: left alone
            for j, cell in enumerate(row):
                if j not in positions:
                    row[j] = cell.replace(value, keyed).replace(digits, keyed)
        yield row


def _csv_copy(source: CsvSource, positions: list[int]) -> BinaryIO:
    source.stream.seek(source.data_start)
    text = io.TextIOWrapper(source.stream, encoding=source.encoding, newline="", errors="strict")
    try:
        rows = _keyed_rows(csv.reader(text, dialect=source.dialect), positions, source.has_header)
        return _rows_out(rows, source.encoding, source.dialect, bom=source.bom)
    finally:
        text.detach()


def _xlsx_copy(source: XlsxSource, positions: list[int]) -> BinaryIO:
    cells = (
        [cell_text(value) for value in values]
        for values in source.sheet.iter_rows(values_only=True)
    )
    try:
        return _rows_out(
            _keyed_rows(cells, positions, source.has_header), "utf-8", csv.excel, bom=True
        )
    finally:
        source.workbook.close()


def _queue_log_copy(stream: BinaryIO) -> BinaryIO:
    """Either variant of the log (``calls.importers.queue_log.read_events``), read as the importer reads
    it (UTF-8, an invalid byte replaced)."""
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    try:
        first = text.readline()
        text.seek(0)
        if first.lower().startswith("time,") or ",callid," in first.lower():
            return _rows_out(_queue_log_table(csv.reader(text)), "utf-8", csv.excel)
        out = tempfile.TemporaryFile()  # noqa: SIM115 (the caller closes it)
        for line in text:
            parts = line.split("|")
            # time|callid|queue|agent|ENTERQUEUE|url|callerid|position
            if len(parts) > 6 and parts[4].strip().upper() == "ENTERQUEUE":
                end = parts[6][len(parts[6].rstrip("\r\n")) :]
                parts[6] = keyed(parts[6].rstrip("\r\n")) + end
            out.write("|".join(parts).encode("utf-8"))
        out.seek(0)
        return out
    finally:
        text.detach()


def _queue_log_table(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """The table export: ENTERQUEUE's caller id is ``data2``, or the second field of a ``data`` column
    that holds them all joined by "|"."""
    header = next(rows, None)
    if header is None:
        return
    yield header
    names = [name.strip().lower() for name in header]
    event = names.index("event") if "event" in names else None
    data2 = names.index("data2") if "data2" in names else None
    joined = names.index("data") if "data" in names else None
    for row in rows:
        if event is not None and event < len(row) and row[event].strip().upper() == "ENTERQUEUE":
            if data2 is not None and data2 < len(row):
                row[data2] = keyed(row[data2])
            elif joined is not None and joined < len(row):
                fields = row[joined].split("|")
                if len(fields) > 1:
                    fields[1] = keyed(fields[1])
                row[joined] = "|".join(fields)
        yield row
