"""Organisation, plans, periods, runs and statements.

Invariants that must always hold are database constraints, so no code path can break them; rules that
span rows (weights adding up to 100, no two plans for one agent) are checked by ``incentives.validation``
before any write; writes go through ``incentives.services``. Money is Decimal, never float.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.leases import Leased
from calls.metrics import METRIC_CHOICES
from calls.numbers import MOST_PLACES, shown, shown_level

MONEY = {"max_digits": 14, "decimal_places": 2}
SCORE = {"max_digits": 9, "decimal_places": 4}
VALUE = {"max_digits": 14, "decimal_places": 4}
# What a run keeps of its exact results for display (values, scores, points): rounded half-up to
# ``calls.numbers.MOST_PLACES`` decimals, so a value next to the level it was compared with (a gate's
# threshold, a tier's lower bound) still shows on which side of it it lies. Never read back into a
# computation: scoring starts from the facts again.
MEASURED = {"max_digits": 24, "decimal_places": MOST_PLACES}
SCORED = {"max_digits": 20, "decimal_places": MOST_PLACES}


class Level(models.TextChoices):
    JUNIOR = "junior", _("Junior")
    INTERMEDIATE = "intermediate", _("Intermediate")
    SENIOR = "senior", _("Senior")
    EXPERT = "expert", _("Expert")


class Channel(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    ONLINE = "online", _("Online chat")
    INVITATIONS = "invitations", _("Invitations")


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="teams",
        verbose_name=_("region"),
    )  # fmt: skip
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_teams", verbose_name=_("team leads")
    )
    monthly_budget = models.DecimalField(
        _("monthly bonus budget"), null=True, blank=True, **MONEY,
        help_text=_("What the team's bonuses may cost in a month; shown beside the totals before approval."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="groups", verbose_name=_("team")
    )
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["team__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["team", "code"], name="group_code_unique_in_team")
        ]

    def __str__(self) -> str:
        return f"{self.team} / {self.name}"


class Agent(models.Model):
    """A person on the phones. Where they sit (team, group) is dated: see ``Placement``."""

    employee_id = models.CharField(_("employee id"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, default=Level.JUNIOR)
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.INBOUND
    )
    base_pay = models.DecimalField(_("monthly base pay"), null=True, blank=True, **MONEY)
    hire_date = models.DateField(_("hired on"), null=True, blank=True)
    leave_date = models.DateField(
        _("left on"), null=True, blank=True, help_text=_("Last working day.")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="agent", verbose_name=_("login"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["employee_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(leave_date__isnull=True) | Q(hire_date__isnull=True)
                | Q(leave_date__gte=F("hire_date")),
                name="agent_leaves_after_hire",
            ),
            models.CheckConstraint(
                condition=Q(base_pay__isnull=True) | Q(base_pay__gte=0), name="agent_base_pay_not_negative"
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_id})"


class Placement(models.Model):
    """Where an agent sits from one date to another: the history that attributes a day's calls to a team.

    Written only by ``services.agent_place``, which keeps an agent's placements from overlapping.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="placements")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="placements")
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True, help_text=_("Empty: still there."))

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["agent", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="placement_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["agent", "valid_from"], name="placement_one_start_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} @ {self.group or self.team} {self.valid_from}…{self.valid_to or ''}"


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
        ]  # fmt: skip

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
        _("weight (%)"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    scope = models.CharField(
        _("measured on"), max_length=5, choices=Scope.choices, default=Scope.AGENT
    )
    measure = models.CharField(
        _("measure"), max_length=12, choices=Measure.choices, default=Measure.VALUE
    )
    baseline = models.CharField(_("baseline"), max_length=10, choices=Baseline.choices, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True,
                              help_text=_("Empty: the field's defaults (see the metric catalogue)."))  # fmt: skip
    threshold = models.DecimalField(_("threshold"), **VALUE)
    threshold_payout = models.DecimalField(
        _("payout at threshold (%)"), default=Decimal("50"), **SCORE
    )
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)
    excellence_payout = models.DecimalField(
        _("payout at excellence = metric cap (%)"), null=True, blank=True, **SCORE
    )
    no_data = models.CharField(_("when there is no data"), max_length=12, choices=NoData.choices,
                               default=NoData.ZERO)  # fmt: skip

    class Meta:
        verbose_name = _("plan metric")
        verbose_name_plural = _("plan metrics")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "metric", "measure", "scope"], name="plan_metric_once"),
            models.CheckConstraint(condition=Q(weight__gte=0, weight__lte=100), name="plan_metric_weight_0_100"),
            models.CheckConstraint(
                condition=Q(excellence__isnull=True, excellence_payout__isnull=True)
                | Q(excellence__isnull=False, excellence_payout__gte=100),
                name="plan_metric_excellence_with_cap",
            ),
            models.CheckConstraint(
                condition=Q(measure="value", baseline="") | Q(measure="improvement") & ~Q(baseline=""),
                name="plan_metric_baseline_with_improvement",
            ),
        ]  # fmt: skip

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
        ]  # fmt: skip

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

    @property
    def reopened(self) -> bool:
        """Approved once, reopened by HR since: its data may have changed since the approval. The run
        approved then stays ``approved_run`` (what agents see) until a new run is approved."""
        return self.approved_run_id is not None and self.status in (
            self.Status.OPEN,
            self.Status.COMPUTED,
        )


