"""Every rule of ``incentives.validation``, accepted and refused: pure functions, no database.

A refusal names where it is (section, row, field) and says what is wrong; each case below checks all
four, and that nothing else was flagged.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation

from incentives.presets import PRESETS, STANDARD_TIERS
from incentives.validation import (
    GateSpec,
    MetricSpec,
    Problem,
    TierSpec,
    VersionSpec,
    gates_problems,
    header_problems,
    metrics_problems,
    tiers_problems,
    version_problems,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def m(code, weight, threshold, target, excellence=None, cap=None, **extra) -> MetricSpec:
    return MetricSpec(
        metric=code,
        weight=D(weight),
        threshold=D(threshold),
        target=D(target),
        excellence=None if excellence is None else D(excellence),
        excellence_payout=None if cap is None else D(cap),
        **{k: D(v) if k == "threshold_payout" else v for k, v in extra.items()},
    )


def tiers(*rows) -> list[TierSpec]:
    return [TierSpec(*(D(x) for x in row)) for row in rows]


def gate(code, comparison, value, effect, factor=None, score_cap=None, **extra) -> GateSpec:
    return GateSpec(
        code,
        comparison,
        D(value),
        effect,
        factor=None if factor is None else D(factor),
        score_cap=None if score_cap is None else D(score_cap),
        **extra,
    )


def version(**changes) -> VersionSpec:
    fields = {
        "effective_from": dt.date(2025, 1, 1),
        "effective_to": None,
        "target_bonus_kind": "fixed",
        "target_bonus": D("1000.00"),
        "target_bonus_percent": None,
        "payout_cap_kind": "percent",
        "payout_cap": D(200),
        "metrics": [m("answer_rate", 100, 90, 95, 98, 150)],
        "tiers": list(STANDARD_TIERS),
        "gates": [],
    }
    return VersionSpec(**(fields | changes))


def assert_refused(problems, section, index, field, *fragments):
    """Exactly one problem, at (section, index, field), whose message says each of ``fragments``."""
    assert [(p.section, p.index, p.field) for p in problems] == [(section, index, field)], problems
    message = problems[0].message
    for fragment in fragments:
        assert fragment in message
    assert "%%" not in message  # a literal that was never %-formatted
    return problems[0]


# A valid metric of weight 50 put before the row under test, so that row is metrics 2 (index 1).
FILLER = m("qa_score", 50, 80, 90, 97, 120)


def with_filler(spec: MetricSpec) -> list[MetricSpec]:
    return [FILLER, spec]


# --- metrics: weights ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weights",
    [("50", "50"), ("100", "0"), ("40", "30", "30"), ("33.33", "33.33", "33.34")],
)
def test_weights_adding_up_to_100_are_accepted(weights):
    codes = ("answer_rate", "qa_score", "invitation_success")
    rows = [m(code, w, 60, 80) for code, w in zip(codes, weights, strict=False)]
    assert metrics_problems(rows) == []


@pytest.mark.parametrize(
    ("weights", "total"),
    [
        (("49.99", "50"), "99.99"),
        (("50", "50.01"), "100.01"),
        (("33.33", "33.33", "33.33"), "99.99"),
        (("33.33", "33.33", "33.35"), "100.01"),
    ],
)
def test_weights_not_adding_up_to_100_are_refused(weights, total):
    codes = ("answer_rate", "qa_score", "invitation_success")
    rows = [m(code, w, 60, 80) for code, w in zip(codes, weights, strict=False)]
    assert_refused(
        metrics_problems(rows), "metrics", None, "weight", f"add up to {total}%, not 100%"
    )


def test_a_plan_needs_at_least_one_metric():
    assert_refused(metrics_problems([]), "metrics", None, None, "at least one metric")


@pytest.mark.parametrize("weight", ["-0.01", "-10"])
def test_a_negative_weight_is_refused(weight):
    rows = [FILLER, m("answer_rate", weight, 90, 95), m("csat", 50 - D(weight), "4.0", "4.5")]
    assert_refused(metrics_problems(rows), "metrics", 1, "weight", "must be from 0 to 100")


def test_a_weight_above_100_is_refused_and_so_is_the_total():
    problems = metrics_problems([m("answer_rate", "100.01", 90, 95)])
    assert {(p.section, p.index, p.field) for p in problems} == {
        ("metrics", None, "weight"),
        ("metrics", 0, "weight"),
    }
    row = next(p for p in problems if p.index == 0)
    assert "must be from 0 to 100" in row.message


# --- metrics: which metric -------------------------------------------------------------------------


def test_an_unknown_metric_is_refused():
    problems = metrics_problems([m("answer_rate", 100, 90, 95), m("happiness", 0, 1, 2)])
    assert_refused(problems, "metrics", 1, "metric", "unknown metric happiness")


@pytest.mark.parametrize(
    "rows",
    [
        [m("answer_rate", 50, 90, 95), m("answer_rate", 50, 85, 90)],
        [
            m("answer_rate", 50, 0, 2, measure="improvement", baseline="previous"),
            m("answer_rate", 50, 0, 2, measure="improvement", baseline="trailing3"),
        ],
    ],
    ids=["value twice", "improvement twice, even over another baseline"],
)
def test_the_same_metric_twice_with_the_same_measure_and_scope_is_refused(rows):
    assert_refused(metrics_problems(rows), "metrics", 1, "metric", "Answer rate appears twice")


@pytest.mark.parametrize(
    "second",
    [
        m("answer_rate", 50, 0, 2, measure="improvement", baseline="previous"),
        m("answer_rate", 50, 85, 90, scope="team"),
    ],
    ids=["as value and as improvement", "for the agent and for the team"],
)
def test_the_same_metric_with_another_measure_or_scope_is_accepted(second):
    assert metrics_problems([m("answer_rate", 50, 90, 95), second]) == []


# --- metrics: the curve ----------------------------------------------------------------------------

ACCEPTED_METRICS = {
    "up metric": m("answer_rate", 50, 90, 95, 98, 150),
    "down metric": m("asa", 50, 40, 20, 10, 150),
    "no excellence": m("answer_rate", 50, 90, 95),
    "threshold payout 0": m("answer_rate", 50, 90, 95, threshold_payout=0),
    "threshold payout 100": m("answer_rate", 50, 90, 95, threshold_payout=100),
    "cap of 100": m("answer_rate", 50, 90, 95, 98, 100),
    "at the ends of the range": m("answer_rate", 50, 0, 99, 100, 150),
    "no upper bound": m("asa", 50, 4000, 3600),
    "nps at its lower bound": m("nps", 50, -100, 0),
    "csat in range": m("csat", 50, "4.0", "4.5", 5, 150),
    # Improvement is always "higher is better", even for a metric where lower is better.
    "improvement of a down metric": m(
        "asa", 50, 0, 5, 10, 150, measure="improvement", baseline="previous"
    ),
    "improvement trailing 3 months": m(
        "answer_rate", 50, 0, 2, measure="improvement", baseline="trailing3"
    ),
    # An improvement is a difference: outside the metric's own range is fine.
    "answer rate improvement above 100": m(
        "answer_rate", 50, 0, 101, 150, 150, measure="improvement", baseline="previous"
    ),
    "csat improvement 6": m("csat", 50, -1, 6, measure="improvement", baseline="previous"),
    "nps improvement from -101": m("nps", 50, -101, 0, measure="improvement", baseline="previous"),
    "valid parameter": m("service_level", 50, 70, 80, params={"answer_within_seconds": 30}),
    "parameter at its minimum": m("abandon_rate", 50, 10, 5, params={"short_abandon_seconds": 0}),
    "parameter at its maximum": m("fcr", 50, 60, 70, params={"window_days": 90}),
}


@pytest.mark.parametrize("spec", ACCEPTED_METRICS.values(), ids=ACCEPTED_METRICS.keys())
def test_a_valid_metric_is_accepted(spec):
    assert metrics_problems(with_filler(spec)) == []


REFUSED_METRICS = [
    # (id, metric, field, fragments of the message)
    (
        "up: target below threshold",
        m("answer_rate", 50, 90, 85),
        "target",
        ["must be above the threshold (90)", "Answer rate", "higher is better"],
    ),
    (
        "up: target equal to threshold",
        m("answer_rate", 50, 90, 90),
        "target",
        ["must be above the threshold (90)"],
    ),
    (
        "down: target above threshold",
        m("asa", 50, 40, 50),
        "target",
        ["must be below the threshold (40)", "Average speed of answer", "lower is better"],
    ),
    (
        "down: target equal to threshold",
        m("asa", 50, 40, 40),
        "target",
        ["must be below the threshold (40)"],
    ),
    (
        "up: excellence below target",
        m("answer_rate", 50, 90, 95, 93, 150),
        "excellence",
        ["must be above the target (95)"],
    ),
    (
        "up: excellence equal to target",
        m("answer_rate", 50, 90, 95, 95, 150),
        "excellence",
        ["must be above the target (95)"],
    ),
    (
        "down: excellence above target",
        m("asa", 50, 40, 20, 25, 150),
        "excellence",
        ["must be below the target (20)"],
    ),
    (
        "down: excellence equal to target",
        m("asa", 50, 40, 20, 20, 150),
        "excellence",
        ["must be below the target (20)"],
    ),
    (
        "improvement is higher-is-better",
        m("asa", 50, 5, 0, measure="improvement", baseline="previous"),
        "target",
        ["must be above the threshold (5)", "higher is better"],
    ),
    (
        "excellence without its payout",
        m("answer_rate", 50, 90, 95, excellence=D(98)),
        "excellence",
        ["go together"],
    ),
    (
        "payout without its excellence",
        m("answer_rate", 50, 90, 95, cap=150),
        "excellence",
        ["go together"],
    ),
    (
        "threshold payout above 100",
        m("answer_rate", 50, 90, 95, threshold_payout="100.01"),
        "threshold_payout",
        ["from 0 to 100%:", "may not exceed the 100% earned at the target"],
    ),
    (
        "threshold payout negative",
        m("answer_rate", 50, 90, 95, threshold_payout=-1),
        "threshold_payout",
        ["from 0 to 100%"],
    ),
    (
        "cap below 100",
        m("answer_rate", 50, 90, 95, 98, "99.99"),
        "excellence_payout",
        ["at least 100%:", "may not fall along the curve"],
    ),
    (
        "answer rate target 101",
        m("answer_rate", 50, 90, 101),
        "target",
        ["101 is outside the range of Answer rate (0–100 %)"],
    ),
    (
        "answer rate threshold -1",
        m("answer_rate", 50, -1, 95),
        "threshold",
        ["-1 is outside the range of Answer rate"],
    ),
    (
        "answer rate excellence 101",
        m("answer_rate", 50, 90, 95, 101, 150),
        "excellence",
        ["101 is outside the range of Answer rate"],
    ),
    (
        "csat target 6",
        m("csat", 50, 4, 6),
        "target",
        ["6 is outside the range of CSAT (1–5 score)"],
    ),
    (
        "csat threshold 0.5",
        m("csat", 50, "0.5", "4.5"),
        "threshold",
        ["0.5 is outside the range of CSAT"],
    ),
    (
        "nps threshold -101",
        m("nps", 50, -101, 0),
        "threshold",
        ["-101 is outside the range of NPS (-100–100 points)"],
    ),
    (
        "asa target -1",
        m("asa", 50, 40, -1),
        "target",
        ["-1 is outside the range of Average speed of answer (0–∞ s)"],
    ),
    (
        "unknown parameter",
        m("answer_rate", 50, 90, 95, params={"window_days": 7}),
        "params",
        ["answer_rate has no parameter window_days"],
    ),
    (
        "unknown parameter beside a valid one",
        m("fcr", 50, 60, 70, params={"window_days": 7, "days": 3}),
        "params",
        ["fcr has no parameter days"],
    ),
    (
        "parameter below its minimum",
        m("service_level", 50, 70, 80, params={"answer_within_seconds": 0}),
        "params",
        ["answer_within_seconds must be a whole number from 1 to 600 s, got 0"],
    ),
    (
        "parameter above its maximum",
        m("fcr", 50, 60, 70, params={"window_days": 91}),
        "params",
        ["window_days must be a whole number from 1 to 90 days, got 91"],
    ),
    (
        "parameter not a whole number",
        m("early_hangup_rate", 50, 30, 25, params={"early_hangup_seconds": "30"}),
        "params",
        ["early_hangup_seconds must be a whole number", "got '30'"],
    ),
    (
        "improvement without a baseline",
        m("answer_rate", 50, 0, 2, measure="improvement"),
        "baseline",
        ["improvement needs a baseline: previous month or trailing 3 months"],
    ),
    (
        "improvement with an unknown baseline",
        m("answer_rate", 50, 0, 2, measure="improvement", baseline="last_year"),
        "baseline",
        ["improvement needs a baseline"],
    ),
    (
        "a baseline without improvement",
        m("answer_rate", 50, 90, 95, baseline="previous"),
        "baseline",
        ["a baseline only goes with improvement"],
    ),
]


@pytest.mark.parametrize(
    ("spec", "field", "fragments"),
    [case[1:] for case in REFUSED_METRICS],
    ids=[case[0] for case in REFUSED_METRICS],
)
def test_an_invalid_metric_is_refused(spec, field, fragments):
    assert_refused(metrics_problems(with_filler(spec)), "metrics", 1, field, *fragments)


# --- tiers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        STANDARD_TIERS,
        tiers((0, 1)),
        tiers((0, 0), (60, 1), (85, 1)),  # an equal rate is not less
        tiers((0, 1, 0), (100, 1, 200)),  # an equal rate with a higher kicker
        tiers((85, "1.2"), (0, 0), (60, 1)),  # in any order
    ],
    ids=["standard", "one tier", "equal rates", "kicker", "unordered"],
)
def test_valid_tiers_are_accepted(rows):
    assert tiers_problems(rows) == []


def test_a_plan_needs_at_least_one_tier():
    assert_refused(tiers_problems([]), "tiers", None, None, "at least one tier")


REFUSED_TIERS = [
    (
        "same from_score",
        tiers((0, 0), (60, 1), (60, "1.2")),
        2,
        "from_score",
        ["the same score as tier 2", "may not overlap"],
    ),
    ("negative from_score", tiers((0, 0), (-5, 0)), 1, "from_score", ["may not be negative"]),
    ("negative rate", tiers((60, 1), (0, -1)), 1, "rate", ["may not be negative"]),
    ("negative kicker", tiers((0, 0), (60, 1, -5)), 1, "kicker", ["may not be negative"]),
    (
        "a higher tier pays a lower rate",
        tiers((0, 0), (60, "1.2"), (85, 1)),
        2,
        "rate",
        ["pays less than the tier below it (from 60)", "a higher score must never pay less"],
    ),
    (
        "equal rate, lower kicker",
        tiers((0, 0), (85, "1.2", 200), (100, "1.2", 100)),
        2,
        "rate",
        ["pays less than the tier below it (from 85)"],
    ),
    (
        "the offending tier is named where it is listed",
        tiers((85, 1), (0, "1.2")),
        0,
        "rate",
        ["pays less than the tier below it (from 0)"],
    ),
]


@pytest.mark.parametrize(
    ("rows", "index", "field", "fragments"),
    [case[1:] for case in REFUSED_TIERS],
    ids=[case[0] for case in REFUSED_TIERS],
)
def test_invalid_tiers_are_refused(rows, index, field, fragments):
    assert_refused(tiers_problems(rows), "tiers", index, field, *fragments)


# --- gates -----------------------------------------------------------------------------------------

VOID = gate("complaint_rate", "gt", "0.5", "void")

ACCEPTED_GATES = {
    "void": VOID,
    "no gates": None,
    "cap the score": gate("csat", "lt", "4.2", "cap_score", score_cap=100),
    "cap the score at 0": gate("csat", "lt", "4.2", "cap_score", score_cap=0),
    "multiply by 0": gate("qa_score", "lt", 60, "multiply", factor=0),
    "multiply by 0.5": gate("qa_score", "lt", 60, "multiply", factor="0.5"),
    "multiply by 1": gate("qa_score", "lt", 60, "multiply", factor=1),
    "greater or equal": gate("abandon_rate", "ge", 10, "void"),
    "less or equal": gate("nps", "le", -100, "void"),
    "no upper bound": gate("aht", "gt", 3600, "void"),
    "valid parameter": gate("fcr", "lt", 50, "void", params={"window_days": 14}),
}


@pytest.mark.parametrize("spec", ACCEPTED_GATES.values(), ids=ACCEPTED_GATES.keys())
def test_a_valid_gate_is_accepted(spec):
    assert gates_problems([] if spec is None else [spec]) == []


REFUSED_GATES = [
    ("unknown metric", gate("happiness", "lt", 1, "void"), "metric", ["unknown metric happiness"]),
    (
        "unknown comparison",
        gate("complaint_rate", "eq", 1, "void"),
        "comparison",
        ["must be >, ≥, < or ≤"],
    ),
    (
        "a symbol for a comparison",
        gate("complaint_rate", ">", 1, "void"),
        "comparison",
        ["must be >, ≥, < or ≤"],
    ),
    (
        "value above the range",
        gate("complaint_rate", "gt", 101, "void"),
        "value",
        ["101 is outside the range of Complaint rate (0–100 %)"],
    ),
    (
        "value below the range",
        gate("csat", "lt", "0.5", "void"),
        "value",
        ["0.5 is outside the range of CSAT (1–5 score)"],
    ),
    (
        "nps below -100",
        gate("nps", "lt", -101, "void"),
        "value",
        ["-101 is outside the range of NPS"],
    ),
    (
        "negative seconds",
        gate("asa", "gt", -1, "void"),
        "value",
        ["-1 is outside the range of Average speed of answer (0–∞ s)"],
    ),
    (
        "unknown parameter",
        gate("complaint_rate", "gt", 1, "void", params={"days": 3}),
        "params",
        ["complaint_rate has no parameter days"],
    ),
    (
        "parameter out of range",
        gate("fcr", "lt", 50, "void", params={"window_days": 0}),
        "params",
        ["window_days must be a whole number from 1 to 90 days, got 0"],
    ),
    (
        "multiply without a factor",
        gate("qa_score", "lt", 60, "multiply"),
        "factor",
        ["a factor from 0 to 1 is needed"],
    ),
    (
        "multiply by more than 1",
        gate("qa_score", "lt", 60, "multiply", factor="1.01"),
        "factor",
        ["a factor from 0 to 1 is needed"],
    ),
    (
        "multiply by a negative",
        gate("qa_score", "lt", 60, "multiply", factor="-0.1"),
        "factor",
        ["a factor from 0 to 1 is needed"],
    ),
    (
        "multiply with a score cap",
        gate("qa_score", "lt", 60, "multiply", "0.5", 100),
        "score_cap",
        ["only a 'cap the score' gate has a score cap"],
    ),
    (
        "cap without a score cap",
        gate("csat", "lt", "4.2", "cap_score"),
        "score_cap",
        ["a score cap of 0 or more is needed"],
    ),
    (
        "cap at a negative score",
        gate("csat", "lt", "4.2", "cap_score", score_cap=-1),
        "score_cap",
        ["a score cap of 0 or more is needed"],
    ),
    (
        "factor on a cap gate",
        gate("csat", "lt", "4.2", "cap_score", "0.5", 100),
        "factor",
        ["only a 'multiply' gate has a factor"],
    ),
    (
        "void with a factor",
        gate("complaint_rate", "gt", 1, "void", factor=0),
        "effect",
        ["a void gate has neither factor nor score cap"],
    ),
    (
        "void with a score cap",
        gate("complaint_rate", "gt", 1, "void", score_cap=100),
        "effect",
        ["a void gate has neither factor nor score cap"],
    ),
    (
        "unknown effect",
        gate("complaint_rate", "gt", 1, "halve"),
        "effect",
        ["must be multiply, cap the score, or void"],
    ),
]


@pytest.mark.parametrize(
    ("spec", "field", "fragments"),
    [case[1:] for case in REFUSED_GATES],
    ids=[case[0] for case in REFUSED_GATES],
)
def test_an_invalid_gate_is_refused(spec, field, fragments):
    assert_refused(gates_problems([VOID, spec]), "gates", 1, field, *fragments)


# --- the version's header --------------------------------------------------------------------------

ACCEPTED_HEADERS = {
    "defaults": {},
    "open-ended": {"effective_to": None},
    "one day": {"effective_to": dt.date(2025, 1, 1)},
    "smallest fixed bonus": {"target_bonus": D("0.01")},
    "percent of base pay": {
        "target_bonus_kind": "percent",
        "target_bonus": None,
        "target_bonus_percent": D(10),
    },
    "1000% of base pay": {
        "target_bonus_kind": "percent",
        "target_bonus": None,
        "target_bonus_percent": D(1000),
    },
    "cap of 100%": {"payout_cap": D(100)},
    "cap amount equal to the bonus": {"payout_cap_kind": "amount", "payout_cap": D("1000.00")},
    "any cap amount with a bonus in % of base pay": {
        "target_bonus_kind": "percent",
        "target_bonus": None,
        "target_bonus_percent": D(10),
        "payout_cap_kind": "amount",
        "payout_cap": D(1),
    },
    "no cap": {"payout_cap_kind": "none", "payout_cap": None},
}


@pytest.mark.parametrize("changes", ACCEPTED_HEADERS.values(), ids=ACCEPTED_HEADERS.keys())
def test_a_valid_header_is_accepted(changes):
    assert header_problems(version(**changes)) == []


PERCENT_BONUS = {"target_bonus_kind": "percent", "target_bonus": None}

REFUSED_HEADERS = [
    (
        "ends before it starts",
        {"effective_to": dt.date(2024, 12, 31)},
        "effective_to",
        ["ends before it starts (2025-01-01)"],
    ),
    (
        "fixed bonus without an amount",
        {"target_bonus": None},
        "target_bonus",
        ["a fixed target bonus needs an amount above 0"],
    ),
    ("fixed bonus of 0", {"target_bonus": D(0)}, "target_bonus", ["needs an amount above 0"]),
    ("negative fixed bonus", {"target_bonus": D(-1)}, "target_bonus", ["needs an amount above 0"]),
    (
        "percent bonus without a %",
        PERCENT_BONUS | {"target_bonus_percent": None},
        "target_bonus_percent",
        ["needs a % above 0 and at most 1000"],
    ),
    (
        "percent bonus of 0%",
        PERCENT_BONUS | {"target_bonus_percent": D(0)},
        "target_bonus_percent",
        ["needs a % above 0 and at most 1000"],
    ),
    (
        "percent bonus above 1000%",
        PERCENT_BONUS | {"target_bonus_percent": D("1000.01")},
        "target_bonus_percent",
        ["needs a % above 0 and at most 1000"],
    ),
    (
        "percent cap below 100",
        {"payout_cap": D("99.99")},
        "payout_cap",
        ["a cap in % of the target bonus must be at least 100%"],
    ),
    ("percent cap without a value", {"payout_cap": None}, "payout_cap", ["at least 100%"]),
    (
        "amount cap without a value",
        {"payout_cap_kind": "amount", "payout_cap": None},
        "payout_cap",
        ["a cap amount is needed"],
    ),
    (
        "amount cap below the fixed bonus",
        {"payout_cap_kind": "amount", "payout_cap": D("999.99")},
        "payout_cap",
        ["the cap (999.99) is below the target bonus (1000", "caps are at least 100%"],
    ),
    (
        "a cap value with no cap",
        {"payout_cap_kind": "none", "payout_cap": D(200)},
        "payout_cap",
        ["there is a cap value but the cap is set to 'no cap'"],
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "fragments"),
    [case[1:] for case in REFUSED_HEADERS],
    ids=[case[0] for case in REFUSED_HEADERS],
)
def test_an_invalid_header_is_refused(changes, field, fragments):
    assert_refused(header_problems(version(**changes)), "version", None, field, *fragments)


# --- the whole version -----------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS.values(), ids=PRESETS.keys())
def test_every_preset_is_valid(preset):
    assert version_problems(preset.spec(dt.date(2025, 1, 1))) == []


def test_version_problems_gathers_every_section_in_order():
    spec = version(
        effective_to=dt.date(2024, 1, 1),
        metrics=[m("answer_rate", 100, 90, 85)],
        tiers=[],
        gates=[gate("complaint_rate", "gt", 1, "halve")],
    )
    assert [(p.section, p.index, p.field) for p in version_problems(spec)] == [
        ("version", None, "effective_to"),
        ("metrics", 0, "target"),
        ("tiers", None, None),
        ("gates", 0, "effect"),
    ]


# --- how a problem reads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("metrics", 1, "target", "too low"), "metrics 2 · target: too low"),
        (Problem("gates", 0, "factor", "needed"), "gates 1 · factor: needed"),
        (Problem("metrics", None, "weight", "not 100"), "metrics · weight: not 100"),
        (Problem("tiers", None, None, "none"), "tiers: none"),
    ],
)
def test_a_problem_reads_as_where_then_what(problem, text):
    assert str(problem) == text


def test_a_refused_target_reads_with_its_row_number():
    problems = metrics_problems(with_filler(m("answer_rate", 50, 90, 85)))
    assert str(problems[0]) == (
        "metrics 2 · target: must be above the threshold (90) for Answer rate, "
        "where higher is better"
    )
