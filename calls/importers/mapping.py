"""How a file's cells become a fact's fields: the column mapping, read once for SQL and for Python.

A saved mapping (``calls.models.ColumnMapping``) says, for each field, where its value comes from:

- ``"工号"``: the column of that name (files with a header line);
- ``3``: the third column, counted from 1 (files with or without a header);
- ``{"column": "channel", "pattern": "^SIP/([0-9]+)-"}``: the part of the value the pattern's group
  matches (the extension in ``SIP/301-0000001a``); a value the pattern does not match is an error;
- ``{"column": "disposition", "map": {"ANSWERED": "1", "NO ANSWER": "0"}}``: through a value map of
  its own (the mapping's ``value_maps`` apply too, and the field's built-in ones such as 呼入 → inbound);
- ``{"constant": "csat"}``: the same value on every row (a survey file of CSAT answers only);
- ``{"date": "日期", "time": "时间"}``: a date column and a time column joined;
- ``{"minus": ["duration", "billsec"]}``: a duration less another (wait = duration − billed seconds);
- ``{"plus_seconds": [{"field": "entered_at"}, "duration"]}``: a time plus a duration (end = start +
  duration). An operand is a column (name or position) or ``{"field": name}``, another field as read.

A call file may give ``answered`` (a 0/1 flag, or a disposition through a value map) instead of the
answer's time: the answer is then its entry plus the wait. Without a wait column, the wait is the
answer's time less the entry's when both are given.

Everything here is text in, text out: the field's text as the grammar (``calls.importers.grammar``)
then reads it, so one rule checks a value whatever its way into the field. The same reading is written
twice, side by side — as SQL over the staged columns (``sql``), and in Python over a row's cells
(``value``, for the upload preview) — and ``tests/calls/test_mappings.py`` holds them to each other.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from calls.importers import dates, grammar
from calls.importers.facts import FactKind
from calls.importers.sources import FileError
from calls.privacy import header_said

MAX_ECHO = 200  # characters of a value repeated in a message


class MappingError(ValueError):
    """A mapping that cannot be read; the message names the field and what is wrong with it."""


def echo(value, length: int = 0) -> str:
    """A value as a message repeats it: at most ``MAX_ECHO`` characters, a cut one ending in "…"
    (``length``: the whole value's, when only its start was read)."""
    text = "" if value is None else str(value)
    if max(length, len(text)) <= MAX_ECHO:
        return text
    return text[: MAX_ECHO - 1] + "…"


@dataclass(frozen=True)
class Column:
    """A column of the file, by its name in the header or its position counted from 1."""

    name: str | None = None
    position: int | None = None

    def __str__(self) -> str:
        return f"column {self.position}" if self.position else f"column {self.name!r}"


@dataclass(frozen=True)
class FieldRef:
    """Another field, as the mapping reads it."""

    name: str


Operand = Column | FieldRef


@dataclass(frozen=True)
class Rule:
    """Where one field's text comes from (exactly one source), and what is done to it."""

    column: Column | None = None
    constant: str | None = None
    date: Column | None = None
    time: Column | None = None
    minus: tuple[Operand, Operand] | None = None
    plus_seconds: tuple[Operand, Operand] | None = None
    pattern: str | None = None
    value_map: Mapping[str, str] = field(default_factory=dict)

    def operands(self) -> tuple[Operand, ...]:
        return self.minus or self.plus_seconds or ()


_SOURCES = ("column", "constant", "date", "minus", "plus_seconds")
_KEYS = {*_SOURCES, "time", "pattern", "map"}


def _column(value, where: str) -> Column:
    if isinstance(value, bool) or not isinstance(value, int | str) or value in ("", 0):
        raise MappingError(
            f"{where}: a column is its name or its position (1, 2, …), not {echo(value)!r}."
        )
    if isinstance(value, int):
        if value < 1:
            raise MappingError(f"{where}: columns are counted from 1, not {value}.")
        return Column(position=value)
    return Column(name=value.strip())


def _operand(value, where: str) -> Operand:
    if isinstance(value, dict):
        if set(value) != {"field"} or not isinstance(value["field"], str):
            raise MappingError(
                f'{where}: an operand is a column or {{"field": name}}, not {echo(value)}.'
            )
        return FieldRef(value["field"])
    return _column(value, where)


def _rule(name: str, spec) -> Rule:
    where = f"Field {name}"
    if isinstance(spec, str | int) and not isinstance(spec, bool):
        return Rule(column=_column(spec, where))
    if not isinstance(spec, dict):
        raise MappingError(
            f"{where}: a column name, a position or an object is expected, not {echo(spec)}."
        )
    unknown = set(spec) - _KEYS
    if unknown:
        raise MappingError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_KEYS))}."
        )
    sources = [key for key in _SOURCES if key in spec]
    if len(sources) != 1:
        raise MappingError(
            f"{where}: give exactly one of column, constant, date (with time), minus or "
            f"plus_seconds; found {', '.join(sources) or 'none'}."
        )
    source = sources[0]
    if "time" in spec and source != "date":
        raise MappingError(
            f"{where}: time goes with date (a date column and a time column joined)."
        )
    if ("pattern" in spec or "map" in spec) and source != "column":
        raise MappingError(f"{where}: pattern and map apply to a column.")
    value_map = spec.get("map") or {}
    if not isinstance(value_map, dict) or not all(
        isinstance(v, str | int) for v in value_map.values()
    ):
        raise MappingError(
            f'{where}: map is {{"value in the file": "value"}}, not {echo(value_map)}.'
        )
    pattern = spec.get("pattern")
    if pattern is not None:
        _check_pattern(pattern, where)
    if source == "column":
        texts = {str(k): str(v) for k, v in value_map.items()}
        return Rule(column=_column(spec["column"], where), pattern=pattern, value_map=texts)
    if source == "constant":
        if not isinstance(spec["constant"], str | int) or isinstance(spec["constant"], bool):
            raise MappingError(
                f"{where}: a constant is a text or a number, not {echo(spec['constant'])}."
            )
        return Rule(constant=str(spec["constant"]).strip())
    if source == "date":
        time = _column(spec["time"], where) if "time" in spec else None
        return Rule(date=_column(spec["date"], where), time=time)
    pair = spec[source]
    if not isinstance(pair, list) or len(pair) != 2:
        raise MappingError(f'{where}: {source} takes two operands, e.g. ["duration", "billsec"].')
    operands = (_operand(pair[0], where), _operand(pair[1], where))
    return Rule(minus=operands) if source == "minus" else Rule(plus_seconds=operands)


