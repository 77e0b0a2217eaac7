"""Writing the facts: the one-statement insert of a clean file, the legs of a call folded into one, and
the comparison with the facts already there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DataError, IntegrityError, transaction

from calls.importers.engine import views
from calls.importers.engine.checks import field_rules, lookups


class NotClean(Exception):
    """The one-statement insert left rows out: the file needs the full examination."""


def looked_up(imp) -> list[str]:
    """The fields checked against our own tables (see ``checks.lookups``)."""
    return [f.name for f in imp.kind.fields if f.kind == "agent"] + (
        ["queue"] if any(f.name == "queue" for f in imp.kind.fields) else []
    )


def clean_rows(imp, mapped: str, *, fast: bool) -> str:
    """A SELECT of the rows that pass every rule needing none of our tables, typed as the fact's columns.

    The fields looked up in our tables (agent, queue) come as they are in ``lk_<field>``: the statement
    that writes the facts resolves them. Pure SQL over the staged file, so a session of its own can
    compute it for its part of a large file. ``fast``: by the grammar's fast forms, which may raise on
    a value of no form at all (the caller then takes the careful way).
    """
    d = imp.dialect
    false = d.false()
    typed = ", ".join(views.typed_selects(imp, fast=fast))
    selects = [
        f"x.t_{f.name} AS {f.target}" for f in imp.kind.fields if f.target and f.kind != "agent"
    ]
    selects += [f"x.{column} AS lk_{column}" for column in looked_up(imp)]
    any_rule = " OR ".join(f"({rule.sql})" for rule in field_rules(imp)) or "1 = 0"
    typed_ok = [f"NOT COALESCE(({check.sql}), {false})" for check in imp.kind.checks]
    return (
        f"SELECT * FROM (SELECT {', '.join(selects)} FROM (SELECT m.*, {typed} "
        f"FROM {views.with_raw(imp, mapped, fast=fast)} m {d.fence}) x "
        f"WHERE NOT COALESCE(({any_rule}), {false}) {d.fence}) t "
        f"WHERE {' AND '.join(typed_ok) or '1 = 1'}"
    )


def key_order(imp) -> str:
    """The order of the facts' unique key."""
    columns = []
    for name in imp.kind.key:
        f = imp.kind.field(name)
        if f.kind == "agent":
            columns.append("ag.id")
        else:
            columns.append(
                imp.dialect.binary(f"t.{f.target}") if f.kind == "text" else f"t.{f.target}"
            )
    return ", ".join(columns)


def final_rows(
    imp, rows: str, agents: str | None = None, queues: str | None = None
) -> tuple[str, list]:
    """(SELECT, parameters) of the fact's columns for ``rows`` (see ``clean_rows``) that name a known
    agent and queue and fall in no locked month (nor outside the import's month), in the order of the
    facts' unique key: the index then grows at its end, page after page, instead of at a million
    scattered places (half the time of the write on PostgreSQL)."""
    false = imp.dialect.false()
    agent = imp.agent_field
    join = (
        f"LEFT JOIN {agents or imp.agent_table} ag ON ag.employee_id = t.lk_{agent}"
        if agent
        else ""
    )
    where = [
        f"NOT COALESCE((t.lk_{column} <> '' AND t.lk_{column} NOT IN ({known})), {false})"
        for column, known, _r in lookups(imp, agents, queues)
    ]
    column = imp.kind.field(imp.kind.period_field).target
    params: list = []
    for start, end in imp.locked_months():
        where.append(f"NOT COALESCE((t.{column} >= %s AND t.{column} < %s), {false})")
        params += [start, end]
    if imp.period is not None:
        where.append(f"NOT COALESCE((t.{column} < %s OR t.{column} >= %s), {false})")
        params += list(imp.month_bounds(*imp.period))
    values = [
        f"{'ag.id' if f.kind == 'agent' else 't.' + f.target} AS {f.target}"
        for f in imp.kind.fields
        if f.target
    ]
    sql = (
        f"SELECT {', '.join(values)} FROM ({rows}) t {join} "
        f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY {key_order(imp)}"
    )
    return sql, params


def insert_if_clean(cursor, imp, rows: str, total: int, *, final: bool = False) -> bool:
    """Insert every row in one statement if every row is valid and new; else change nothing.

    ``rows`` holds the rows that passed the rules of the file alone (``clean_rows``), or with ``final``
    the parts' ``final_rows`` already computed, each part in order. The unique key of the facts refuses
    a row already imported or a duplicate within the file, and the row count says whether anything was
    left out; a value the fast forms could not even cast raises, and changes nothing either.
    """
    targets = imp.targets
    select, params = (rows, []) if final else final_rows(imp, rows)
    sql = (
        f"INSERT INTO {imp.kind.table} (source, batch_id, {', '.join(targets)}) "
        f"SELECT %s, %s, {', '.join('f.' + t for t in targets)} FROM ({select}) f"
    )
    try:
        with transaction.atomic():  # a savepoint: anything left out undoes the whole statement
            if imp.dialect.vendor == "postgresql" and not final:  # the sort by key stays in memory
                cursor.execute(
                    "SELECT set_config('work_mem', %s, true)", [settings.IMPORT_SORT_MEMORY]
                )
            with imp.dialect.file_zone(cursor, imp.tz):
                cursor.execute(sql, [imp.source_name, imp.batch_id, *params])
                inserted = cursor.rowcount
            if inserted != total:
                raise NotClean
    except (NotClean, IntegrityError, DataError):
        return False
    return True


# --- the legs of a call, folded ------------------------------------------------------------------------

_SUMMED = ("talk_seconds", "hold_seconds", "acw_seconds")


