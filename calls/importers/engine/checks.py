"""Every rule a row must follow, as SQL, and the search for the rows that break one.

The rules read a line once typed (``views.create_rows_table``): each field's text ``<field>`` and typed
value ``t_<field>``, NULL where the text is empty or not of the field's kind. The field rules are a
table: each entry turns a property of a field (required, length, the grammar of its kind, choices,
range, a mapping's pattern) into (column, reason, SQL true when the row is wrong). The rules across
fields of a row (``FactKind.checks``) read the typed values by the fact's column names; the lookups
(agents, queues) read our own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from calls.importers import grammar
from calls.importers.grammar import quote
from calls.models import MonthLock, Queue

UNKNOWN_AGENT = "unknown agent: no agent has this employee id"
UNKNOWN_QUEUE = "unknown queue: not among the queues set up in the administration"


@dataclass(frozen=True)
class Rule:
    column: str
    reason: str
    sql: str  # true when the row is wrong; over the line's columns, by their bare names


# Each maker: (import, field, its text column, its typed column) → (reason, SQL) or None.


def _required(imp, f, v, t):
    return ("required", f"{v} = ''") if f.required else None


def _too_long(imp, f, v, t):
    if f.max_length:
        return f"longer than {f.max_length} characters", f"LENGTH({v}) > {f.max_length}"
    return None


def _of_its_kind(imp, f, v, t):
    """Given, but not of the field's kind: its typed value is NULL (``views.typed_value`` is NULL
    exactly where the grammar refuses the text)."""
    if f.kind not in grammar.TYPED or f.kind == "bool":
        return None
    reason = grammar.KINDS[f.kind].reason
    if f.kind in ("date", "datetime") and imp.reading.date_format:
        what = "a date and time" if f.kind == "datetime" else "a date"
        reason = f"not {what} in the mapping's format {imp.reading.date_format}"
    return reason, f"{v} <> '' AND {t} IS NULL"


def _one_of(imp, f, v, t):
    if f.kind == "bool":
        return grammar.KINDS["bool"].reason, f"{v} <> '' AND {v} NOT IN ('1', '0')"
    if f.kind == "choice":
        allowed = ", ".join(quote(c) for c in f.choices)
        return f"must be one of {', '.join(f.choices)}", f"{v} <> '' AND {v} NOT IN ({allowed})"
    return None


def _at_least(imp, f, v, t):
    if f.minimum is None:
        return None
    return ("negative" if f.minimum == 0 else f"below {f.minimum}"), f"{t} < {f.minimum}"


def _at_most(imp, f, v, t):
    return None if f.maximum is None else (f"larger than {f.maximum}", f"{t} > {f.maximum}")


def _unmatched(imp, f, v, t):
    rule = imp.reading.rules.get(f.name)
    if rule is None or not rule.pattern:
        return None
    return f"does not match the mapping's pattern {rule.pattern}", f"nm_{f.name} = 1"


FIELD_RULES: tuple[Callable, ...] = (
    _required,
    _too_long,
    _of_its_kind,
    _one_of,
    _at_least,
    _at_most,
    _unmatched,
)


def field_rules(imp) -> list[Rule]:
    """The rules of every field the file gives; a comparison with an unknown value is not wrong."""
    false = imp.dialect.false()
    rules = []
    for f in imp.kind.fields:
        if f.name not in imp.reading.present:
            continue
        for make in FIELD_RULES:
            found = make(imp, f, f.name, f"t_{f.name}")
            if found is not None:
                rules.append(Rule(f.name, found[0], f"COALESCE(({found[1]}), {false})"))
    if "answered_at" in imp.reading.derived and "answered" in imp.reading.present:
        reason = "an answered call needs its wait: the answer is the entry plus the wait"
        rules.append(Rule("wait_seconds", reason, "answered = '1' AND wait_seconds = ''"))
    return rules


def lookups(
    imp, agents: str | None = None, queues: str | None = None
) -> list[tuple[str, str, str]]:
    """(column, SQL listing the known values, reason) for the fields checked against our own tables
    (or copies of them, ``agents`` and ``queues``, in a session of a parallel load)."""
    found = [
        (f.name, f"SELECT employee_id FROM {agents or imp.agent_table}", UNKNOWN_AGENT)
        for f in imp.kind.fields
        if f.kind == "agent" and f.name in imp.reading.present
    ]
    # Calls and ring attempts name a queue: once HR has listed the queues, it must be one of them.
    if "queue" in imp.reading.present and Queue.objects.exists():
        found.append(("queue", f"SELECT code FROM {queues or Queue._meta.db_table}", UNKNOWN_QUEUE))
    return found


def _unknown(column: str, listed: str) -> str:
    """SQL true where a looked-up field names nothing we know. An agent was already looked up by the
    rows table's join (its id is NULL): no second search."""
    if listed.startswith("SELECT employee_id"):
        return f"{column} <> '' AND t_{column} IS NULL"
    return f"{column} <> '' AND {column} NOT IN ({listed})"


