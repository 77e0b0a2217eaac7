"""The pure scoring function, against the worked example of domain.md and the curve's corners."""

from decimal import Decimal as D
from fractions import Fraction as F

import pytest

from incentives.money import round_money
from incentives.scoring import GateRule, MetricRule, PlanRules, Tier, metric_score, score

ANSWER = MetricRule("answer_rate", D(50), "up", D(90), D(50), D(95), D(98), D(150))
ASA = MetricRule("asa", D(30), "down", D(40), D(50), D(20))
CSAT = MetricRule("csat", D(20), "up", D("4.0"), D(50), D("4.5"))
TIERS = (Tier(D(0), D(0)), Tier(D(60), D(1)), Tier(D(85), D("1.2")), Tier(D(100), D("1.2"), D(200)))
WORKED = PlanRules(D("1000.00"), "CNY", (ANSWER, ASA, CSAT), TIERS, payout_cap=D("2000.00"))


def test_worked_example_of_the_domain_pays_1020():
    result = score(WORKED, {"answer_rate": D("96.5"), "asa": D(30), "csat": D("3.9")})
    assert [line.score for line in result.lines] == [D(125), D(75), D(0)]
    assert result.weighted_score == D(85)
    assert result.tier.rate == D("1.2")
    assert result.amount == D("1020.00")
    assert not result.capped


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("89.99", "0"),  # worse than the threshold
        ("90", "50"),  # the threshold earns the threshold payout
        ("92.5", "75"),  # linear between threshold and target
        ("95", "100"),
        ("96.5", "125"),  # linear between target and excellence
        ("98", "150"),
        ("99.9", "150"),  # flat at the cap beyond excellence
    ],
)
def test_curve_of_a_higher_is_better_metric(value, expected):
    assert metric_score(ANSWER, D(value)) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("41", "0"),
        ("40", "50"),
        ("30", "75"),
        ("20", "100"),
        ("5", "100"),
    ],  # no excellence: flat 100
)
def test_curve_of_a_lower_is_better_metric_reads_in_its_own_direction(value, expected):
    assert metric_score(ASA, D(value)) == D(expected)


def test_no_data_scores_zero_by_default():
    result = score(WORKED, {"answer_rate": D("96.5"), "asa": None, "csat": D("4.5")})
    asa = result.lines[1]
    assert asa.no_data and asa.score == 0 and asa.points == 0
    assert result.weighted_score == D("82.5")  # 0.5 x 125 + 0.2 x 100


def test_no_data_can_spread_the_weight_over_the_other_metrics():
    rules = PlanRules(
        D(1000),
        "CNY",
        (
            ANSWER,
            MetricRule("asa", D(30), "down", D(40), D(50), D(20), no_data="redistribute"),
            CSAT,
        ),
        TIERS,
    )
    result = score(rules, {"answer_rate": D("96.5"), "asa": None, "csat": D("4.5")})
    # 50 and 20 share the freed 30 in proportion: 50/70 and 20/70 of 100, exactly.
    assert [line.effective_weight for line in result.lines] == [F(500, 7), 0, F(200, 7)]
    assert result.weighted_score == F(500, 7) * 125 / 100 + F(200, 7) * 100 / 100 == F(825, 7)


def test_below_the_lowest_tier_pays_nothing():
    rules = PlanRules(D(1000), "CNY", (ANSWER,), (Tier(D(60), D(1)),))
    result = score(rules, {"answer_rate": D("90")})  # score 50
    assert result.tier is None
    assert result.amount == D("0.00")


def test_kicker_and_overall_cap():
    result = score(WORKED, {"answer_rate": D(99), "asa": D(10), "csat": D(5)})
    # S = 0.5 x 150 + 0.3 x 100 + 0.2 x 100 = 125 -> 1000 x 1.2 x 1.25 + 200 = 1700, under the cap.
    assert result.weighted_score == D(125)
    assert result.amount == D("1700.00")
    capped = score(
        PlanRules(D(2000), "CNY", WORKED.metrics, TIERS, payout_cap=D(2000)),
        {"answer_rate": D(99), "asa": D(10), "csat": D(5)},
    )
    assert capped.capped and capped.amount_before_cap == D(3200) and capped.amount == D("2000.00")


def test_money_rounds_half_up_once():
    assert round_money(D("1020.005"), "CNY") == D("1020.01")
    assert round_money(D("1020.004999"), "CNY") == D("1020.00")
    assert round_money(D("1020.5"), "JPY") == D("1021")
    with pytest.raises(TypeError):
        round_money(1020.005, "CNY")


