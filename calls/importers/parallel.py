"""A large CSV file loaded and checked by several PostgreSQL sessions at once.

PostgreSQL runs one statement on one core, and the import's own transaction must do the final write
alone (it is the unit that commits or leaves nothing). Everything before that write needs no
transaction: reading the file into a staging table and computing every row's typed, mapped, hashed and
checked values. So a large file is cut into parts at record boundaries, and each part is loaded and
computed by a session of its own, on its own core, into UNLOGGED tables (not written to the log: they
are scratch). The import's transaction then reads the parts' results and writes them into the facts
table in one statement, or, when a row broke a rule, examines the parts through one view like any
other file.

The scratch tables are committed (other sessions must see them), so they are dropped by the import's
transaction when it ends; a transaction that rolls back keeps them, and the next large import sweeps
the tables of any import whose sessions are gone.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection

PREFIX = "imp_par_"
_RECORD_END = re.compile(rb'["\n]')


@dataclass
class Part:
    start: int  # byte offset where the part's first record starts
    end: int  # byte offset after its last record
    lines_before: int  # physical lines before it, to say where a COPY error is in the file


def worker_count() -> int:
    return settings.IMPORT_WORKERS


def split(stream, start: int, parts: int, minimum: int) -> list[Part] | None:
    """Cut the file into ``parts`` runs of whole records of about equal size, or None when it is too
    small or has no line ends to cut at.

    A cut falls on a line end outside quotes: a quoted cell may hold a line break. In every encoding
    the importer accepts, the bytes of a quote and a line end never occur inside another character.
    """
    stream.seek(0, 2)
    size = stream.tell()
    if parts < 2 or size - start < minimum:
        return None
    targets = [start + (size - start) * k // parts for k in range(1, parts)]
    cuts: list[tuple[int, int]] = []  # (offset, physical lines before)
    quoted, lines, offset = False, 0, start
    stream.seek(start)
    while targets and (chunk := stream.read(1024 * 1024)):
        chunk_end = offset + len(chunk)
        if targets[0] >= chunk_end and not quoted and b'"' not in chunk:
            lines += chunk.count(b"\n")  # the common case: no quotes, nothing to cut here
            offset = chunk_end
            continue
        for match in _RECORD_END.finditer(chunk):
            if match.group() == b'"':
                quoted = not quoted
                continue
            lines += 1
            at = offset + match.end()
            if targets and at >= targets[0] and not quoted:
                cuts.append((at, lines))
                targets.pop(0)
        offset = chunk_end
    if not cuts or cuts[-1][0] >= size:
        return None
    bounds = [(start, 0), *cuts]
    ends = [c[0] for c in cuts] + [size]
    return [Part(b, e, lines) for (b, lines), e in zip(bounds, ends, strict=True)]


def _connect() -> psycopg.Connection:
    params = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k not in ("cursor_factory", "context")
    }
    return psycopg.connect(**params, autocommit=True)


class Sessions:
    """One PostgreSQL session per part, each used by one thread at a time."""

    def __init__(self, count: int):
        self.name = f"{PREFIX}{int(time.time())}_{uuid.uuid4().hex[:8]}"
        self.connections: list[psycopg.Connection] = []
        try:
            for _ in range(count):
                self.connections.append(_connect())
            # Held while the sessions live: another import's sweep leaves this one's tables alone.
            self.connections[0].execute("SELECT pg_advisory_lock(hashtext(%s))", [self.name])
        except Exception:
            self.close()
            raise
        self.pool = ThreadPoolExecutor(max_workers=count)

    def table(self, what: str, index: int) -> str:
        return f"{self.name}_{what}_{index}"

    def each(self, work: Callable[[int, psycopg.Cursor], object]) -> list:
        """Run ``work(index, cursor)`` in every session at once; the first error is raised after all
        have finished (none is left running against a table about to be dropped)."""
        futures = [self.pool.submit(_run, work, i, conn) for i, conn in enumerate(self.connections)]
        wait(futures)
        for future in futures:
            if (error := future.exception()) is not None:
                raise error
        return [future.result() for future in futures]

    def sweep(self) -> None:
        """Drop the scratch tables of imports whose sessions are gone (a rolled-back import keeps
        them): each import holds an advisory lock named after it while its sessions live."""
        cursor = self.connections[0].cursor()
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s",
            [PREFIX.replace("_", r"\_") + "%"],
        )
        names = [name for (name,) in cursor.fetchall()]
        owners = {"_".join(name.split("_")[:4]) for name in names} - {self.name}
        cursor.execute("SET lock_timeout = '200ms'")
        for owner in sorted(owners):
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [owner])
            (locked,) = cursor.fetchone() or (False,)
            if not locked:
                continue  # that import is running
            try:
                for name in (n for n in names if n.startswith(owner + "_")):
                    # Its transaction may be dropping them right now: it holds them until it ends.
                    with contextlib.suppress(psycopg.errors.LockNotAvailable):
                        cursor.execute(f'DROP TABLE IF EXISTS "{name}"')
            finally:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [owner])
        cursor.execute("RESET lock_timeout")

    def drop_own(self, names: list[str]) -> None:
        """Drop scratch tables the import's transaction has not read (it holds no lock on them)."""
        cursor = self.connections[0].cursor()
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")

    def close(self) -> None:
        if getattr(self, "pool", None):
            self.pool.shutdown(wait=True)
        for conn in self.connections:
            conn.close()


def _run(work, index, conn):
    with conn.cursor() as cursor:
        return work(index, cursor)


def part_chunks(
    stream, lock: threading.Lock, part: Part, size: int = 1024 * 1024
) -> Iterator[bytes]:
    """A part's bytes, read under a lock: the parts share one file object."""
    position = part.start
    while position < part.end:
        with lock:
            stream.seek(position)
            chunk = stream.read(min(size, part.end - position))
        if not chunk:
            return
        position += len(chunk)
        yield chunk