def find_bad_lines(cursor, imp, rows: str, bad: str, errs: str, folded: str, dups: str) -> None:
    """One scan finds the lines that break a rule; only they are examined again, rule by rule. A line
    that repeats an earlier line of the same key exactly is folded into it (``folded``), not refused.
    ``rows``: every line with its texts and typed values."""
    rules = field_rules(imp)
    known = lookups(imp)
    key = ", ".join(imp.kind.key)
    wrong = [rule.sql for rule in rules] + [
        _unknown(column, listed) for column, listed, _r in known
    ]
    any_rule = " OR ".join(f"({sql})" for sql in wrong) or "1 = 0"
    cursor.execute(f"CREATE TEMP TABLE {bad} AS SELECT line FROM {rows} WHERE {any_rule}")
    # Lines of a key already seen: the same line again is folded; another line with that key is an
    # error (unless the mapping folds a call's legs, which share their key by design). One pass finds
    # them; only they (usually none) are compared with the line they repeat.
    cursor.execute(
        f"CREATE TEMP TABLE {dups} AS SELECT line, first FROM (SELECT line, "
        f"MIN(line) OVER (PARTITION BY {key}) AS first, "
        f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY line) AS n FROM {rows}) d WHERE d.n > 1"
    )
    cursor.execute(f"SELECT count(*) FROM {dups}")
    some = cursor.fetchone()[0] > 0
    # A line the same in every field as an earlier one (of a key seen twice: only those are sorted).
    every = ", ".join(f.name for f in imp.kind.fields)
    key_of = imp.kind.key[0]
    repeated = (
        f"SELECT line, MIN(line) OVER (PARTITION BY {every}) AS first, "
        f"ROW_NUMBER() OVER (PARTITION BY {every} ORDER BY line) AS n FROM {rows} "
        f"WHERE {key_of} IN (SELECT r.{key_of} FROM {rows} r JOIN {dups} d ON d.line = r.line)"
    )
    cursor.execute(
        f"CREATE TEMP TABLE {folded} AS SELECT line, first FROM ({repeated}) x "
        f"WHERE x.n > 1 AND {'1 = 1' if some else '1 = 0'}"
    )
    if not imp.fold_legs:
        cursor.execute(
            f"INSERT INTO {bad} SELECT line FROM {dups} WHERE line NOT IN (SELECT line FROM {folded})"
        )
    # ref: a line another one refers to (a duplicate's first), said as a file line by the source.
    cursor.execute(
        f"CREATE TEMP TABLE {errs} (line bigint, col text, val text, reason text, ref bigint)"
    )
    cursor.execute(f"SELECT count(*) FROM {bad}")
    if cursor.fetchone()[0] == 0:
        return
    suspects = f"r.line IN (SELECT line FROM {bad})"
    said = [(rule.column, rule.reason, rule.sql) for rule in rules]
    said += [(column, reason, _unknown(column, listed)) for column, listed, reason in known]
    for column, reason, sql in said:
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT r.line, %s, r.{column}, %s FROM {rows} r "
            f"WHERE {suspects} AND ({sql})",
            [column, reason],
        )
    if not imp.fold_legs:
        first_key = imp.kind.key[0]
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason, ref) SELECT d.line, %s, r.{first_key}, "
            f"'duplicate, first seen on line', d.first FROM {dups} d "
            f"JOIN {rows} r ON r.line = d.line WHERE d.line NOT IN (SELECT line FROM {folded})",
            [first_key],
        )