# --- the corners the hand-computed cases of issue 5 ask for ------------------------------------------

ASA_EXCELLENT = MetricRule("asa", D(100), "down", D(40), D(50), D(20), D(10), D(150))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("40.01", "0"), ("40", "50"), ("20", "100"), ("15", "125"), ("10", "150"), ("3", "150")],
)
def test_a_lower_is_better_metric_with_excellence(value, expected):
    """ASA 40 s → 50, 20 s → 100, 10 s → 150: below 10 s stays at the cap."""
    assert metric_score(ASA_EXCELLENT, D(value)) == D(expected)


ONE = MetricRule("answer_rate", D(100), "up", D(90), D(50), D(95), D(98), D(150))


@pytest.mark.parametrize(
    ("answer_rate", "tier_from", "amount"),
    [
        ("90", None, "0.00"),  # S = 50: below the lowest paying tier (from 0 at rate 0)
        ("92", "60", "700.00"),  # S = 70: 1,000 × 1.0 × 0.70
        ("93.5", "85", "1020.00"),  # S = 85 exactly: the 85 tier, 1,000 × 1.2 × 0.85
        ("94.99", "85", "1198.80"),  # S = 99.9: still the 85 tier, no kicker
        ("95", "100", "1400.00"),  # S = 100 exactly: the kicker tier, 1,000 × 1.2 × 1 + 200
        ("98", "100", "2000.00"),  # S = 150: 1,000 × 1.2 × 1.5 + 200 = 2,000 = the cap, not over it
    ],
)
def test_each_tier_at_its_boundary_with_and_without_kicker(answer_rate, tier_from, amount):
    rules = PlanRules(D("1000.00"), "CNY", (ONE,), TIERS, payout_cap=D("2000.00"))
    result = score(rules, {"answer_rate": D(answer_rate)})
    assert (
        None if result.tier is None or result.tier.rate == 0 else str(result.tier.from_score)
    ) == tier_from
    assert result.amount == D(amount)
    assert result.capped is False


def test_a_score_just_under_a_tier_stays_in_the_lower_one():
    rules = PlanRules(D("1000.00"), "CNY", (ONE,), TIERS)
    result = score(rules, {"answer_rate": D("93.4999")})  # S = 84.9990
    assert result.weighted_score == D("84.9990") and result.tier.from_score == 60
    assert result.amount == D("849.99")


def _gated(gate, value):
    rules = PlanRules(D("1000.00"), "CNY", (ONE,), TIERS, payout_cap=D("2000.00"), gates=(gate,))
    return score(rules, {"answer_rate": D("97"), gate.code: value})  # S = 133.3333 before gates


def test_a_multiply_gate_scales_the_amount():
    result = _gated(
        GateRule("complaint_rate", "gt", D("0.5"), "multiply", factor=D("0.5")), D("0.6")
    )
    # 1,000 × 1.2 × 1.333333 + 200 = 1,800.00; × 0.5 = 900.00
    assert result.payout_factor == D("0.5") and result.amount == D("900.00")


def test_a_cap_score_gate_removes_accelerators():
    result = _gated(GateRule("csat", "lt", D("4.2"), "cap_score", score_cap=D(100)), D("4.1"))
    assert result.raw_score == F(400, 3) and result.weighted_score == D(100)
    assert result.amount == D("1400.00")  # the kicker tier still pays at S = 100


def test_a_void_gate_pays_nothing_and_a_gate_not_hit_changes_nothing():
    void = GateRule("complaint_rate", "gt", D("0.5"), "void")
    assert _gated(void, D("0.51")).amount == D("0.00")
    assert _gated(void, D("0.5")).amount == D("1800.00")  # 0.5 is not > 0.5
    assert _gated(void, None).amount == D("1800.00")  # no data: no evidence, no cut


def test_a_half_cent_is_rounded_up_once_at_the_end():
    # 1,000.01 × 1.0 × 0.705 = 705.00705 → 705.01; 1,000.01 × 0.7 = 700.007 → 700.01
    rules = PlanRules(D("1000.01"), "CNY", (ONE,), TIERS)
    assert score(rules, {"answer_rate": D("92.05")}).amount == D("705.01")
    rules = PlanRules(D("1000.05"), "CNY", (ONE,), (Tier(D(0), D("0.7")),))
    assert score(rules, {"answer_rate": D("95")}).amount == D("700.04")  # 700.035 → 700.04, half up
