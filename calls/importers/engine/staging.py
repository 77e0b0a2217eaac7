"""A file into a staging table of text columns, one per file column (``c1``, ``c2``, … from the left).

On PostgreSQL a CSV file goes by COPY straight from its raw bytes (the server decodes GBK or UTF-8
itself), a large one in parts, each by a database session of its own (``calls.importers.parallel``);
anything else goes row by row. Every cell is staged as text: the field grammar reads the values later,
the same way on every database and whatever else the file holds (PostgreSQL's typed COPY would accept
``now`` or ``Oct 5 2026`` as a time in a clean file and refuse it in a dirty one).
"""

from __future__ import annotations

import re
import threading

from django.conf import settings
from psycopg.errors import DataError as PsycopgDataError

from calls.importers import parallel
from calls.importers.grammar import quote
from calls.importers.mapping import echo
from calls.importers.sources import CsvSource, FileError, Source

ROW_BATCH = 1000  # rows per INSERT on SQLite: memory is bounded by this, not by the file
PG_ENCODINGS = {
    "utf-8": "UTF8",
    "gb18030": "GB18030",
    "gbk": "GBK",
    "big5": "BIG5",
    "cp1252": "WIN1252",
    "iso8859-1": "LATIN1",
    "latin-1": "LATIN1",
    "shift_jis": "SJIS",
    "ascii": "UTF8",
}


def columns(source: Source) -> list[str]:
    return [f"c{i}" for i in range(1, len(source.header) + 1)]


def _pg_encoding(source: Source) -> str | None:
    return PG_ENCODINGS.get(source.encoding.lower().replace("_", "-"))


def _copy_options(source: CsvSource, header: bool) -> str:
    encoding = _pg_encoding(source)
    assert encoding is not None  # the callers load only the encodings PostgreSQL knows by COPY
    options = f"FORMAT csv, DELIMITER {quote(source.delimiter)}, ENCODING {quote(encoding)}"
    return options + (", HEADER true" if header else "")


def parts(dialect, source: Source) -> list[parallel.Part] | None:
    """A large CSV file on PostgreSQL is loaded in parts, one session each."""
    if (
        dialect.vendor != "postgresql"
        or not isinstance(source, CsvSource)
        or _pg_encoding(source) is None
    ):
        return None
    return parallel.split(
        source.stream, source.data_start, parallel.worker_count(), settings.IMPORT_PARALLEL_BYTES
    )


def load(cursor, dialect, stage: str, source: Source, notify) -> int:
    """Fill the staging table ``stage``; returns its rows."""
    names = columns(source)
    joined = ", ".join(names)
    first_line = 2 if source.has_header else 1
    cursor.execute(dialect.temp_table(stage, names, first_line=first_line))
    if (
        dialect.vendor == "postgresql"
        and isinstance(source, CsvSource)
        and _pg_encoding(source) is not None
    ):
        # FORCE_NOT_NULL: an empty cell is "" as in every other source, never NULL.
        options = f"{_copy_options(source, source.has_header)}, FORCE_NOT_NULL ({joined})"
        try:
            with cursor.cursor.copy(f"COPY {stage} ({joined}) FROM STDIN WITH ({options})") as copy:
                for chunk in source.raw_chunks():
                    copy.write(chunk)
        except PsycopgDataError as exc:  # bad bytes, a cell too many or too few: said with its line
            raise FileError(copy_error(source, exc)) from None
    elif dialect.vendor == "postgresql":
        rows = 0
        with cursor.cursor.copy(f"COPY {stage} (line, {joined}) FROM STDIN") as copy:
            for line, cells in source.rows():
                copy.write_row((line, *fit(cells, source, line)))
                rows += 1
                if rows % 50000 == 0:
                    notify("loading", rows)
    else:
        placeholders = ", ".join(["%s"] * (len(names) + 1))
        sql = f"INSERT INTO {stage} (line, {joined}) VALUES ({placeholders})"
        batch, rows = [], 0
        for line, cells in source.rows():
            batch.append((line, *fit(cells, source, line)))
            if len(batch) >= ROW_BATCH:
                cursor.executemany(sql, batch)
                rows += len(batch)
                batch.clear()
                notify("loading", rows)
        if batch:
            cursor.executemany(sql, batch)
    cursor.execute(f"SELECT count(*) FROM {stage}")
    return cursor.fetchone()[0]


