"""Bonus plans and their versions: the metrics they weigh, the tiers they pay, the gates that cut them
and the awards that go with them."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from incentives.models.decimals import MONEY, SCORE, VALUE
from incentives.models.organisation import Group, Team


class Plan(models.Model):
    """A bonus plan's identity; what it pays is in its versions."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PlanVersion(models.Model):
    """What a plan pays, for whom, from a date. Once a computation used it, it never changes: a change
    is a new version with its own effective date (``services.plan_version_new``)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")

    class BonusKind(models.TextChoices):
        FIXED = "fixed", _("Fixed amount")
        # xgettext:no-python-format
        PERCENT_OF_BASE = "percent", _("% of base pay")

    class CapKind(models.TextChoices):
        NONE = "none", _("No cap")
        AMOUNT = "amount", _("Amount")
        # xgettext:no-python-format
        PERCENT = "percent", _("% of target bonus")

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="versions", verbose_name=_("plan")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(
        _("effective to"), null=True, blank=True, help_text=_("Empty: open-ended.")
    )
    target_bonus_kind = models.CharField(
        _("target bonus is"), max_length=10, choices=BonusKind.choices, default=BonusKind.FIXED
    )
    target_bonus = models.DecimalField(
        _("target bonus per month"),
        null=True,
        blank=True,
        help_text=_("For a fixed amount."),
        **MONEY,
    )
    target_bonus_percent = models.DecimalField(
        # xgettext:no-python-format
        _("target bonus (% of base pay)"),
        null=True,
        blank=True,
        max_digits=7,
        decimal_places=4,
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    payout_cap_kind = models.CharField(
        _("overall payout cap"), max_length=10, choices=CapKind.choices, default=CapKind.PERCENT
    )
    payout_cap = models.DecimalField(
        _("cap value"),
        null=True,
        blank=True,
        # xgettext:no-python-format
        help_text=_("An amount, or a % of the target bonus (e.g. 200)."),
        **MONEY,
    )
    teams = models.ManyToManyField(
        Team, blank=True, related_name="plan_versions", verbose_name=_("teams")
    )
    groups = models.ManyToManyField(
        Group, blank=True, related_name="plan_versions", verbose_name=_("groups")
    )
    levels = models.JSONField(
        _("levels"), default=list, blank=True, help_text=_("Empty: every level.")
    )
    channels = models.JSONField(
        _("channels"), default=list, blank=True, help_text=_("Empty: every channel.")
    )
    note = models.TextField(_("what changed"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["plan__code", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="plan_version_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(target_bonus_kind="fixed", target_bonus__gte=0)
                | Q(target_bonus_kind="percent", target_bonus_percent__gt=0),
                name="plan_version_target_bonus_given",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} v{self.number}"

    @property
    def locked(self) -> bool:
        """Used by a computation: never to be changed in place."""
        return self.pk is not None and self.statements.exists()


class Scope(models.TextChoices):
    AGENT = "agent", _("the agent's own value")
    TEAM = "team", _("the team's value")


class PlanMetric(models.Model):
    class NoData(models.TextChoices):
        ZERO = "zero", _("score 0")
        REDISTRIBUTE = "redistribute", _("spread its weight over the other metrics")

    class Measure(models.TextChoices):
        VALUE = "value", _("the value")
        IMPROVEMENT = "improvement", _("improvement over a baseline")

    class Baseline(models.TextChoices):
        PREVIOUS = "previous", _("previous month")
        TRAILING3 = "trailing3", _("mean of the 3 months before")

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="metrics")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    scope = models.CharField(
        _("measured on"), max_length=5, choices=Scope.choices, default=Scope.AGENT
    )
    measure = models.CharField(
        _("measure"), max_length=12, choices=Measure.choices, default=Measure.VALUE
    )
    baseline = models.CharField(_("baseline"), max_length=10, choices=Baseline.choices, blank=True)
    params = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_("Empty: the field's defaults (see the metric catalogue)."),
    )
    threshold = models.DecimalField(_("threshold"), **VALUE)
    threshold_payout = models.DecimalField(
        _("payout at threshold (%)"), default=Decimal("50"), **SCORE
    )
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)
    excellence_payout = models.DecimalField(
        _("payout at excellence = metric cap (%)"), null=True, blank=True, **SCORE
    )
    no_data = models.CharField(
        _("when there is no data"), max_length=12, choices=NoData.choices, default=NoData.ZERO
    )

    class Meta:
        verbose_name = _("plan metric")
        verbose_name_plural = _("plan metrics")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "metric", "measure", "scope"], name="plan_metric_once"
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=100), name="plan_metric_weight_0_100"
            ),
            models.CheckConstraint(
                condition=Q(excellence__isnull=True, excellence_payout__isnull=True)
                | Q(excellence__isnull=False, excellence_payout__gte=100),
                name="plan_metric_excellence_with_cap",
            ),
            models.CheckConstraint(
                condition=Q(measure="value", baseline="")
                | Q(measure="improvement") & ~Q(baseline=""),
                name="plan_metric_baseline_with_improvement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.get_metric_display()}"


class PlanTier(models.Model):
    """From a weighted score on, the bonus pays at ``rate`` plus a fixed ``kicker``."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="tiers")
    from_score = models.DecimalField(_("from score"), **SCORE)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)
    kicker = models.DecimalField(_("step bonus"), default=Decimal("0"), **MONEY)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["version", "from_score"]
        constraints = [
            models.UniqueConstraint(fields=["version", "from_score"], name="plan_tier_from_unique"),
            models.CheckConstraint(
                condition=Q(rate__gte=0, kicker__gte=0), name="plan_tier_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.from_score}: × {self.rate} + {self.kicker}"


class PlanGate(models.Model):
    """A condition on a metric that cuts the bonus: "complaint rate > 0.5% ⇒ × 0"."""

    class Comparison(models.TextChoices):
        GT = "gt", ">"
        GE = "ge", "≥"
        LT = "lt", "<"
        LE = "le", "≤"

    class Effect(models.TextChoices):
        MULTIPLY = "multiply", _("multiply the payout by a factor")
        CAP_SCORE = "cap_score", _("cap the weighted score (no accelerators)")
        VOID = "void", _("void the bonus")

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="gates")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    scope = models.CharField(
        _("measured on"), max_length=5, choices=Scope.choices, default=Scope.AGENT
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    comparison = models.CharField(_("when the value is"), max_length=2, choices=Comparison.choices)
    value = models.DecimalField(_("value"), **VALUE)
    effect = models.CharField(_("then"), max_length=10, choices=Effect.choices)
    factor = models.DecimalField(_("factor"), null=True, blank=True, max_digits=5, decimal_places=4)
    score_cap = models.DecimalField(_("score cap"), null=True, blank=True, default=None, **SCORE)

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effect="multiply", factor__gte=0, factor__lte=1, score_cap__isnull=True)
                | Q(effect="cap_score", score_cap__gte=0, factor__isnull=True)
                | Q(effect="void", factor__isnull=True, score_cap__isnull=True),
                name="plan_gate_effect_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.get_comparison_display()} {self.value} ⇒ {self.get_effect_display()}"


class PlanAward(models.Model):
    """Non-monetary recognition that goes with a plan."""

    class Kind(models.TextChoices):
        BEST_AGENT = "best_agent_month", _("Best agent of the month")
        QUARTERLY_TOP = "quarterly_top_n", _("Quarterly top N")
        TRAINING = "training_places", _("Training places")
        SCHEDULING = "scheduling_priority", _("Priority in scheduling")

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="awards")
    kind = models.CharField(_("award"), max_length=20, choices=Kind.choices)
    count = models.PositiveSmallIntegerField(_("how many"), default=1)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="plan_award_count_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.count}"
