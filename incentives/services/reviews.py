"""The three-stage performance interview (三阶谈话法): review → consensus → forward, one per agent and
approved month.

The state machine: a stage's content is written by the team's lead while the stage is current and not
yet signed; the lead signs it off; the agent acknowledges it, which moves the review to the next stage
(with both times kept). Acknowledging the forward stage completes the review and saves the agreed
targets as the agent's target overrides for the next month, which that month's computation uses. A
completed review is read-only until HR reopens it (recorded by the audit trail, with the reason).
Every refusal says what is wrong in one sentence (``ReviewRefused``).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from calls.errors import DomainError
from calls.metrics import DOWN
from calls.months import shift_month
from calls.roles import HR, user_roles
from incentives.models import (
    ActionItem,
    AgreedTarget,
    Period,
    Review,
    RootCause,
    SharedSkill,
    SkillMark,
    Statement,
)
from incentives.selectors import approved_statements_until
from incentives.services.targets import target_override_set, target_problem

# A weighted score that fell by at least this many points since last month flags the agent.
DROP_POINTS = Decimal(10)
ORDER: list[str] = [
    Review.Stage.REVIEW,
    Review.Stage.CONSENSUS,
    Review.Stage.FORWARD,
    Review.Stage.DONE,
]


class ReviewRefused(DomainError):
    """The step is not allowed now or not by this person; the message says why."""


def review_flags(
    statement: Statement, previous: Statement | None
) -> tuple[list[str], Decimal | None]:
    """Why the data flags an agent for the lead: a metric below its threshold (a line scoring 0 on
    data), a gate hit, a weighted score down by ``DROP_POINTS`` or more since last month."""
    flags = []
    if any(line.score == 0 and not line.no_data for line in statement.lines.all()):
        flags.append("below_threshold")
    if statement.gates_hit.all():
        flags.append("gate")
    change = None if previous is None else statement.weighted_score - previous.weighted_score
    if change is not None and change <= -DROP_POINTS:
        flags.append("drop")
    return flags, change


@transaction.atomic
def reviews_open(*, period: Period) -> int:
    """Open a review for every agent of the period's approved run (call when the period is approved).
    Idempotent: an agent's existing review is pointed at the newly approved statement and re-flagged
    while nobody has signed anything in it yet; returns the number of reviews opened."""
    run = period.approved_run
    statements = list(
        Statement.objects.filter(run=run)
        .prefetch_related("lines", "gates_hit")
        .select_related("agent")
    )
    year, month = shift_month(period.year, period.month, -1)
    before = Period.objects.filter(year=year, month=month, approved_run__isnull=False).first()
    previous = {}
    if before is not None and before.approved_run_id is not None:
        previous = {s.agent_id: s for s in Statement.objects.filter(run_id=before.approved_run_id)}
    existing = {r.agent_id: r for r in Review.objects.filter(period=period)}
    created = []
    for s in statements:
        flags, change = review_flags(s, previous.get(s.agent_id))
        review = existing.get(s.agent_id)
        if review is None:
            created.append(
                Review(
                    period=period,
                    agent=s.agent,
                    team_id=s.team_id,
                    statement=s,
                    flags=flags,
                    score_change=change,
                )
            )
        elif review.stage == Review.Stage.REVIEW and review.review_signed_at is None:
            review.statement, review.team_id, review.flags, review.score_change = (
                s,
                s.team_id,
                flags,
                change,
            )
            review.save(update_fields=["statement", "team", "flags", "score_change"])
    Review.objects.bulk_create(created)
    return len(created)


# --- who may do what ------------------------------------------------------------------------------


def _is_lead(user, review: Review) -> bool:
    return review.team.leads.filter(pk=user.pk).exists()


def _require_lead(user, review: Review) -> None:
    if not _is_lead(user, review):
        raise ReviewRefused(f"Only a lead of {review.team} conducts {review.agent}'s review.")


def _require_open_stage(review: Review, stage: str, what: str) -> None:
    """Content of a stage is written while that stage is current and its lead has not signed it."""
    if review.stage == Review.Stage.DONE:
        raise ReviewRefused("This review is completed and read-only; HR can reopen it.")
    if review.stage != stage:
        raise ReviewRefused(
            f"{what} belongs to the {Review.Stage(stage).label} stage; the review is at "
            f"{Review.Stage(review.stage).label}."
        )
    if getattr(review, f"{stage}_signed_at") is not None:
        raise ReviewRefused(
            f"The lead has signed off the {Review.Stage(stage).label} stage: it waits for "
            f"{review.agent}'s acknowledgement and can no longer change."
        )


def _locked(review: Review) -> Review:
    return (
        Review.objects.select_for_update()
        .select_related("team", "agent", "period")
        .get(pk=review.pk)
    )


# --- the stages' content ----------------------------------------------------------------------------


@transaction.atomic
def root_cause_add(
    *, review: Review, user, metric: str, category: str, note: str = ""
) -> RootCause:
    """Review (复盘): a cause of a swing, tied to a metric and a category."""
    review = _locked(review)
    _require_lead(user, review)
    _require_open_stage(review, Review.Stage.REVIEW, "A root cause")
    cause = RootCause(review=review, metric=metric, category=category, note=note.strip())
    cause.full_clean()
    cause.save()
    return cause


@transaction.atomic
def action_item_add(
    *, review: Review, user, what: str, owner, due: dt.date, kind: str, metric: str = ""
) -> ActionItem:
    """Consensus (共识): one action of the improvement plan, owned by the agent or a lead of the team."""
    review = _locked(review)
    _require_lead(user, review)
    _require_open_stage(review, Review.Stage.CONSENSUS, "An action item")
    if owner != review.agent.user and not _is_lead(owner, review):
        raise ReviewRefused(f"The owner of an action is {review.agent} or a lead of {review.team}.")
    if due < timezone.localdate():
        raise ReviewRefused(f"The due date {due} is in the past.")
    item = ActionItem(
        review=review, what=what.strip(), owner=owner, due=due, kind=kind, metric=metric
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def skill_mark_add(*, review: Review, user, skill: str, side: str, note: str = "") -> SkillMark:
    """Consensus (共识): one entry of the strengths / weaknesses map."""
    review = _locked(review)
    _require_lead(user, review)
    _require_open_stage(review, Review.Stage.CONSENSUS, "The skills map")
    mark = SkillMark(review=review, skill=skill.strip(), side=side, note=note.strip())
    mark.full_clean()
    mark.save()
    return mark


def _better(a: Decimal, b: Decimal, down: bool) -> bool:
    return a < b if down else a > b


def targets_proposed(review: Review) -> list[AgreedTarget]:
    """Next month's ladder per metric measured on the agent: this month's threshold and excellence, and
    as target this month's target — or the agent's mean over their last three approved months when
    that is already better (a target the agent has shown they reach), as long as it stays short of
    excellence. Unsaved rows; ``forward`` stage writes them."""
    lines = [
        line
        for line in review.statement.lines.all()
        if line.measure == "value" and line.scope == "agent"
    ]
    history: dict[str, list[Decimal]] = {}
    for statement in approved_statements_until(review.agent, review.period, months=3):
        for line in statement.lines.all():
            if line.value is not None:
                history.setdefault(line.metric, []).append(line.value)
    proposals = []
    for line in lines:
        target = line.target
        values = history.get(line.metric, [])
        if values:
            mean = (sum(values, Decimal(0)) / len(values)).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP
            )
            down = line.direction == DOWN
            if _better(mean, target, down) and (
                line.excellence is None or _better(line.excellence, mean, down)
            ):
                target = mean
        if target_problem(line.metric, line.threshold, target, line.excellence):
            target = line.target
        proposals.append(
            AgreedTarget(
                review=review,
                metric=line.metric,
                proposed_threshold=line.threshold,
                proposed_target=target,
                proposed_excellence=line.excellence,
                threshold=line.threshold,
                target=target,
                excellence=line.excellence,
            )
        )
    return proposals


@transaction.atomic
def target_agree(
    *,
    review: Review,
    user,
    metric: str,
    threshold: Decimal,
    target: Decimal,
    excellence: Decimal | None,
) -> AgreedTarget:
    """Forward (前瞻): agree next month's ladder for one metric (the proposal is the starting point)."""
    review = _locked(review)
    _require_lead(user, review)
    _require_open_stage(review, Review.Stage.FORWARD, "A target for next month")
    problem = target_problem(metric, threshold, target, excellence)
    if problem:
        raise ReviewRefused(f"{metric}: {problem}.")
    try:
        agreed = review.agreed_targets.get(metric=metric)
    except AgreedTarget.DoesNotExist:
        raise ReviewRefused(f"{metric} is not measured on {review.agent} in this plan.") from None
    agreed.threshold, agreed.target, agreed.excellence = threshold, target, excellence
    agreed.save(update_fields=["threshold", "target", "excellence"])
    return agreed


