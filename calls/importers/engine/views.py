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


def typed_value(imp, f, v: str, *, raw: str | None = None) -> str:
    """The typed value of the text ``v`` of a number, time or flag; NULL when empty or not of its kind.

    Careful: every cast guarded by the grammar's check, so a bad value never aborts a statement — the
    database may evaluate the expression on a row before a filter excludes it. With ``raw``, the
    column of the field's fast form (``raw_selects``: PostgreSQL's plain cast, which raises on a value
    of no form at all — the caller then takes the careful way for the whole file): a value written as
    the database writes it back is that cast's, any other goes the careful way.
    """
    d = imp.dialect
    careful = f"WHEN {v} <> '' AND {d.valid(f, v)} THEN {d.value(f, v, imp.tz)}"
    form = d.fast(f) if raw else None
    if form is not None:
        quick = f"WHEN {form.canonical(raw, v)} THEN {form.value(raw)}"
        return f"CASE WHEN {v} = '' THEN NULL {quick} {careful} END"
    return f"CASE {careful} END"


def typed_expr(imp, f, *, fast: bool = False, alias: str = "m") -> str:
    """The fact's column of a field from its text in the mapped view: a text or choice as it is, a
    customer number as its key, anything else by ``typed_value``."""
    v = f"{alias}.{f.name}"
    if f.kind in TEXT_KINDS:
        return v
    if f.kind == "customer":
        return imp.dialect.customer(v, customer_secret())
    raw = f"{alias}.r_{f.name}" if fast and imp.dialect.fast(f) else None
    return typed_value(imp, f, v, raw=raw)


def raw_selects(imp, *, alias: str = "m") -> list[str]:
    """``r_<field>``: PostgreSQL's plain cast of each field with a fast form, computed once (one level
    below ``typed_selects(fast=True)``, which reads it twice)."""
    selects = []
    for f in imp.kind.fields:
        form = imp.dialect.fast(f) if f.target and f.kind not in TEXT_KINDS else None
        if form is not None:
            v = f"{alias}.{f.name}"
            selects.append(f"CASE WHEN {v} = '' THEN NULL ELSE {form.raw(v)} END AS r_{f.name}")
    return selects


def typed_selects(imp, *, fast: bool, alias: str = "m") -> list[str]:
    """``t_<field>``: the typed value of every field the fact keeps, but the agent (found by a join).
    ``fast``: over a relation that has ``raw_selects``' columns too."""
    return [
        f"{typed_expr(imp, f, fast=fast, alias=alias)} AS t_{f.name}"
        for f in imp.kind.fields
        if f.target and f.kind != "agent"
    ]


def with_raw(imp, relation: str, *, fast: bool) -> str:
    """``relation`` (a table or a view) as a subquery with ``raw_selects``' columns when ``fast``."""
    fence = imp.dialect.fence
    raw = raw_selects(imp, alias="m0") if fast else []
    if not raw:
        return f"(SELECT * FROM {relation} {fence})"
    return f"(SELECT m0.*, {', '.join(raw)} FROM (SELECT * FROM {relation} {fence}) m0 {fence})"


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
    source = with_raw(imp, mapped, fast=fast)
    with imp.dialect.file_zone(cursor, imp.tz):
        cursor.execute(
            f"CREATE TEMP TABLE {rows} AS SELECT m.*, {', '.join(selects)} FROM {source} m {join}"
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
