"""Plan presets a new customer starts from (domain.md, "Presets"); HR copies and edits them.

Only what the metric catalogue can compute today is here: preset A's answer-rate core. Issue 3 adds the
full catalogue and presets A, B, C, Invitations and Outbound compliance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PresetMetric:
    metric: str
    weight: Decimal
    direction: str
    threshold: Decimal
    threshold_payout: Decimal
    target: Decimal
    excellence: Decimal | None = None
    excellence_payout: Decimal | None = None


@dataclass(frozen=True)
class PresetTier:
    from_score: Decimal
    rate: Decimal
    kicker: Decimal = Decimal("0")


@dataclass(frozen=True)
class Preset:
    code: str
    name: str
    target_bonus: Decimal
    payout_cap: Decimal | None
    metrics: tuple[PresetMetric, ...]
    tiers: tuple[PresetTier, ...]


# The field's answer-rate goal (≥ 95%) as the target, 90% as the threshold paying half, 98% as
# excellence paying 150%; the tiers of domain.md's worked example, with a step bonus at 100.
ANSWER_PRIORITY = Preset(
    code="answer-priority",
    name="A · 接听优先 Answer priority",
    target_bonus=Decimal("1000.00"),
    payout_cap=Decimal("2000.00"),
    metrics=(
        PresetMetric(
            metric="answer_rate",
            weight=Decimal("100"),
            direction="up",
            threshold=Decimal("90"),
            threshold_payout=Decimal("50"),
            target=Decimal("95"),
            excellence=Decimal("98"),
            excellence_payout=Decimal("150"),
        ),
    ),
    tiers=(
        PresetTier(Decimal("0"), Decimal("0")),
        PresetTier(Decimal("60"), Decimal("1.0")),
        PresetTier(Decimal("85"), Decimal("1.2")),
        PresetTier(Decimal("100"), Decimal("1.2"), Decimal("200.00")),
    ),
)

PRESETS = {preset.code: preset for preset in (ANSWER_PRIORITY,)}