@transaction.atomic
def shared_skill_add(*, review: Review, user, skill: str, note: str = "") -> SharedSkill:
    """Forward (前瞻): a skill worth sharing; the agent joins the internal expert list for it."""
    review = _locked(review)
    _require_lead(user, review)
    _require_open_stage(review, Review.Stage.FORWARD, "A skill worth sharing")
    shared = SharedSkill(review=review, agent=review.agent, skill=skill.strip(), note=note.strip())
    shared.full_clean()
    shared.save()
    return shared


@transaction.atomic
def action_item_done(*, item: ActionItem, user) -> ActionItem:
    """Follow-through: the owner or a lead marks an action done, at any time (also after completion)."""
    review = item.review
    if user != item.owner and not _is_lead(user, review):
        raise ReviewRefused(f"Only {item.owner} or a lead of {review.team} marks this action done.")
    if item.done_at is None:
        item.done_at = timezone.now()
        item.save(update_fields=["done_at"])
    return item


# --- sign-off, acknowledgement, reopening -----------------------------------------------------------


def _stage_problem(review: Review) -> str | None:
    """What the current stage still lacks before the lead may sign it off."""
    if review.stage == Review.Stage.REVIEW and not review.root_causes.exists():
        return "Write down at least one root cause before signing off the review stage."
    if review.stage == Review.Stage.CONSENSUS:
        if not review.actions.exists():
            return "Agree at least one action item before signing off the consensus."
        if "below_threshold" in review.flags:
            sides = set(review.skills.values_list("side", flat=True))
            if sides != {SkillMark.Side.STRENGTH, SkillMark.Side.WEAKNESS}:
                return (
                    f"{review.agent} is below a threshold: map at least one strength and one weakness "
                    "before signing off the consensus."
                )
    if (
        review.stage == Review.Stage.FORWARD
        and not review.agreed_targets.exists()
        and targets_proposed(review)
    ):
        return "Agree next month's targets before signing off the forward stage."
    return None