def row_checks(cursor, imp, typed: str, errs: str) -> None:
    """Rules across the fields of a row. ``typed``: the lines that passed the field rules, by the
    fact's column names."""
    for check in imp.kind.checks:
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {typed} t "
            f"WHERE {check.sql}",
            [check.column, check.reason],
        )


def month_checks(cursor, imp, written: str, errs: str, period) -> None:
    """The months of the facts a file would write (a call folded from its legs is one fact): locked
    ones (approved or closed) always, the batch's own if given."""
    field = imp.kind.field(imp.kind.period_field)
    column = field.target
    stored_in_locked_months(cursor, imp, written, errs)
    # A line of a locked month that repeats its stored fact exactly changes nothing: it stays (an export
    # overlapping an approved month, a file imported again); a new or changed one is refused.
    unchanged = stored_unchanged(imp)
    for lock in MonthLock.objects.all():
        reason = lock.refusal
        start, end = imp.month_bounds(lock.year, lock.month)
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {written} t "
            f"WHERE t.{column} >= %s AND t.{column} < %s AND NOT {unchanged}",
            [field.name, reason, start, end, imp.source_name],
        )
    if period is not None:
        start, end = imp.month_bounds(*period)
        reason = f"outside the month {period[0]}-{period[1]:02d} chosen for this import"
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {written} t "
            f"WHERE t.{column} < %s OR t.{column} >= %s",
            [field.name, reason, start, end],
        )


def stored_unchanged(imp) -> str:
    """SQL (one parameter: the source) true when the line ``t`` repeats a stored fact exactly: the same
    key, and no column that differs (the comparison ``writing.upsert`` makes)."""
    keys = [imp.kind.field(k).target for k in imp.kind.key]
    compared = [target for target in imp.targets if target not in keys]
    join = " AND ".join(f"f.{k} = t.{k}" for k in keys)
    changed = " OR ".join(imp.dialect.distinct(f"f.{c}", f"t.{c}") for c in compared) or "1 = 0"
    return f"EXISTS (SELECT 1 FROM {imp.kind.table} f WHERE f.source = %s AND {join} AND NOT ({changed}))"


def stored_in_locked_months(cursor, imp, typed: str, errs: str) -> None:
    """A line that would move a fact already stored in a locked month out of it (its new date is
    elsewhere) is refused like a line dated in that month: the month's facts change either way. A line
    dated in the month itself is refused by ``month_checks`` already."""
    field = imp.kind.field(imp.kind.period_field)
    column = field.target
    table = imp.kind.table
    keys = [imp.kind.field(k).target for k in imp.kind.key]
    join = " AND ".join(f"f.{k} = t.{k}" for k in keys)
    for lock in MonthLock.objects.all():
        start, end = imp.month_bounds(lock.year, lock.month)
        cursor.execute(
            f"INSERT INTO {errs} (line, col, val, reason) SELECT t.line, %s, '', %s FROM {typed} t "
            f"JOIN {table} f ON f.source = %s AND {join} "
            f"WHERE f.{column} >= %s AND f.{column} < %s AND NOT (t.{column} >= %s AND t.{column} < %s)",
            [
                field.name,
                f"already imported into the month {lock}, which is {lock.said}",
                imp.source_name,
                start,
                end,
                start,
                end,
            ],
        )
