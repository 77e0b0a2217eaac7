"""The plan presets a new customer starts from (domain.md, "Presets"); HR copies and edits them.

Each preset is plain data in the shape of ``incentives.validation.VersionSpec``, so it passes through the
same validation as a plan HR builds by hand. Numbers are the field's typical goals from domain.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D

from incentives.validation import GateSpec, MetricSpec, TierSpec, VersionSpec


@dataclass(frozen=True)
class AwardSpec:
    kind: str
    count: int = 1
    note: str = ""


@dataclass(frozen=True)
class Preset:
    code: str
    name: str
    description: str
    metrics: tuple[MetricSpec, ...]
    tiers: tuple[TierSpec, ...]
    gates: tuple[GateSpec, ...] = ()
    awards: tuple[AwardSpec, ...] = ()
    target_bonus: D = D("1000.00")
    payout_cap_percent: D = D("200")
    channels: tuple[str, ...] = field(default=())

    def spec(self, effective_from: dt.date) -> VersionSpec:
        return VersionSpec(
            effective_from=effective_from,
            effective_to=None,
            target_bonus_kind="fixed",
            target_bonus=self.target_bonus,
            target_bonus_percent=None,
            payout_cap_kind="percent",
            payout_cap=self.payout_cap_percent,
            metrics=list(self.metrics),
            tiers=list(self.tiers),
            gates=list(self.gates),
        )


# Below 60 nothing; 60-85 in proportion; 85 and above at 1.2; 100 and above a step bonus (domain.md).
STANDARD_TIERS = (
    TierSpec(D(0), D(0)),
    TierSpec(D(60), D(1)),
    TierSpec(D(85), D("1.2")),
    TierSpec(D(100), D("1.2"), D("200.00")),
)
COMPLAINT_VOIDS = GateSpec("complaint_rate", "gt", D("0.5"), "void")
CSAT_NO_ACCELERATORS = GateSpec("csat", "lt", D("4.2"), "cap_score", score_cap=D(100))


def _m(metric, weight, threshold, target, excellence=None, cap=None, **extra) -> MetricSpec:
    return MetricSpec(
        metric=metric,
        weight=D(weight),
        threshold=D(threshold),
        target=D(target),
        excellence=None if excellence is None else D(excellence),
        excellence_payout=None if cap is None else D(cap),
        **extra,
    )


ANSWER_PRIORITY = Preset(
    code="preset-a-answer-priority",
    name="A · 接听优先 Answer priority",
    description="For high-volume inbound teams: answer rate, speed of answer, first-correct transfers; a "
    "step bonus at 100% attainment; best agent of the month.",
    metrics=(
        _m("answer_rate", 50, 90, 95, 98, 150),
        _m("asa", 30, 40, 20, 10, 150),
        _m("first_correct_transfer", 20, 80, 90, 97, 130),
    ),
    tiers=STANDARD_TIERS,
    awards=(AwardSpec("best_agent_month", 1),),
    channels=("inbound",),
)
CONVERSION_DRIVEN = Preset(
    code="preset-b-conversion",
    name="B · 转化驱动 Conversion driven",
    description="Conversion rate, time to convert, re-contact rate, and tiered rewards for the size of the "
    "improvement in conversion over last month.",
    metrics=(
        _m("conversion_rate", 40, 8, 12, 18, 150),
        _m("conversion_rate", 25, 0, 2, 5, 150, measure="improvement", baseline="previous"),
        _m("time_to_convert", 15, 72, 48, 24, 130),
        _m("repeat_contact_rate", 20, 20, 12, 8, 130),
    ),
    tiers=STANDARD_TIERS,
    gates=(COMPLAINT_VOIDS,),
)
WHOLE_JOURNEY = Preset(
    code="preset-c-journey",
    name="C · 全链路体验 Whole-journey experience",
    description="Answer rate, average wait, CSAT and conversion as one composite bonus; top teams each "
    "quarter get training places and recognition.",
    metrics=(
        _m("answer_rate", 25, 90, 95, 98, 150),
        _m("asa", 20, 40, 20, 10, 150),
        _m("csat", 30, "4.0", "4.5", "4.8", 150),
        _m("conversion_rate", 25, 8, 12, 18, 150),
    ),
    tiers=STANDARD_TIERS,
    awards=(AwardSpec("quarterly_top_n", 3, "top teams"), AwardSpec("training_places", 3)),
)
INVITATIONS = Preset(
    code="preset-invitations",
    name="邀约 Invitations",
    description="Invitation success with a 60% base line and an 85% excellence line; a complaint about a "
    "forced invitation voids the bonus; a quarterly top-3 leaderboard.",
    metrics=(
        _m("invitation_success", 80, 60, 75, 85, 150),
        _m("qa_score", 20, 80, 90, 97, 120),
    ),
    tiers=STANDARD_TIERS,
    gates=(COMPLAINT_VOIDS,),
    awards=(AwardSpec("quarterly_top_n", 3),),
    channels=("invitations",),
)
OUTBOUND_COMPLIANCE = Preset(
    code="preset-outbound-compliance",
    name="电销合规 Outbound compliance",
    description="Compliance, efficiency, conversion and experience: complaint rate above 0.5% voids the bonus, "
    "effective talk ratio at least 60%, early hang-ups under 25%, CSAT at least 4.2 (below it, no "
    "accelerators).",
    metrics=(
        _m("effective_talk_ratio", 30, 50, 60, 70, 130),
        _m("early_hangup_rate", 20, 30, 25, 15, 130),
        _m("conversion_rate", 30, 5, 8, 12, 150),
        _m("csat", 20, "4.0", "4.2", "4.6", 130),
    ),
    tiers=STANDARD_TIERS,
    gates=(COMPLAINT_VOIDS, CSAT_NO_ACCELERATORS),
    channels=("outbound",),
)

PRESETS: dict[str, Preset] = {
    preset.code: preset
    for preset in (
        ANSWER_PRIORITY,
        CONVERSION_DRIVEN,
        WHOLE_JOURNEY,
        INVITATIONS,
        OUTBOUND_COMPLIANCE,
    )
}