class PeriodReopening(models.Model):
    """HR reopened an approved month, with the reason: the record of who, when, why and which approved
    run it set aside (``incentives.services.period_reopen``). Never changed after."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="reopenings")
    approved_run = models.ForeignKey(
        "Run",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The run approved until then."),
    )
    reason = models.TextField(_("reason"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(_("reopened at"), default=timezone.now)

    class Meta:
        verbose_name = _("reopened month")
        verbose_name_plural = _("reopened months")
        ordering = ["-reopened_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="period_reopening_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.period} reopened {self.reopened_at:%Y-%m-%d}"


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
    # The code that computed it (CODE_VERSION, else the git commit): a payout that changes when nothing
    # else did is traced to a release.
    code_version = models.CharField(_("code version"), max_length=64, blank=True)

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


class RunChunk(Leased):
    """The part of a run one worker does: whole teams, as many as fit in ``RUN_CHUNK_AGENTS`` agents
    (a larger team is a chunk of its own; a team is never split, its team values are computed once).
    Computed by the worker that holds its lease (``calls.leases``): one whose worker died is computed
    again by another."""

    class Status(models.TextChoices):
        # A chunk is computed in one transaction, so it goes from waiting straight to done: a worker
        # that dies half-way leaves it waiting, and the re-delivered task does it again.
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="chunks")
    teams = models.ManyToManyField(Team, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    statements = models.PositiveIntegerField(default=0)
    # What HR must fix for this team (no plan in force, two plans) or the error that failed the chunk.
    problem = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.run} · chunk {self.pk}"


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
        errors = {}
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


class TargetOverride(models.Model):
    """A period's threshold / target / excellence for one metric, for a team or one agent; it replaces
    the plan's values (an agent's override wins over the team's)."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="target_overrides")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    threshold = models.DecimalField(_("threshold"), **VALUE)
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)
    note = models.CharField(_("why"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("target override")
        verbose_name_plural = _("target overrides")
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=False, agent__isnull=True) | Q(team__isnull=True, agent__isnull=False),
                name="target_override_team_or_agent",
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "team"], condition=Q(team__isnull=False), name="target_override_team_once"
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "agent"], condition=Q(agent__isnull=False),
                name="target_override_agent_once",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.period} · {self.metric} · {self.agent or self.team}"


# --- the three-stage performance interview (三阶谈话法) ---------------------------------------------


