"""What a run pays each agent and why: statements, their lines and gates, and the adjustments of
closed months paid in a later one."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from calls.numbers import shown, shown_level
from incentives.models.decimals import MEASURED, MONEY, SCORE, SCORED, VALUE
from incentives.models.organisation import Agent, Team
from incentives.models.periods import Period, Run
from incentives.models.plans import PlanGate, PlanVersion


class Statement(models.Model):
    """An agent's bonus for one run, and everything needed to explain it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="statements")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="statements")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    plan_version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, related_name="statements"
    )
    target_bonus = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    weighted_score = models.DecimalField(_("weighted score"), **SCORED)
    tier_from = models.DecimalField(null=True, blank=True, **SCORE)
    tier_rate = models.DecimalField(max_digits=6, decimal_places=4)
    score_cap = models.DecimalField(null=True, blank=True, **SCORE)  # from a "cap the score" gate
    payout_factor = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal(1))
    payout_cap = models.DecimalField(null=True, blank=True, **MONEY)
    kicker = models.DecimalField(**MONEY)
    amount_before_cap = models.DecimalField(max_digits=18, decimal_places=6)
    capped = models.BooleanField(default=False)
    # Corrections of closed months paid (or taken back) in this one, after the overall cap: the cap
    # limits this month's bonus, not what an earlier month owed.
    adjustments = models.DecimalField(_("adjustments"), default=Decimal(0), **MONEY)
    amount = models.DecimalField(_("payout"), **MONEY)
    # SHA-256 of what the facts contributed (each line's and gate's sums): two runs with the same
    # fingerprint saw the same data for this agent.
    facts_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["agent__employee_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "agent"], name="statement_one_per_agent_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.run} · {self.agent}"


class StatementLine(models.Model):
    # A month writes tens of thousands of lines, each by the run that wrote its statement a moment
    # before in the same transaction: a deferred foreign-key check per line at commit cost a tenth of
    # the run. Django still deletes a statement's lines with it (CASCADE), and the unique key
    # (statement, metric) below is the index that finds them.
    statement = models.ForeignKey(
        Statement,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
        db_index=False,
    )
    metric = models.CharField(max_length=40, choices=METRIC_CHOICES)
    value = models.DecimalField(null=True, blank=True, **MEASURED)
    # The sums behind the value ("1,204 of 1,251"); decimal because some are hours or scores, and
    # signed because NPS counts promoters less detractors.
    numerator = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    denominator = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    scope = models.CharField(max_length=5, default="agent")
    measure = models.CharField(max_length=12, default="value")
    direction = models.CharField(max_length=4)
    target_source = models.CharField(max_length=10, default="plan")  # plan, team or agent override
    threshold = models.DecimalField(**VALUE)
    threshold_payout = models.DecimalField(**SCORE)
    target = models.DecimalField(**VALUE)
    excellence = models.DecimalField(null=True, blank=True, **VALUE)
    excellence_payout = models.DecimalField(null=True, blank=True, **SCORE)
    weight = models.DecimalField(max_digits=5, decimal_places=2)
    effective_weight = models.DecimalField(**SCORED)
    score = models.DecimalField(**SCORED)
    points = models.DecimalField(**SCORED)
    no_data = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "metric"], name="statement_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.metric}"

    def in_words(self) -> str:
        """The line as a sentence an agent reads: "Answer rate 96.20 (1,204 of 1,251): at or beyond the
        target 95, score 113.00 × 30% weight = 33.90 points." In the reader's language and number
        format, by the display rule of the table above it (``calls.numbers``), from the same stored
        values, so the two never disagree; where the value stands is said in the metric's direction."""
        name = self.get_metric_display()
        if self.no_data:
            return _("%(metric)s: no data this month, %(points)s points.") % {
                "metric": name,
                "points": shown(self.points),
            }

        def reaches(level) -> bool:
            return self.value >= level if self.direction == "up" else self.value <= level

        if self.excellence is not None and reaches(self.excellence):
            where = _("at or beyond excellence %(level)s") % {"level": shown_level(self.excellence)}
        elif reaches(self.target):
            where = _("at or beyond the target %(level)s") % {"level": shown_level(self.target)}
        elif reaches(self.threshold):
            where = _("between the threshold %(low)s and the target %(level)s") % {
                "low": shown_level(self.threshold),
                "level": shown_level(self.target),
            }
        else:
            where = _("short of the threshold %(level)s") % {"level": shown_level(self.threshold)}
        return _(
            "%(metric)s %(value)s (%(n)s of %(d)s): %(where)s, score %(score)s × "
            "%(weight)s%% weight = %(points)s points."
        ) % {
            "metric": name,
            "value": shown(self.value),
            "n": shown(self.numerator, whole=True),
            "d": shown(self.denominator, whole=True),
            "where": where,
            "score": shown(self.score),
            "weight": shown(self.effective_weight, whole=True),
            "points": shown(self.points),
        }