def reject_whole_calls(cursor, imp, mapped: str, errs: str) -> None:
    """A call whose legs are folded is written whole or not at all: a leg with an error refuses its
    call's other legs, each named with the line that holds the error."""
    key = imp.kind.field(imp.kind.key[0])
    cursor.execute(
        f"INSERT INTO {errs} (line, col, val, reason, ref) SELECT m.line, %s, m.{key.name}, "
        f"'another leg of this call has an error, on line', e.first "
        f"FROM {mapped} m JOIN (SELECT x.{key.name} AS k, MIN(r.line) AS first FROM {errs} r "
        f"JOIN {mapped} x ON x.line = r.line GROUP BY x.{key.name}) e ON e.k = m.{key.name} "
        f"WHERE m.line NOT IN (SELECT line FROM {errs})",
        [key.name],
    )


def create_folded_view(cursor, imp, typed: str, folded: str) -> None:
    """One row per call from its legs (rows of the same call id): the first answered leg is kept (or,
    unanswered, the last), entered when the first leg entered, waiting from then until the kept leg's
    answer; talk, hold and after-call work summed; a transfer counted for every answered leg after the
    first, beside the legs' own; a complaint on any leg is the call's."""
    d = imp.dialect
    key = imp.kind.field(imp.kind.key[0]).target
    pick = (
        f"ROW_NUMBER() OVER (PARTITION BY t.{key} ORDER BY CASE WHEN t.answered_at IS NULL THEN 1 ELSE 0 END, "
        "CASE WHEN t.answered_at IS NULL THEN -t.line ELSE t.line END)"
    )
    window = f"OVER (PARTITION BY t.{key})"
    extra = [
        f"{pick} AS pick",
        f"MIN(t.started_at) {window} AS first_at",
        *(f"SUM(t.{c}) {window} AS sum_{c}" for c in _SUMMED),
        f"SUM(t.transfers) {window} AS sum_transfers",
        f"SUM(CASE WHEN t.answered_at IS NULL THEN 0 ELSE 1 END) {window} AS answered_legs",
        f"MAX(CASE WHEN t.complaint THEN 1 WHEN t.complaint IS NULL THEN NULL ELSE 0 END) {window} AS any_complaint",
    ]
    waited = d.seconds_between_sql("f.first_at", "f.started_at")
    columns = {target: f"f.{target}" for target in imp.targets}
    columns.update(
        started_at="f.first_at",
        wait_seconds=f"f.wait_seconds + {waited}",
        transfers="CASE WHEN f.answered_legs > 1 THEN f.answered_legs - 1 ELSE 0 END + COALESCE(f.sum_transfers, 0)",
        complaint=f"CASE f.any_complaint WHEN 1 THEN {d.true()} WHEN 0 THEN {d.false()} END",
        **{c: f"f.sum_{c}" for c in _SUMMED},
    )
    cursor.execute(
        f"CREATE TEMP VIEW {folded} AS SELECT f.line AS line, "
        + ", ".join(f"{expr} AS {target}" for target, expr in columns.items())
        + f" FROM (SELECT t.*, {', '.join(extra)} FROM {typed} t) f WHERE f.pick = 1"
    )


# --- the comparison with the facts already there ----------------------------------------------------------


def upsert(cursor, imp, typed: str, errs: str, existing: str, outcome) -> None:
    """Record and apply changes to facts already there, insert the new ones; the unchanged stay."""
    d, table, targets = imp.dialect, imp.kind.table, imp.targets
    key_targets = [imp.kind.field(k).target for k in imp.kind.key]
    compared = [t for t in targets if t not in key_targets]
    join = " AND ".join(f"f.{k} = t.{k}" for k in key_targets)
    valid = f"NOT EXISTS (SELECT 1 FROM {errs} r WHERE r.line = t.line)"
    cursor.execute(
        f"CREATE TEMP TABLE {existing} AS SELECT t.line AS line, f.id AS fact_id FROM {typed} t "
        f"JOIN {table} f ON f.source = %s AND {join} WHERE {valid}",
        [imp.source_name],
    )
    changed = " OR ".join(d.distinct(f"f.{c}", f"t.{c}") for c in compared) or "1 = 0"
    before = d.json_object([(c, f"f.{c}") for c in [*compared, "batch_id"]])
    after = d.json_object([(c, f"t.{c}") for c in compared])
    cursor.execute(
        f"INSERT INTO calls_factchange (batch_id, fact, fact_id, before, after) "
        f"SELECT %s, %s, f.id, {before}, {after} FROM {typed} t JOIN {existing} e ON e.line = t.line "
        f"JOIN {table} f ON f.id = e.fact_id WHERE {changed}",
        [imp.batch_id, imp.kind.code],
    )
    outcome.updated = cursor.rowcount
    if outcome.updated:
        sets = ", ".join(f"{c} = t.{c}" for c in compared)
        cursor.execute(
            f"UPDATE {table} SET {sets}, batch_id = %s FROM (SELECT e.fact_id, {', '.join('x.' + c for c in compared)} "
            f"FROM {typed} x JOIN {existing} e ON e.line = x.line) AS t "
            f"WHERE {table}.id = t.fact_id AND {table}.id IN (SELECT fact_id FROM calls_factchange WHERE batch_id = %s)",
            [imp.batch_id, imp.batch_id],
        )
    columns = ", ".join(["source", "batch_id", *targets])
    values = ", ".join(["%s", "%s", *(f"t.{t}" for t in targets)])
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {values} FROM {typed} t "
        f"WHERE {valid} AND NOT EXISTS (SELECT 1 FROM {existing} e WHERE e.line = t.line)",
        [imp.source_name, imp.batch_id],
    )
    outcome.created = cursor.rowcount
