"""The catalogue: every metric of the field, with its formula, scale, range and parameters."""

from __future__ import annotations

from decimal import Decimal

from django.utils.functional import lazy

from calls.metrics.definitions import MetricDefinition, Param
from calls.metrics.formulas import (
    _abandon_rate,
    _aht,
    _answer_rate,
    _asa,
    _complaint_rate,
    _conversion_rate,
    _csat,
    _early_hangup_rate,
    _effective_talk_ratio,
    _fcr,
    _first_correct_transfer,
    _invitation_success,
    _nps,
    _qa_score,
    _repeat_contact_rate,
    _ring_no_answer_rate,
    _service_level,
    _time_to_convert,
)
from calls.metrics.queues import _of_the_queue
from calls.metrics.ratios import DOWN, ONE, PERCENT, UP

_WINDOW = Param("window_days", "Repeat-contact window", "重复来电窗口", 7, 1, 90, "days")
_QUEUE = Param("queue", "Queue", "队列", "", None, None, "", kind="queue")
_WITHIN = Param("answer_within_seconds", "Answered within", "应答时限", 20, 1, 600, "s")
_SHORT = Param(
    "short_abandon_seconds", "Short abandons excluded below", "短时放弃排除阈值", 5, 0, 120, "s"
)

CATALOGUE: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "answer_rate", "Answer rate", "接通率", "%", UP, ("calls",), _answer_rate, PERCENT,
        Decimal(0), PERCENT, "Answered ÷ offered (inbound), connected ÷ dialled (outbound).",
        (_QUEUE,),
    ),
    MetricDefinition(
        "asa", "Average speed of answer", "平均应答速度", "s", DOWN, ("calls",), _asa, ONE,
        Decimal(0), None, "Mean wait of answered inbound calls.", (_QUEUE,),
    ),
    MetricDefinition(
        "service_level", "Service level", "服务水平", "%", UP, ("calls",), _service_level, PERCENT,
        Decimal(0), PERCENT, "Inbound calls answered within N seconds ÷ offered inbound calls.",
        (_WITHIN, _QUEUE),
    ),
    MetricDefinition(
        "abandon_rate", "Abandonment rate", "放弃率", "%", DOWN, ("calls",), _abandon_rate,
        PERCENT, Decimal(0), PERCENT,
        "Abandoned ÷ offered inbound calls; abandons shorter than N seconds count in neither.",
        (_SHORT, _QUEUE),
    ),
    MetricDefinition(
        "aht", "Average handling time", "平均处理时长", "s", DOWN, ("calls",), _aht, ONE,
        Decimal(0), None, "(Talk + hold + after-call work) ÷ handled calls.",
    ),
    MetricDefinition(
        "fcr", "First-contact resolution", "首次解决率", "%", UP, ("calls",), _fcr, PERCENT,
        Decimal(0), PERCENT,
        "Answered inbound contacts with no repeat inbound contact from the same customer within the "
        "window ÷ answered inbound contacts with a known customer.",
        (_WINDOW,),
    ),
    MetricDefinition(
        "first_correct_transfer", "First-correct-transfer rate", "首次正确转接率", "%", UP,
        ("calls",), _first_correct_transfer, PERCENT, Decimal(0), PERCENT,
        "Transfers that reached the right skill first time ÷ transfers.",
    ),
    MetricDefinition(
        "conversion_rate", "Conversion rate", "转化率", "%", UP, ("calls", "conversions"),
        _conversion_rate, PERCENT, Decimal(0), PERCENT,
        "Answered calls with a sale, appointment or intent ÷ answered calls.",
    ),
    MetricDefinition(
        "time_to_convert", "Time to convert", "转化时长", "h", DOWN, ("calls", "conversions"),
        _time_to_convert, ONE, Decimal(0), None,
        "Mean hours from the call to its sale or appointment.", per_unit=3600,
    ),
    MetricDefinition(
        "invitation_success", "Invitation success rate", "邀约成功率", "%", UP, ("conversions",),
        _invitation_success, PERCENT, Decimal(0), PERCENT,
        "Invitations accepted ÷ invitations made.",
    ),
    MetricDefinition(
        "csat", "CSAT", "客户满意度", "score", UP, ("surveys",), _csat, ONE, Decimal(1), Decimal(5),
        "Mean after-call survey score (1-5).",
    ),
    MetricDefinition(
        "nps", "NPS", "净推荐值", "points", UP, ("surveys",), _nps, PERCENT, Decimal(-100),
        PERCENT, "% promoters (9-10) − % detractors (0-6).",
    ),
    MetricDefinition(
        "complaint_rate", "Complaint rate", "合规投诉率", "%", DOWN, ("calls",), _complaint_rate,
        PERCENT, Decimal(0), PERCENT, "Calls with a compliance complaint ÷ calls.",
    ),
    MetricDefinition(
        "early_hangup_rate", "Early hang-up rate", "早挂率", "%", DOWN, ("calls",),
        _early_hangup_rate, PERCENT, Decimal(0), PERCENT,
        "Connected calls ended by the customer within N seconds ÷ connected calls.",
        (Param("early_hangup_seconds", "Ended within", "挂断时限", 30, 1, 600, "s"),),
    ),
    MetricDefinition(
        "effective_talk_ratio", "Effective talk ratio", "有效通话时长占比", "%", UP,
        ("calls", "work time"), _effective_talk_ratio, PERCENT, Decimal(0), PERCENT,
        "Talk time of calls of at least N minutes ÷ logged-in time.",
        (Param("effective_call_minutes", "Effective call from", "有效通话时长起点", 2, 0, 60,
               "min"),),
    ),
    MetricDefinition(
        "repeat_contact_rate", "Repeat-contact rate", "重复来电率", "%", DOWN, ("calls",),
        _repeat_contact_rate, PERCENT, Decimal(0), PERCENT,
        "Answered inbound contacts followed by another inbound contact of the same customer within the "
        "window ÷ answered inbound contacts with a known customer.",
        (_WINDOW,),
    ),
    MetricDefinition(
        "qa_score", "QA score", "质检得分", "score", UP, ("QA",), _qa_score, ONE, Decimal(0),
        PERCENT, "Mean quality score (0-100).",
    ),
    MetricDefinition(
        "ring_no_answer_rate", "Ring-no-answer rate", "振铃未接率", "%", DOWN, ("rings", "calls"),
        _ring_no_answer_rate, PERCENT, Decimal(0), PERCENT,
        "Rings without answer (queue_log RINGNOANSWER) ÷ the times the queue rang the agent: those "
        "rings and the calls the agent answered.",
        (_QUEUE,),
    ),
    MetricDefinition(
        "queue_answer_rate", "Queue answer rate", "队列接通率", "%", UP, ("calls",),
        _of_the_queue(lambda f: (f.answered, f.offered)), PERCENT, Decimal(0), PERCENT,
        "The queue's answered ÷ offered calls (every call that joined it, answered by anyone or by "
        "nobody); each agent who took part in its calls gets the queue's value.",
        (_QUEUE,), shared=True,
    ),
    MetricDefinition(
        "queue_asa", "Queue average speed of answer", "队列平均应答速度", "s", DOWN, ("calls",),
        _of_the_queue(lambda f: (f.wait_answered, f.answered_timed)), ONE, Decimal(0), None,
        "Mean wait of the queue's answered calls; each agent who took part in its calls gets the "
        "queue's value.",
        (_QUEUE,), shared=True,
    ),
    MetricDefinition(
        "queue_service_level", "Queue service level", "队列服务水平", "%", UP, ("calls",),
        _of_the_queue(lambda f: (f.answered_within, f.timed)), PERCENT, Decimal(0), PERCENT,
        "The queue's calls answered within N seconds ÷ its offered calls; each agent who took part "
        "in its calls gets the queue's value.",
        (_WITHIN, _QUEUE), shared=True,
    ),
    MetricDefinition(
        "queue_abandon_rate", "Queue abandonment rate", "队列放弃率", "%", DOWN, ("calls",),
        _of_the_queue(lambda f: (f.abandoned - f.abandoned_short, f.offered - f.abandoned_short)),
        PERCENT, Decimal(0), PERCENT,
        "The queue's offered calls nobody answered ÷ its offered calls, those left within N seconds "
        "counting in neither; each agent who took part in its calls gets the queue's value.",
        (_SHORT, _QUEUE), shared=True,
    ),
)  # fmt: skip
METRICS: dict[str, MetricDefinition] = {definition.code: definition for definition in CATALOGUE}
# Labels in the reader's language, decided when shown (the catalogue carries both names).
METRIC_CHOICES = [(d.code, lazy(lambda d=d: d.name, str)()) for d in CATALOGUE]


def metric(code: str) -> MetricDefinition:
    try:
        return METRICS[code]
    except KeyError:
        raise ValueError(f"Unknown metric {code!r}; known: {', '.join(METRICS)}") from None