class Review(models.Model):
    """One agent's interview about one approved month: review (复盘) → consensus (共识) → forward (前瞻).

    Each stage is signed off by the lead, then acknowledged by the agent, which moves the review on; a
    completed review is read-only until HR reopens it (audited)."""

    class Stage(models.TextChoices):
        REVIEW = "review", _("Review (复盘)")
        CONSENSUS = "consensus", _("Consensus (共识)")
        FORWARD = "forward", _("Forward (前瞻)")
        DONE = "done", _("Completed")

    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("month")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("agent")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("team")
    )
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.REVIEW)
    # Why the data flags this agent (see incentives.services.reviews.review_flags), kept for the order
    # of the lead's list: below_threshold, gate, drop.
    flags = models.JSONField(default=list, blank=True)
    score_change = models.DecimalField(null=True, blank=True, **SCORED)  # vs last month's statement
    review_signed_at = models.DateTimeField(null=True, blank=True)
    review_acknowledged_at = models.DateTimeField(null=True, blank=True)
    consensus_signed_at = models.DateTimeField(null=True, blank=True)
    consensus_acknowledged_at = models.DateTimeField(null=True, blank=True)
    forward_signed_at = models.DateTimeField(null=True, blank=True)
    forward_acknowledged_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the lead of the latest sign-off
    target_period = models.ForeignKey(
        Period, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("targets agreed for"),
    )  # fmt: skip
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(_("why it was reopened"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("performance review")
        verbose_name_plural = _("performance reviews")
        ordering = ["-period__year", "-period__month", "team__code", "agent__employee_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "agent"], name="review_one_per_agent_month")
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.agent}"


class RootCause(models.Model):
    """A cause of a swing the lead wrote down with the agent, tied to a metric."""

    class Category(models.TextChoices):
        STAFFING = "staffing", _("Staffing")
        SKILL = "skill", _("Skill")
        SCRIPT = "script", _("Script")
        PROCESS = "process", _("Process")
        SYSTEM = "system", _("System")
        CUSTOMER_MIX = "customer_mix", _("Customer mix")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="root_causes")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    note = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.metric}: {self.category}"


class ActionItem(models.Model):
    """One action of the improvement plan: what, who, by when; done or not is followed up next month."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        SIMULATION = "simulation", _("Scenario simulation")
        SCRIPT = "script", _("Script practice")
        COACHING = "coaching", _("Coaching")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    what = models.CharField(_("what"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    due = models.DateField(_("due"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    metric = models.CharField(
        _("metric it should move"), max_length=40, choices=METRIC_CHOICES, blank=True,
        help_text=_("Next month's review shows how this metric changed since."),
    )  # fmt: skip
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.what


class SkillMark(models.Model):
    """One entry of the strengths / weaknesses map (asked for agents below a threshold)."""

    class Side(models.TextChoices):
        STRENGTH = "strength", _("Strength")
        WEAKNESS = "weakness", _("Weakness")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="skills")
    skill = models.CharField(_("skill"), max_length=100)
    side = models.CharField(_("strength or weakness"), max_length=8, choices=Side.choices)
    note = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["side", "id"]

    def __str__(self) -> str:
        return f"{self.skill} ({self.side})"


class AgreedTarget(models.Model):
    """Next month's target for one metric, as proposed and as agreed; saved as the agent's target
    override for that month when the review completes."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="agreed_targets")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    proposed_threshold = models.DecimalField(**VALUE)
    proposed_target = models.DecimalField(**VALUE)
    proposed_excellence = models.DecimalField(null=True, blank=True, **VALUE)
    threshold = models.DecimalField(_("threshold"), **VALUE)
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "metric"], name="agreed_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.review} · {self.metric}"


class SharedSkill(models.Model):
    """A skill worth sharing: the internal expert list (an agent strong with elderly customers...)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="shared_skills")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="expert_skills")
    skill = models.CharField(_("skill"), max_length=100)
    note = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["skill", "id"]

    def __str__(self) -> str:
        return f"{self.agent}: {self.skill}"


class Dispute(models.Model):
    """An agent questions a line of their approved statement; HR answers, and says what was corrected
    (a correction is a new run, or an adjustment in an open month) or why nothing was. Both are kept."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="disputes")
    line = models.ForeignKey(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField(_("question"))
    created_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    correction = models.CharField(
        _("correction"), max_length=300, blank=True,
        help_text=_("What was corrected (e.g. run v3, an adjustment in 2026-11); empty when nothing was."),
    )  # fmt: skip
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("question on a statement")
        verbose_name_plural = _("questions on statements")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.statement} · {self.line.metric if self.line else '—'}"
