"""The staged file seen as the fact's fields: first as text (the mapped view), then typed.

The mapped view has one text column per field of the kind, read through the column mapping
(``calls.importers.mapping``): trimmed, joined, extracted, computed, through the value maps, dates in
the mapping's format rewritten; '' where the file does not give the field. Every rule checks that text.
The typed expressions then turn it into the fact's columns by the field grammar: an empty text is
unknown (NULL; '' for texts and choices), never a 0 nobody wrote.
"""

from __future__ import annotations

from calls.importers.mapping import SqlText
from calls.privacy import customer_secret

TEXT_KINDS = ("text", "choice", "agent")


def create_mapped_view(cursor, imp, stage: str, mapped: str) -> None:
    """``mapped``: the line, then one text column per field of the kind, then a flag per pattern."""
    text = SqlText(imp.reading, imp.dialect, imp.tz)
    selects = ["line"]
    for f in imp.kind.fields:
        expr = text.text(f.name) if f.name in imp.reading.present else "''"
        selects.append(f"{expr} AS {f.name}")
    for f in imp.kind.fields:
        unmatched = text.unmatched(f.name)
        if unmatched:
            selects.append(f"CASE WHEN {unmatched} THEN 1 ELSE 0 END AS nm_{f.name}")
    cursor.execute(f"CREATE TEMP VIEW {mapped} AS SELECT {', '.join(selects)} FROM {stage}")


def typed_value(imp, f, v: str, *, fast: bool = False) -> str:
    """The typed value of the text ``v`` of a number, time or flag; NULL when empty or not of its kind.

    Careful (the default): every cast guarded by the grammar's check, so a bad value never aborts a
    statement — the database may evaluate the expression on a row before a filter excludes it. Fast
    (PostgreSQL): a value written as the database writes it back is cast at once, any other goes the
    careful way; the cast of that test raises on a value of no form at all, and the caller then takes
    the careful way for the whole file.
    """
    d = imp.dialect
    careful = f"WHEN {v} <> '' AND {d.valid(f, v)} THEN {d.value(f, v, imp.tz)}"
    quick = d.fast(f, v, imp.tz) if fast else None
    if quick is not None:
        return f"CASE WHEN {v} = '' THEN NULL WHEN {quick[1]} THEN {quick[0]} {careful} END"
    return f"CASE {careful} END"


def typed_expr(imp, f, *, fast: bool = False, alias: str = "m") -> str:
    """The fact's column of a field from its text in the mapped view: a text or choice as it is, a
    customer number as its key, anything else by ``typed_value``."""
    v = f"{alias}.{f.name}"
    if f.kind in TEXT_KINDS:
        return v
    if f.kind == "customer":
        return imp.dialect.customer(v, customer_secret())
    return typed_value(imp, f, v, fast=fast)


def typed_selects(imp, *, fast: bool, alias: str = "m") -> list[str]:
    """``t_<field>``: the typed value of every field the fact keeps, but the agent (found by a join)."""
    return [
        f"{typed_expr(imp, f, fast=fast, alias=alias)} AS t_{f.name}"
        for f in imp.kind.fields
        if f.target and f.kind != "agent"
    ]


def create_rows_table(cursor, imp, mapped: str, rows: str, *, fast: bool) -> None:
    """Every line of the file once, in one pass: its texts (the mapped view's columns), its typed values
    (``t_<field>``) and its agent's id (``t_<agent field>``). The examination's every statement reads
    this table, so no value is read twice."""
    selects = typed_selects(imp, fast=fast)
    agent = imp.agent_field
    join = ""
    if agent:
        selects.append(f"ag.id AS t_{agent}")
        join = f"LEFT JOIN {imp.agent_table} ag ON ag.employee_id = m.{agent}"
    cursor.execute(
        f"CREATE TEMP TABLE {rows} AS SELECT m.*, {', '.join(selects)} FROM {mapped} m {join}"
    )


def typed_rows(imp, rows: str, bad: str) -> str:
    """A subquery of the lines that passed the field rules, named as the fact's columns."""
    selects = ["r.line AS line"] + [
        f"r.t_{f.name} AS {f.target}" for f in imp.kind.fields if f.target
    ]
    return (
        f"(SELECT {', '.join(selects)} FROM {rows} r "
        f"WHERE NOT EXISTS (SELECT 1 FROM {bad} b WHERE b.line = r.line))"
    )