def _check_pattern(pattern, where: str) -> None:
    """A pattern in the subset PostgreSQL and Python read alike, with at most one group."""
    if not isinstance(pattern, str) or not pattern:
        raise MappingError(f"{where}: a pattern is a regular expression, e.g. ^SIP/([0-9]+)-.")
    if re.search(r"\\[dDwWsSbB]|\(\?", pattern):
        raise MappingError(
            f"{where}: the pattern {echo(pattern)!r} uses \\d, \\w, \\s or (?…): write [0-9], [A-Za-z0-9_] "
            "or a space instead, which every database reads the same."
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise MappingError(
            f"{where}: the pattern {echo(pattern)!r} is not a regular expression ({exc})."
        ) from None
    if compiled.groups > 1:
        raise MappingError(
            f"{where}: the pattern {echo(pattern)!r} has {compiled.groups} groups; use one, "
            "around the part to keep."
        )


def rules_of(
    kind: FactKind, columns: Mapping | None, value_maps: Mapping | None = None
) -> dict[str, Rule]:
    """The mapping's rule for every field it names, and its value maps, checked: ``MappingError`` names
    what is wrong."""
    columns = dict(columns or {})
    names = {f.name for f in kind.fields}
    unknown = set(columns) - names
    if unknown:
        raise MappingError(
            f"{kind.code} have no field {', '.join(sorted(unknown))}; "
            f"the fields are {', '.join(f.name for f in kind.fields)}."
        )
    for name, pairs in (value_maps or {}).items():
        if name not in names:
            raise MappingError(f"Value maps: {kind.code} have no field {name}.")
        if not isinstance(pairs, dict) or not all(isinstance(v, str | int) for v in pairs.values()):
            raise MappingError(
                f'Value maps of {name}: {{"value in the file": "value"}} expected, '
                f"not {echo(pairs)}."
            )
    rules = {name: _rule(name, spec) for name, spec in columns.items()}
    for name, rule in rules.items():
        for operand in rule.operands():
            if isinstance(operand, FieldRef) and operand.name not in names:
                raise MappingError(
                    f"Field {name}: {kind.code} have no field {operand.name} to compute from."
                )
    _no_cycles(rules)
    return rules


def _no_cycles(rules: Mapping[str, Rule]) -> None:
    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise MappingError(f"Fields computed from each other: {' → '.join((*path, name))}.")
        for operand in rules[name].operands() if name in rules else ():
            if isinstance(operand, FieldRef):
                visit(operand.name, (*path, name))

    for name in rules:
        visit(name, ())


# --- the mapping against one file ------------------------------------------------------------------------


@dataclass
class Reading:
    """A mapping resolved against one file: every field the file gives, with the positions of its
    columns, and the fields it lacks. ``sql`` and ``value`` read a field's text."""

    kind: FactKind
    rules: dict[str, Rule]  # fields read from the file (resolved: every column has a position)
    derived: set[str]  # fields the kind derives from others (answered_at from the answered flag, …)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)  # the mapping's, by field
    date_format: str = ""

    @property
    def present(self) -> set[str]:
        return set(self.rules) | self.derived

    def describe(self, name: str, column_name: Callable[[int], str]) -> str:
        """Where a field comes from, in words (the upload preview's column heads)."""
        if name in self.derived:
            return {
                "answered_at": "entered_at + wait_seconds (answered)",
                "wait_seconds": "answered_at − entered_at",
            }.get(name, "derived")
        rule = self.rules[name]

        def said(operand: Operand | None) -> str:
            return (
                operand.name if isinstance(operand, FieldRef) else column_name(_resolved(operand))
            )

        if rule.constant is not None:
            return f"= {rule.constant!r}"
        if rule.date is not None:
            return said(rule.date) + (f" + {said(rule.time)}" if rule.time else "")
        if rule.minus:
            return " − ".join(said(op) for op in rule.minus)
        if rule.plus_seconds:
            return " + ".join(said(op) for op in rule.plus_seconds)
        return said(rule.column) + (f" ~ {rule.pattern}" if rule.pattern else "")

    def columns_used(self) -> set[int]:
        """The positions of the file's columns the reading uses."""
        used = set()
        for rule in self.rules.values():
            for column in (rule.column, rule.date, rule.time, *rule.operands()):
                if isinstance(column, Column) and column.position:
                    used.add(column.position)
        return used


def read(
    kind: FactKind,
    header: Sequence[str],
    *,
    columns: Mapping | None = None,
    value_maps: Mapping | None = None,
    has_header: bool = True,
    date_format: str = "",
) -> Reading:
    """Resolve the mapping against the file's header (or, without one, its width): a field the mapping
    names must find its column, or the file is refused before anything is written, naming the column; a
    field the kind needs must be there; a field that is optional and absent is unknown (stored as NULL,
    or as an empty text)."""
    try:
        rules = rules_of(kind, columns, value_maps)
    except MappingError as exc:
        raise FileError(f"The column mapping cannot be used: {exc}") from None
    positions = (
        {name: index + 1 for index, name in reversed(list(enumerate(header)))} if has_header else {}
    )
    width = len(header)
    missing: list[str] = []

    def resolve(column: Column, field_name: str) -> Column:
        if column.position is not None:
            if column.position > width:
                missing.append(f"{field_name} (column {column.position}; the file has {width})")
            return column
        if not has_header:
            raise FileError(
                f"The file has no header line: the mapping must name {field_name}'s column by its "
                f"position (1, 2, …), not {column.name!r}."
            )
        if column.name not in positions:
            missing.append(f"{field_name} (column {column.name!r})")
            return column
        return Column(name=column.name, position=positions[column.name])

    resolved: dict[str, Rule] = {}
    for f in kind.fields:
        rule = rules.get(f.name)
        if rule is None:  # unmapped: the column of the field's own name, if the file has one
            if has_header and f.name in positions:
                resolved[f.name] = Rule(column=Column(f.name, positions[f.name]))
            continue
        changes: dict = {}
        for key in ("column", "date", "time"):
            if getattr(rule, key) is not None:
                changes[key] = resolve(getattr(rule, key), f.name)
        if rule.operands():
            pair = tuple(
                op if isinstance(op, FieldRef) else resolve(op, f.name) for op in rule.operands()
            )
            changes["minus" if rule.minus else "plus_seconds"] = pair
        resolved[f.name] = Rule(**{**rule.__dict__, **changes})
    if missing:
        listed = ", ".join(map(header_said, header)) if has_header else f"{width} unnamed columns"
        raise FileError(
            f"Line 1: the file lacks the column(s) the mapping names: {'; '.join(missing)}. "
            f"The file's columns are: {listed or '(none)'}."
        )
    derived = _complete(kind, resolved, header, has_header)
    maps = {
        name: {str(k): str(v) for k, v in pairs.items()}
        for name, pairs in (value_maps or {}).items()
    }
    return Reading(
        kind=kind, rules=resolved, derived=derived, value_maps=maps, date_format=date_format
    )


def _complete(
    kind: FactKind, resolved: dict[str, Rule], header: Sequence[str], has_header: bool
) -> set[str]:
    """Check that the resolved fields are enough: each computed field's operands are given, and every
    field the kind requires is given or derived. Returns the fields the kind derives."""
    for name, rule in resolved.items():
        for operand in rule.operands():
            if isinstance(operand, FieldRef) and operand.name not in resolved:
                raise FileError(
                    f"Field {name} is computed from {operand.name}, which the file does not give."
                )
    derived = kind.derive(set(resolved)) if kind.derive else set()
    needs = [(f.name, f.name) for f in kind.fields if f.required] + list(kind.needs)
    lacking = [hint for name, hint in needs if name not in resolved and name not in derived]
    if lacking:
        given = (
            ", ".join(map(header_said, header)) if has_header else f"{len(header)} unnamed columns"
        )
        raise FileError(
            f"Line 1: the header lacks the required column(s) {', '.join(lacking)}. "
            f"The file's columns are: {given or '(none)'}."
        )
    return derived


# --- the text of a field, in SQL and in Python, side by side ---------------------------------------------


def _lower_map(f, rule: Rule, value_maps: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The field's built-in value map, then the mapping's, then the rule's own; keys compared in lower
    case."""
    pairs = {str(k).strip().lower(): str(v) for k, v in f.aliases.items()}
    for given in (value_maps.get(f.name) or {}, rule.value_map):
        pairs.update({str(k).strip().lower(): str(v) for k, v in given.items()})
    return pairs


def _canonical_values(f) -> tuple[str, ...]:
    return ("1", "0", "") if f.kind == "bool" else (*f.choices, "")


class SqlText:
    """The SQL text expressions of a reading over a staging table's columns ``c1 …`` (positions from 1)."""

    def __init__(self, reading: Reading, dialect, tz: str):
        self.reading, self.dialect, self.tz = reading, dialect, tz
        self.rewrite = dates.rewrite(reading.date_format) if reading.date_format else None

    def _cell(self, column: Column | None) -> str:
        return f"TRIM(c{_resolved(column)})"

    def _as_time(self, text: str) -> str:
        return self.dialect.reformat(text, *self.rewrite) if self.rewrite else text

    def operand(self, operand: Operand, kind: str) -> str:
        if isinstance(operand, FieldRef):
            return self.text(operand.name)
        cell = self._cell(operand)
        return self._as_time(cell) if kind == "datetime" else cell

    def source(self, name: str) -> str:
        """The field's text before its value map: from its column, constant, join or computation."""
        rule, d = self.reading.rules[name], self.dialect
        if rule.constant is not None:
            # As a subquery: PostgreSQL folds a CASE over a literal at planning time, casting branches
            # a row would never take (and failing on them).
            return f"(SELECT {grammar.quote(rule.constant)})"
        if rule.date is not None:
            time = f" || ' ' || {self._cell(rule.time)}" if rule.time else ""
            return f"TRIM({self._cell(rule.date)}{time})"
        if rule.minus:
            return d.minus_text(*(self.operand(op, "duration") for op in rule.minus))
        if rule.plus_seconds:
            t, s = rule.plus_seconds
            return d.plus_seconds_text(
                self.operand(t, "datetime"), self.operand(s, "duration"), self.tz
            )
        cell = self._cell(rule.column)
        return d.extract(cell, rule.pattern) if rule.pattern else cell

    def text(self, name: str) -> str:
        """The field's text as the grammar reads it."""
        f = self.reading.kind.field(name)
        if name in self.reading.derived:
            return self.derived(name)
        rule = self.reading.rules[name]
        raw = self.source(name)
        pairs = _lower_map(f, rule, self.reading.value_maps)
        if pairs:
            cases = " ".join(
                f"WHEN {grammar.quote(k)} THEN {grammar.quote(v)}" for k, v in pairs.items()
            )
            canonical = ", ".join(grammar.quote(c) for c in _canonical_values(f))
            # Most exports already hold the canonical values: those skip the lookup.
            return f"CASE WHEN {raw} IN ({canonical}) THEN {raw} ELSE CASE LOWER({raw}) {cases} ELSE {raw} END END"
        if f.kind == "choice":
            return f"LOWER({raw})"
        if (f.kind in ("date", "datetime") and rule.column is not None) or rule.date is not None:
            return self._as_time(raw)
        return raw

    def derived(self, name: str) -> str:
        """A field the kind derives from others (``FactKind.derive``): ``derived_value`` in SQL."""
        d, text = self.dialect, self.text
        if name == "answered_at":  # from the answered flag: the entry plus the wait
            plus = d.plus_seconds_text(text("entered_at"), text("wait_seconds"), self.tz)
            return f"CASE WHEN {text('answered')} = '1' AND {text('wait_seconds')} <> '' THEN {plus} ELSE '' END"
        if name == "wait_seconds":  # from the answer's time: the answer less the entry
            return d.seconds_between_text(text("entered_at"), text("answered_at"), self.tz)
        raise ValueError(f"{self.reading.kind.code} derive no field {name}")

    def unmatched(self, name: str) -> str | None:
        """SQL true where the field's pattern did not match a non-empty value."""
        rule = self.reading.rules.get(name)
        if rule is None or not rule.pattern:
            return None
        cell = self._cell(rule.column)
        return (
            f"({cell} <> '' AND {self.dialect.extract(cell, rule.pattern, missing='NULL')} IS NULL)"
        )


# Python: the same reading over a row's cells (the upload preview; tests hold it to the SQL).


def _extract(value: str, pattern: str) -> str | None:
    """The pattern's group (or whole match) in a value; None when it does not match."""
    match = re.search(pattern, value)
    if match is None:
        return None
    return match.group(1) if match.re.groups else match.group(0)


def minus_text(a: str, b: str) -> str:
    """A duration less another, as text; empty when both are; otherwise a text that says what could
    not be subtracted (the field's grammar then refuses it, showing it)."""
    if a == "" and b == "":
        return ""
    x, y = grammar.parse_duration(a), grammar.parse_duration(b)
    if x is None or y is None:
        return f"{a} − {b}"
    return str(x - y)


def plus_seconds_text(t: str, s: str, tz: str) -> str:
    """A time plus a duration, as canonical text; empty when the time is."""
    if t == "":
        return ""
    moment, seconds = grammar.parse_datetime(t, tz), grammar.parse_duration(s)
    if moment is None or seconds is None:
        return f"{t} + {s}"
    return grammar.canonical_datetime(moment + dt.timedelta(seconds=seconds))


def seconds_between_text(start: str, end: str, tz: str) -> str:
    """Whole seconds from one time to another, as text; empty when the later one is."""
    if end == "" or start == "":
        return ""
    a, b = grammar.parse_datetime(start, tz), grammar.parse_datetime(end, tz)
    if a is None or b is None:
        return ""  # the times' own fields report them
    return str(int((b - a).total_seconds() // 1))


class PyText:
    """``SqlText`` in Python, over one row's cells."""

    def __init__(self, reading: Reading, tz: str):
        self.reading, self.tz = reading, tz
        self.rewrite = dates.rewrite(reading.date_format) if reading.date_format else None

    def _as_time(self, text: str) -> str:
        return re.sub(*self.rewrite, text) if self.rewrite else text

    def value(self, name: str, cells: Sequence[str]) -> str:
        f = self.reading.kind.field(name)
        if name in self.reading.derived:
            return derived_value(
                self.reading.kind, name, lambda other: self.value(other, cells), self.tz
            )
        rule = self.reading.rules[name]
        raw = self._source(rule, cells)
        pairs = _lower_map(f, rule, self.reading.value_maps)
        if pairs:
            return raw if raw in _canonical_values(f) else pairs.get(raw.lower(), raw)
        if f.kind == "choice":
            return raw.lower()
        if (f.kind in ("date", "datetime") and rule.column is not None) or rule.date is not None:
            return self._as_time(raw)
        return raw

    def unmatched(self, name: str, cells: Sequence[str]) -> bool:
        rule = self.reading.rules.get(name)
        if rule is None or not rule.pattern:
            return False
        cell = _cell(cells, rule.column)
        return cell != "" and _extract(cell, rule.pattern) is None

    def _operand(self, operand: Operand, kind: str, cells) -> str:
        if isinstance(operand, FieldRef):
            return self.value(operand.name, cells)
        cell = _cell(cells, operand)
        return self._as_time(cell) if kind == "datetime" else cell

    def _source(self, rule: Rule, cells) -> str:
        if rule.constant is not None:
            return rule.constant
        if rule.date is not None:
            time = " " + _cell(cells, rule.time) if rule.time else ""
            return (_cell(cells, rule.date) + time).strip(" ")
        if rule.minus:
            return minus_text(*(self._operand(op, "duration", cells) for op in rule.minus))
        if rule.plus_seconds:
            t, s = rule.plus_seconds
            return plus_seconds_text(
                self._operand(t, "datetime", cells), self._operand(s, "duration", cells), self.tz
            )
        cell = _cell(cells, rule.column)
        if rule.pattern and cell:
            return _extract(cell, rule.pattern) or ""
        return cell


def _resolved(column: Column | None) -> int:
    """The position of a rule's column: ``read`` has resolved every name to one."""
    assert column is not None and column.position is not None, column
    return column.position


def _cell(cells: Sequence[str], column: Column | None) -> str:
    index = _resolved(column) - 1
    return str(cells[index]).strip(" ") if index < len(cells) else ""


def derived_value(kind: FactKind, name: str, text: Callable[[str], str], tz: str) -> str:
    """A field the kind derives from others (``FactKind.derive``), in Python."""
    if (
        name == "answered_at"
    ):  # from the answered flag: the entry plus the wait (a check asks for it)
        if text("answered") != "1" or text("wait_seconds") == "":
            return ""
        return plus_seconds_text(text("entered_at"), text("wait_seconds"), tz)
    if name == "wait_seconds":  # from the answer's time: the answer less the entry
        return seconds_between_text(text("entered_at"), text("answered_at"), tz)
    raise ValueError(f"{kind.code} derive no field {name}")
