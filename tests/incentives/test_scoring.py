"""The pure scoring function, against the worked example of domain.md and the curve's corners."""

from decimal import Decimal as D

import pytest

from incentives.money import round_money
from incentives.scoring import MetricRule, PlanRules, Tier, metric_score, score

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
    # 50 and 20 share the freed 30 in proportion: 50/70 and 20/70 of 100.
    assert [line.effective_weight for line in result.lines] == [D("71.4286"), D(0), D("28.5714")]
    assert result.weighted_score == D("117.8571")


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
