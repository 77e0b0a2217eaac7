"""Readers of the files contact-center systems export: CSV (any of the encodings Excel writes, any of the
usual delimiters), XLSX (streamed), and rows made in Python (queue_log, the generator).

A source gives the engine a header and either the raw bytes (CSV: PostgreSQL's COPY reads them itself,
the fastest way there is) or rows (everything else). Nothing here holds a whole file in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from charset_normalizer import from_bytes

from calls.privacy import header_said

SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t|"


class FileError(ValueError):
    """The file as a whole cannot be read; the message says why and, where it can, on which line."""


@dataclass
class Source:
    filename: str
    header: list[str]  # the column names; without a header line, the positions "1", "2", …
    encoding: str = ""
    has_header: bool = True
    # A spreadsheet leaves a row's empty cells at its end out: such a row is padded, not "cut short".
    short_rows_padded = False

    def rows(self) -> Iterator[tuple[int, list[str]]]:  # (line, cells)
        raise NotImplementedError

    def column_name(self, position: int) -> str:
        """A column as a message names it: by its name in the header, or by its position (from 1)."""
        if self.has_header and 1 <= position <= len(self.header):
            return repr(header_said(self.header[position - 1]))
        return str(position)

    def file_line(self, line: int) -> int:
        """The line of the file a row came from, for its errors: the row's own number for a file read
        row by row; a source that makes rows from other lines (queue_log) says which."""
        return line


def _detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, which Excel writes for
    Chinese), then whatever charset-normalizer finds most plausible. The sample may end mid-character:
    the incomplete tail is ignored."""
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            decoder.decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(sample).best()
    if best is None:
        raise FileError("The file is not text in any encoding this importer knows (UTF-8, GBK, …).")
    return best.encoding


class CsvSource(Source):
    """A CSV file on disk or any binary stream that can be read twice (a Django upload, a file)."""

    def __init__(self, stream: BinaryIO, filename: str, has_header: bool = True):
        self.stream = stream
        stream.seek(0)
        sample = stream.read(SAMPLE_BYTES)
        if not sample.strip():
            raise FileError(f"{filename} is empty.")
        self.bom = sample.startswith(codecs.BOM_UTF8)
        body = sample[3:] if self.bom else sample
        encoding = "utf-8" if self.bom else _detect_encoding(body)
        text = body.decode(encoding, errors="ignore")
        try:
            self.dialect = csv.Sniffer().sniff(text[: 64 * 1024], delimiters=DELIMITERS)
        except csv.Error:
            self.dialect = csv.excel
        first = next(csv.reader(io.StringIO(text), dialect=self.dialect), None)
        if not first:
            said = "should hold the column names" if has_header else "should hold the first row"
            raise FileError(f"{filename}: line 1 {said} and is empty.")
        header = (
            [name.strip() for name in first]
            if has_header
            else [str(i) for i in range(1, len(first) + 1)]
        )
        super().__init__(filename=filename, header=header, encoding=encoding, has_header=has_header)

    @property
    def delimiter(self) -> str:
        return self.dialect.delimiter

    @property
    def data_start(self) -> int:
        """Where the text starts: after the BOM, if any."""
        return 3 if self.bom else 0

    def raw_chunks(self, size: int = 1024 * 1024) -> Iterator[bytes]:
        """The file's bytes after any BOM, header included (COPY skips it)."""
        self.stream.seek(self.data_start)
        while chunk := self.stream.read(size):
            yield chunk

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        self.stream.seek(3 if self.bom else 0)
        text = io.TextIOWrapper(self.stream, encoding=self.encoding, newline="", errors="strict")
        reader = csv.reader(text, dialect=self.dialect)
        line = 0
        try:
            if self.has_header:
                next(reader, None)
                line = 1
            for cells in reader:
                line += 1
                if cells:
                    yield line, cells
        except UnicodeDecodeError as exc:
            raise FileError(
                f"{self.filename}: after line {line}, bytes that are not {self.encoding} text ({exc.reason})."
            ) from None
        except csv.Error as exc:
            raise FileError(f"{self.filename}: line {reader.line_num}: {exc}") from None
        finally:
            text.detach()


class XlsxSource(Source):
    """The first sheet of an XLSX workbook, read row by row (openpyxl's read-only mode)."""

    short_rows_padded = True

    def __init__(self, stream: BinaryIO, filename: str, has_header: bool = True):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        stream.seek(0)
        try:
            self.workbook = load_workbook(stream, read_only=True, data_only=True)
        except (InvalidFileException, OSError, KeyError, ValueError) as exc:
            raise FileError(f"{filename} is not an XLSX workbook: {exc}") from None
        self.sheet = self.workbook.worksheets[0]
        first = next(self.sheet.iter_rows(max_row=1, values_only=True), None)
        if not first or all(cell is None for cell in first):
            said = "should hold the column names" if has_header else "holds no row"
            raise FileError(f"{filename}: row 1 of the first sheet {said} and is empty.")
        header = (
            [cell_text(c).strip() for c in first]
            if has_header
            else [str(i) for i in range(1, len(first) + 1)]
        )
        super().__init__(filename=filename, header=header, encoding="xlsx", has_header=has_header)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        start = 2 if self.has_header else 1
        for line, values in enumerate(
            self.sheet.iter_rows(min_row=start, values_only=True), start=start
        ):
            cells = [cell_text(value) for value in values]
            if any(cells):
                yield line, cells
        self.workbook.close()


def cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would hold; dates as ISO, whole floats without .0."""
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class RowSource(Source):
    """Rows made in Python: the queue_log parser, the generator.

    Plain rows are numbered as a CSV file's would be (2, 3, …). With ``numbered=True`` each row comes
    as ``(file line, cells)``, the line of the file that made it (the queue event that finished a
    call): errors then name that line. Several rows may come from one line (a log-off that ends two
    days of work time), so the engine stages them under numbers of their own and asks ``file_line``.
    """

    def __init__(
        self,
        header: list[str],
        rows: Iterable[list[str]] | Iterable[tuple[int, list[str]]],
        filename: str,
        encoding: str = "",
        numbered: bool = False,
    ):
        super().__init__(filename=filename, header=list(header), encoding=encoding)
        self._rows = rows
        self._numbered = numbered
        self._file_lines: list[int] = []  # staged row 2 + i came from file line _file_lines[i]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if not self._numbered:
            for line, cells in enumerate(self._rows, start=2):
                yield line, _texts(cells)
            return
        self._file_lines = []
        numbered = cast(Iterable[tuple[int, list[str]]], self._rows)
        for staged, (line, cells) in enumerate(numbered, start=2):
            self._file_lines.append(line)
            yield staged, _texts(cells)

    def file_line(self, line: int) -> int:
        index = line - 2
        if self._numbered and 0 <= index < len(self._file_lines):
            return self._file_lines[index]
        return line


def _texts(cells) -> list[str]:
    return ["" if cell is None else str(cell) for cell in cells]


def open_source(stream: BinaryIO, filename: str, has_header: bool = True) -> Source:
    """The right reader for a file, by its name and its first bytes."""
    stream.seek(0)
    magic = stream.read(4)
    stream.seek(0)
    if filename.lower().endswith((".xlsx", ".xlsm")) or magic == b"PK\x03\x04":
        return XlsxSource(stream, filename, has_header)
    return CsvSource(stream, filename, has_header)