def load_parts(
    cursor, dialect, sessions, file_parts, stage: str, source: Source
) -> tuple[int, list[str]]:
    """Each session COPYs its part into a table of its own; the import's transaction sees the parts as
    one view, ``stage``, numbered by line across the parts. Returns (rows, the sessions' tables)."""
    assert isinstance(source, CsvSource)  # ``parts`` splits nothing else
    names = columns(source)
    joined = ", ".join(names)
    first_line = 2 if source.has_header else 1
    lock = threading.Lock()
    tables = [sessions.table("stage", i) for i in range(len(file_parts))]
    sessions.sweep()

    def work(i, side):
        side.execute(f"DROP TABLE IF EXISTS {tables[i]}")
        side.execute(dialect.temp_table(tables[i], names, unlogged=True, first_line=first_line))
        options = _copy_options(source, source.has_header and i == 0)
        try:
            with side.copy(
                f"COPY {tables[i]} ({joined}) FROM STDIN WITH ({options}, FORCE_NOT_NULL ({joined}))"
            ) as copy:
                for chunk in parallel.part_chunks(source.stream, lock, file_parts[i]):
                    copy.write(chunk)
        except PsycopgDataError as exc:
            return exc
        return side.rowcount

    try:
        counts = sessions.each(work)
        failed = [(i, c) for i, c in enumerate(counts) if isinstance(c, Exception)]
        if failed:
            i, exc = failed[0]
            raise FileError(copy_error(source, exc, file_parts[i].lines_before))
    except BaseException:
        sessions.drop_own(tables)
        raise
    offsets = [sum(counts[:i]) for i in range(len(file_parts))]
    cursor.execute(
        f"CREATE TEMP VIEW {stage} AS "
        + " UNION ALL ".join(
            f"SELECT line + {offset} AS line, {joined} FROM {table}"
            for table, offset in zip(tables, offsets, strict=True)
        )
    )
    return sum(counts), tables


def fit(cells: list[str], source: Source, line: int) -> list[str]:
    """A row's cells, one per column: a row with fewer cells than the file has columns (cut short), or
    more that are not empty, is refused with its line, as PostgreSQL's COPY refuses it."""
    width = len(source.header)
    if len(cells) < width and source.short_rows_padded:
        return cells + [""] * (width - len(cells))
    if len(cells) < width:
        missing = source.column_name(len(cells) + 1)
        raise FileError(
            f"{source.filename}: line {line} has {len(cells)} cells, the file {width} columns: "
            f"missing data for column {missing} (is the line cut short?)."
        )
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        raise FileError(
            f"{source.filename}: line {line} has {len(cells)} cells, the file {width} columns."
        )
    return cells[:width]


_COPY_COLUMN = re.compile(r'column "?c([0-9]+)"?')


def copy_error(source: Source, exc: Exception, lines_before: int = 0) -> str:
    """PostgreSQL's words for a file COPY refused, with the line in the whole file and the column by the
    file's name for it (COPY knows only ``c7``); echoed values cut."""
    diag = getattr(exc, "diag", None)
    context = getattr(diag, "context", "") or ""
    message = getattr(diag, "message_primary", "") or str(exc)
    match = re.search(r"line (\d+)", context)
    where = f"line {int(match.group(1)) + lines_before}: " if match else ""
    message = _COPY_COLUMN.sub(lambda m: f"column {source.column_name(int(m.group(1)))}", message)
    hint = " (is the line cut short?)" if "missing data" in message else ""
    return f"{source.filename}: {where}{echo(message)}{hint}."
