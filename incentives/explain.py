"""A plan version in words, with a worked example: what HR reads on the plan page before activating it.

Pure: it reads a ``VersionSpec`` and computes the examples with the real scoring function, so the words
can never disagree with what the plan pays.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from calls.metrics import METRICS
from incentives import scoring
from incentives.money import round_money
from incentives.validation import GateSpec, MetricSpec, VersionSpec, metric_direction

EXAMPLE_SCORES = (Decimal(60), Decimal(85), Decimal(100), Decimal(120))
EXAMPLE_BASE_PAY = Decimal("10000.00")
COMPARISONS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}


def _n(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value.normalize()}"


def _money(value: Decimal | None, currency: str) -> str:
    assert value is not None  # the spec's kind says the amount is there (its validation)
    return f"{round_money(value, currency):,.2f} {currency}"


def target_bonus_for_example(spec: VersionSpec) -> Decimal:
    if spec.target_bonus_kind == "fixed":
        return spec.target_bonus or Decimal(0)
    return EXAMPLE_BASE_PAY * (spec.target_bonus_percent or Decimal(0)) / 100


def explain(spec: VersionSpec, currency: str = "CNY") -> list[str]:
    """The plan in sentences: the target bonus, each metric, the tiers, the gates, the cap."""
    lines = [_target_sentence(spec, currency)]
    lines += [_metric_sentence(m) for m in spec.metrics]
    lines += _tier_sentences(spec, currency)
    lines += [_gate_sentence(gate) for gate in spec.gates]
    if spec.payout_cap_kind == "percent":
        lines.append(
            _("The payout never exceeds %(pct)s%% of the target bonus.")
            % {"pct": _n(spec.payout_cap)}
        )
    elif spec.payout_cap_kind == "amount":
        lines.append(
            _("The payout never exceeds %(amount)s.")
            % {"amount": _money(spec.payout_cap, currency)}
        )
    return lines


def _target_sentence(spec: VersionSpec, currency: str) -> str:
    if spec.target_bonus_kind == "fixed":
        return _("Target bonus: %(amount)s a month.") % {
            "amount": _money(spec.target_bonus, currency)
        }
    return _("Target bonus: %(pct)s%% of the agent's monthly base pay.") % {
        "pct": _n(spec.target_bonus_percent)
    }


def _metric_what(m: MetricSpec) -> str:
    """The metric as the sentence names it: its name, the team's, an improvement, its queue."""
    what = METRICS[m.metric].name
    if m.scope == "team":
        what += _(" (the team's value)")
    if m.measure == "improvement":
        baseline = (
            _("last month") if m.baseline == "previous" else _("the mean of the 3 months before")
        )
        what += _(", improvement over %(baseline)s") % {"baseline": baseline}
    if (m.params or {}).get("queue"):
        what += _(" (queue %(queue)s)") % {"queue": m.params["queue"]}
    return what


def _metric_sentence(m: MetricSpec) -> str:
    """A metric's curve: what pays nothing, the threshold, the target, the excellence, no data."""
    definition = METRICS[m.metric]
    unit = definition.unit if m.measure == "value" else _("points of improvement")
    direction = (
        _("lower is better")
        if metric_direction(m.metric, m.measure) == "down"
        else _("higher is better")
    )
    text = _(
        "%(what)s, weight %(weight)s%% (%(direction)s): worse than %(threshold)s %(unit)s pays nothing; "
        "%(threshold)s earns %(tp)s%%; the target %(target)s earns 100%%"
    ) % {
        "what": _metric_what(m),
        "weight": _n(m.weight),
        "direction": direction,
        "threshold": _n(m.threshold),
        "unit": unit,
        "tp": _n(m.threshold_payout),
        "target": _n(m.target),
    }
    if m.excellence is not None:
        text += _("; %(excellence)s or better earns %(cap)s%%, the most it can earn") % {
            "excellence": _n(m.excellence),
            "cap": _n(m.excellence_payout),
        }
    else:
        text += _(", and nothing more beyond it")
    text += _("; in between, in proportion. ")
    text += (
        _("No data: its weight goes to the other metrics.")
        if m.no_data == "redistribute"
        else _("No data: it scores 0.")
    )
    return text


def _tier_sentences(spec: VersionSpec, currency: str) -> list[str]:
    lines = []
    tiers = sorted(spec.tiers, key=lambda t: t.from_score)
    if tiers and tiers[0].from_score > 0:
        lines.append(
            _("A weighted score below %(s)s pays nothing.") % {"s": _n(tiers[0].from_score)}
        )
    for tier in tiers:
        if not tier.rate and not tier.kicker:
            lines.append(
                _("From a weighted score of %(s)s: nothing is paid.") % {"s": _n(tier.from_score)}
            )
            continue
        text = _("From a weighted score of %(s)s: target bonus × %(r)s × score ÷ 100") % {
            "s": _n(tier.from_score),
            "r": _n(tier.rate),
        }
        if tier.kicker:
            text += _(" + a step bonus of %(k)s") % {"k": _money(tier.kicker, currency)}
        lines.append(text + ".")
    return lines


def _gate_sentence(gate: GateSpec) -> str:
    name = METRICS[gate.metric].name
    condition = f"{name} {COMPARISONS.get(gate.comparison, gate.comparison)} {_n(gate.value)}"
    if gate.effect == "void":
        effect = _("the bonus is void")
    elif gate.effect == "multiply":
        effect = _("the payout is multiplied by %(f)s") % {"f": _n(gate.factor)}
    else:
        effect = _("the weighted score is capped at %(c)s") % {"c": _n(gate.score_cap)}
    return _("Gate: if %(condition)s, %(effect)s.") % {"condition": condition, "effect": effect}


def worked_examples(spec: VersionSpec, currency: str = "CNY") -> list[tuple[Decimal, Decimal, str]]:
    """(weighted score, payout, how) at 60 / 85 / 100 / 120, with no gate hit."""
    target_bonus = target_bonus_for_example(spec)
    cap = None
    if spec.payout_cap_kind == "percent" and spec.payout_cap is not None:
        cap = target_bonus * spec.payout_cap / 100
    elif spec.payout_cap_kind == "amount":
        cap = spec.payout_cap
    tiers = tuple(scoring.Tier(t.from_score, t.rate, t.kicker) for t in spec.tiers)
    examples = []
    for s in EXAMPLE_SCORES:
        # One stand-in metric scoring exactly s: the weighted score the example is about.
        rule = scoring.MetricRule(
            "s",
            Decimal(100),
            "up",
            Decimal(0),
            Decimal(0),
            Decimal(100),
            Decimal(1000),
            Decimal(1000),
        )
        plan = scoring.PlanRules(target_bonus, currency, (rule,), tiers, payout_cap=cap)
        result = scoring.score(plan, {"s": s})
        if result.tier is None:
            how = _("below the lowest tier")
        else:
            how = f"{_money(target_bonus, currency)} × {_n(result.tier.rate)} × {_n(s)} ÷ 100"
            if result.tier.kicker:
                how += f" + {_money(result.tier.kicker, currency)}"
            if result.capped:
                how += " → " + _("capped")
        examples.append((s, result.amount, how))
    return examples