@transaction.atomic
def review_sign(*, review: Review, user) -> Review:
    """The lead signs off the current stage; it then waits for the agent's acknowledgement."""
    review = _locked(review)
    _require_lead(user, review)
    if review.stage == Review.Stage.DONE:
        raise ReviewRefused("This review is completed and read-only; HR can reopen it.")
    field = f"{review.stage}_signed_at"
    if getattr(review, field) is not None:
        raise ReviewRefused(f"The {Review.Stage(review.stage).label} stage is already signed off.")
    problem = _stage_problem(review)
    if problem:
        raise ReviewRefused(problem)
    setattr(review, field, timezone.now())
    review.signed_by = user
    review.save(update_fields=[field, "signed_by"])
    return review


def _first_open_month_after(period: Period) -> Period:
    """Next month — or, if HR has already approved it (a review finished late), the first month after
    it still open: agreed targets always land on a month whose computation is still to come."""
    year, month = shift_month(period.year, period.month, 1)
    while True:
        candidate, _created = Period.objects.get_or_create(year=year, month=month)
        if candidate.status in (Period.Status.OPEN, Period.Status.COMPUTED):
            return candidate
        year, month = shift_month(candidate.year, candidate.month, 1)


@transaction.atomic
def review_acknowledge(*, review: Review, user) -> Review:
    """The agent acknowledges the signed current stage, which moves the review on. Acknowledging the
    forward stage completes it: the agreed targets become the agent's overrides for next month."""
    review = _locked(review)
    if review.agent.user_id is None or review.agent.user_id != user.pk:
        raise ReviewRefused(f"Only {review.agent} acknowledges their own review.")
    if review.stage == Review.Stage.DONE:
        raise ReviewRefused("This review is completed and read-only; HR can reopen it.")
    stage = review.stage
    if getattr(review, f"{stage}_signed_at") is None:
        raise ReviewRefused(
            f"The lead has not signed off the {Review.Stage(stage).label} stage yet."
        )
    setattr(review, f"{stage}_acknowledged_at", timezone.now())
    review.stage = ORDER[ORDER.index(stage) + 1]
    fields = [f"{stage}_acknowledged_at", "stage"]
    if review.stage == Review.Stage.FORWARD and not review.agreed_targets.exists():
        AgreedTarget.objects.bulk_create(targets_proposed(review))
    if review.stage == Review.Stage.DONE:
        target_period = _first_open_month_after(review.period)
        for agreed in review.agreed_targets.all():
            target_override_set(
                period=target_period,
                metric_code=agreed.metric,
                agent=review.agent,
                threshold=agreed.threshold,
                target=agreed.target,
                excellence=agreed.excellence,
                note=f"agreed in the review of {review.period}",
                user=review.signed_by,
            )
        review.target_period = target_period
        fields.append("target_period")
    review.save(update_fields=fields)
    return review


@transaction.atomic
def review_reopen(*, review: Review, user, stage: str, reason: str) -> Review:
    """HR reopens a completed review at ``stage``; that stage's and the later ones' sign-offs are
    cleared. The audit trail records who, when and the reason."""
    review = _locked(review)
    if HR not in user_roles(user):
        raise ReviewRefused("Only HR can reopen a review.")
    if review.stage != Review.Stage.DONE:
        raise ReviewRefused("Only a completed review is reopened; this one is still in progress.")
    if stage not in ORDER[:-1]:
        raise ReviewRefused(f"{stage} is not a stage of the review.")
    if not reason.strip():
        raise ReviewRefused("Say why the review is reopened.")
    if len(reason.strip()) > 300:
        raise ReviewRefused("Say why the review is reopened in at most 300 characters.")
    fields = ["stage", "reopened_at", "reopen_reason"]
    for later in ORDER[ORDER.index(stage) : -1]:
        setattr(review, f"{later}_signed_at", None)
        setattr(review, f"{later}_acknowledged_at", None)
        fields += [f"{later}_signed_at", f"{later}_acknowledged_at"]
    review.stage, review.reopened_at, review.reopen_reason = stage, timezone.now(), reason.strip()
    review.save(update_fields=fields)
    return review