class StatementGate(models.Model):
    """A gate of the plan that the agent hit, with the value that hit it."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="gates_hit")
    metric = models.CharField(max_length=40, choices=METRIC_CHOICES)
    scope = models.CharField(max_length=5)
    comparison = models.CharField(max_length=2, choices=PlanGate.Comparison.choices)
    threshold = models.DecimalField(**VALUE)
    value = models.DecimalField(**MEASURED)
    effect = models.CharField(max_length=10, choices=PlanGate.Effect.choices)
    factor = models.DecimalField(null=True, blank=True, max_digits=5, decimal_places=4)
    score_cap = models.DecimalField(null=True, blank=True, **SCORE)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.statement} · {self.metric} {self.comparison} {self.threshold}"


class Adjustment(models.Model):
    """A correction of a closed month, paid (or taken back) in a later open one; it says what it corrects."""

    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("paid in")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("agent")
    )
    amount = models.DecimalField(
        _("amount"), **MONEY, help_text=_("Negative to take back an overpayment.")
    )
    corrects = models.ForeignKey(
        Period,
        on_delete=models.PROTECT,
        related_name="corrected_by",
        verbose_name=_("corrects the month"),
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["period", "agent__employee_id", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="adjustment_not_zero"),
            models.CheckConstraint(
                condition=~Q(period=models.F("corrects")), name="adjustment_other_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.amount} · corrects {self.corrects}"

    def clean(self) -> None:
        """A correction is of a closed month, paid in a later month that is still open."""
        errors: dict[str, object] = {}  # messages, lazily translated or not
        if self.amount is not None and self.amount == 0:
            errors["amount"] = _("An adjustment of zero changes nothing.")
        period = self.period if self.period_id else None
        corrects = self.corrects if self.corrects_id else None
        if period is not None and period.status not in (Period.Status.OPEN, Period.Status.COMPUTED):
            errors["period"] = _(
                "%(period)s is %(status)s: adjustments are paid in an open month."
            ) % {"period": period, "status": period.get_status_display()}
        if corrects is not None:
            if corrects.status != Period.Status.CLOSED:
                errors["corrects"] = _(
                    "%(month)s is %(status)s, not closed: recompute it instead of adjusting later."
                ) % {"month": corrects, "status": corrects.get_status_display()}
            elif period is not None and (corrects.year, corrects.month) >= (
                period.year,
                period.month,
            ):
                errors["corrects"] = _(
                    "The corrected month must come before the month that pays it."
                )
        if errors:
            raise ValidationError(errors)


class StatementAdjustment(models.Model):
    """An adjustment as a statement paid it: kept as it was even if the adjustment is later removed."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="adjustment_lines"
    )
    adjustment = models.ForeignKey(
        Adjustment, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(**MONEY)
    corrects = models.CharField(max_length=7)  # the corrected month, YYYY-MM
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.statement} · {self.amount} ({self.corrects})"
