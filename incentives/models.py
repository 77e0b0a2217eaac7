"""Organisation, plans, periods, runs and statements.

Invariants that must always hold are database constraints, so no code path can break them; writes go
through ``incentives.services``. Money is Decimal, never float.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES

MONEY = {"max_digits": 14, "decimal_places": 2}
SCORE = {"max_digits": 9, "decimal_places": 4}
VALUE = {"max_digits": 14, "decimal_places": 4}


class Team(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_teams", verbose_name=_("team leads")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    employee_id = models.CharField(_("employee id"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="agents", verbose_name=_("team")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent",
        verbose_name=_("login"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["employee_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_id})"


class Plan(models.Model):
    """A bonus plan for some teams from a date. Versions (issue 3) will make a used plan immutable."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    teams = models.ManyToManyField(Team, related_name="plans", verbose_name=_("teams"))
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    target_bonus = models.DecimalField(_("target bonus per month"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    payout_cap = models.DecimalField(
        _("overall payout cap"), null=True, blank=True, help_text=_("Empty: no cap."), **MONEY
    )

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(
                condition=Q(target_bonus__gte=0), name="plan_target_bonus_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="plan_effective_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanMetric(models.Model):
    class Direction(models.TextChoices):
        UP = "up", _("higher is better")
        DOWN = "down", _("lower is better")

    class NoData(models.TextChoices):
        ZERO = "zero", _("score 0")
        REDISTRIBUTE = "redistribute", _("spread its weight over the other metrics")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="metrics")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    weight = models.DecimalField(
        _("weight (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    threshold = models.DecimalField(_("threshold"), **VALUE)
    threshold_payout = models.DecimalField(
        _("payout at threshold (%)"), default=Decimal("50"), **SCORE
    )
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)
    excellence_payout = models.DecimalField(
        _("payout at excellence, the cap (%)"), null=True, blank=True, **SCORE
    )
    no_data = models.CharField(
        _("when there is no data"), max_length=12, choices=NoData.choices, default=NoData.ZERO
    )

    class Meta:
        verbose_name = _("plan metric")
        verbose_name_plural = _("plan metrics")
        constraints = [
            models.UniqueConstraint(fields=["plan", "metric"], name="plan_metric_once"),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=100), name="plan_metric_weight_0_100"
            ),
            models.CheckConstraint(
                condition=(
                    Q(direction="up", target__gt=F("threshold"))
                    | Q(direction="down", target__lt=F("threshold"))
                ),
                name="plan_metric_threshold_before_target",
            ),
            models.CheckConstraint(
                condition=Q(excellence__isnull=True, excellence_payout__isnull=True)
                | Q(excellence__isnull=False, excellence_payout__gte=100),
                name="plan_metric_excellence_with_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.get_metric_display()}"


class PlanTier(models.Model):
    """From a weighted score on, the bonus pays at ``rate`` plus a fixed ``kicker``."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tiers")
    from_score = models.DecimalField(_("from score"), **SCORE)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)
    kicker = models.DecimalField(_("step bonus"), default=Decimal("0"), **MONEY)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["plan", "from_score"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "from_score"], name="plan_tier_from_unique"),
            models.CheckConstraint(
                condition=Q(rate__gte=0, kicker__gte=0), name="plan_tier_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.from_score}: × {self.rate} + {self.kicker}"


class Period(models.Model):
    """A calendar month on the center's clock, and where it is in its life cycle."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPUTED = "computed", _("Computed")
        APPROVED = "approved", _("Approved")
        CLOSED = "closed", _("Closed")

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    approved_run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="period_unique_month"),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="period_month_1_12"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "closed"]) | Q(approved_run__isnull=False),
                name="period_approved_has_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"


class Run(models.Model):
    """One computation of a period: a new version each time, the old ones kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("computation run")
        verbose_name_plural = _("computation runs")
        ordering = ["period", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["period", "number"], name="run_number_unique"),
            # Two requests for the same period start one run: the second insert fails here.
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status__in=["pending", "running"]),
                name="run_one_active_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} v{self.number}"


class RunChunk(models.Model):
    """The part of a run one worker does: one team's agents."""

    class Status(models.TextChoices):
        # A chunk is computed in one transaction, so it goes from waiting straight to done: a worker
        # that dies half-way leaves it waiting, and the re-delivered task does it again.
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="chunks")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    statements = models.PositiveIntegerField(default=0)
    # What HR must fix for this team (no plan in force, two plans) or the error that failed the chunk.
    problem = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "team"], name="run_chunk_team_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} · {self.team}"


class Statement(models.Model):
    """An agent's bonus for one run, and everything needed to explain it."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="statements")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="statements")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="statements")
    target_bonus = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    weighted_score = models.DecimalField(_("weighted score"), **SCORE)
    tier_from = models.DecimalField(null=True, blank=True, **SCORE)
    tier_rate = models.DecimalField(max_digits=6, decimal_places=4)
    kicker = models.DecimalField(**MONEY)
    amount_before_cap = models.DecimalField(max_digits=18, decimal_places=6)
    capped = models.BooleanField(default=False)
    amount = models.DecimalField(_("payout"), **MONEY)

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
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="lines")
    metric = models.CharField(max_length=40, choices=METRIC_CHOICES)
    value = models.DecimalField(null=True, blank=True, **VALUE)
    numerator = models.PositiveIntegerField(default=0)
    denominator = models.PositiveIntegerField(default=0)
    direction = models.CharField(max_length=4)
    threshold = models.DecimalField(**VALUE)
    threshold_payout = models.DecimalField(**SCORE)
    target = models.DecimalField(**VALUE)
    excellence = models.DecimalField(null=True, blank=True, **VALUE)
    excellence_payout = models.DecimalField(null=True, blank=True, **SCORE)
    weight = models.DecimalField(max_digits=5, decimal_places=2)
    effective_weight = models.DecimalField(max_digits=9, decimal_places=4)
    score = models.DecimalField(**SCORE)
    points = models.DecimalField(**SCORE)
    no_data = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "metric"], name="statement_line_once")
        ]

    def __str__(self) -> str:
        return f"{self.statement} · {self.metric}"
