"""What the top floor keeps of its own: alert rules and the alerts they raised."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES, METRICS
from calls.numbers import MOST_PLACES
from incentives.models import PlanGate
from incentives.scoring import Exact, compare
from incentives.validation import GateSpec, gates_problems

# The metric whose parameter says what an effective call is (有效通话: answered, at least N minutes of
# talk): a no-effective-call rule counts the calls of that definition, so the two never drift apart.
EFFECTIVE_METRIC = "effective_talk_ratio"
IDLE_MINUTES = (5, 480)  # evaluated every 5 minutes; no longer than a shift


class AlertRule(models.Model):
    """A rule for the floor, of one of two kinds: a metric compared with a threshold, for each agent,
    group or team over a window; or an agent on the floor with no effective call for N minutes."""

    class Kind(models.TextChoices):
        METRIC = "metric", _("metric against a threshold")
        IDLE = "idle", _("no effective call for N minutes")

    class Level(models.TextChoices):
        AGENT = "agent", _("agent")
        GROUP = "group", _("group")
        TEAM = "team", _("team")

    class Window(models.TextChoices):
        TODAY = "today", _("today")
        HOUR = "hour", _("rolling hour")
        MONTH = "month", _("this month")
        MINUTES = "minutes", _("the last N minutes")

    # The windows each kind may use: a rate over "the last N minutes" would be a handful of calls, and
    # "no effective call today" says nothing a lead can act on during the day.
    KIND_WINDOWS: dict[str, tuple[str, ...]] = {
        Kind.METRIC: (Window.TODAY, Window.HOUR, Window.MONTH),
        Kind.IDLE: (Window.MINUTES,),
    }

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices, default=Kind.METRIC)
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    params = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            "The metric's parameters, e.g. {\"early_hangup_seconds\": 30}; empty: the field's defaults. "
            "A no-effective-call rule takes those of the effective talk ratio: "
            '{"effective_call_minutes": 2}.'
        ),
    )
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=PlanGate.Comparison.choices, blank=True
    )
    threshold = models.DecimalField(
        _("threshold"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    level = models.CharField(_("level"), max_length=5, choices=Level.choices, default=Level.AGENT)
    window = models.CharField(
        _("window"), max_length=7, choices=Window.choices, default=Window.TODAY
    )
    minutes = models.PositiveSmallIntegerField(
        _("minutes"),
        null=True,
        blank=True,
        help_text=_("No-effective-call rules: how long an agent on the floor may go without one."),
    )
    # A rate over two calls says nothing: below this many (the metric's denominator) no alert is raised.
    # For a no-effective-call rule: the calls the agent was offered or dialled in the window, the
    # evidence that they were on the floor.
    min_volume = models.PositiveIntegerField(
        _("minimum volume"),
        default=10,
        help_text=_(
            "Below this many (calls, answers, … the metric's denominator) no alert is raised; for a "
            "no-effective-call rule, the calls offered to or dialled by the agent in the window."
        ),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name"]
        constraints = [
            # What each kind needs, also for a row written without the admin (a migration, a shell).
            models.CheckConstraint(
                condition=Q(
                    kind="metric",
                    comparison__in=["gt", "ge", "lt", "le"],
                    threshold__isnull=False,
                    window__in=["today", "hour", "month"],
                    minutes__isnull=True,
                )
                | Q(
                    kind="idle",
                    metric=EFFECTIVE_METRIC,
                    level="agent",
                    window="minutes",
                    minutes__gte=IDLE_MINUTES[0],
                    minutes__lte=IDLE_MINUTES[1],
                ),
                name="alert_rule_kind_fields",
                violation_error_message=_(
                    "A metric rule needs a comparison, a threshold and a window of today, the rolling "
                    "hour or this month; a no-effective-call rule is per agent, over the last N minutes."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Every problem named on its field, in words HR can act on. The metric, comparison, threshold
        and parameters follow the rules of a plan's gate (the same condition on the same metrics)."""
        errors: dict[str, list[object]] = {}  # messages, lazily translated or not

        def add(field_name: str, message: object) -> None:
            errors.setdefault(field_name, []).append(message)

        if self.params is None:  # an empty parameters box in the admin: the metric's defaults
            self.params = {}
        windows = self.KIND_WINDOWS.get(self.kind)
        if windows is None:
            add("kind", _("unknown kind %(kind)s") % {"kind": self.kind})
        elif self.window not in windows:
            known = self.window in self.Window.values
            add(
                "window",
                _("“%(window)s” is not a window for this kind of rule (%(kind)s): use %(windows)s")
                % {
                    "window": self.Window(self.window).label if known else self.window,
                    "kind": self.Kind(self.kind).label,
                    "windows": ", ".join(str(self.Window(w).label) for w in windows),
                },
            )
        if self.kind == self.Kind.METRIC:
            self._check_metric_rule(add)
        elif self.kind == self.Kind.IDLE:
            self._check_idle_rule(add)
        if errors:
            raise ValidationError(errors)

    def _check_metric_rule(self, add) -> None:
        """A metric rule: a comparison and a threshold, which read as a plan's gate would."""
        if self.comparison == "":
            add("comparison", _("a metric rule needs a comparison (>, ≥, < or ≤)"))
        if self.threshold is None:
            add("threshold", _("a metric rule needs a threshold"))
        if self.minutes is not None:
            add("minutes", _("only a no-effective-call rule has minutes"))
        if self.comparison and self.threshold is not None and self.metric:
            fields = {"value": "threshold"}  # a gate's value is this rule's threshold
            for problem in gates_problems(
                [
                    GateSpec(
                        metric=self.metric,
                        comparison=self.comparison,
                        value=self.threshold,
                        effect="void",
                        params=self.params or {},
                    )
                ]
            ):
                field = problem.field or NON_FIELD_ERRORS
                add(fields.get(field, field), problem.message)
        else:
            self._check_metric_and_params(add)

    def _check_idle_rule(self, add) -> None:
        """A no-effective-call rule: per agent, on the effective calls, over its minutes."""
        if self.metric != EFFECTIVE_METRIC:
            add(
                "metric",
                _(
                    "a no-effective-call rule counts the effective calls of %(name)s: choose "
                    "that metric (its parameter says from how many minutes a call is "
                    "effective)"
                )
                % {"name": METRICS[EFFECTIVE_METRIC].name},
            )
        else:
            self._check_metric_and_params(add)
        if self.level != self.Level.AGENT:
            add("level", _("a no-effective-call rule is per agent"))
        low, high = IDLE_MINUTES
        if self.minutes is None or not low <= self.minutes <= high:
            add(
                "minutes",
                _("a no-effective-call rule needs minutes from %(low)s to %(high)s")
                % {"low": low, "high": high},
            )
        if self.min_volume is not None and self.min_volume < 1:
            add(
                "min_volume",
                _(
                    "at least 1: the calls in the window are the evidence that the "
                    "agent is on the floor"
                ),
            )
        if self.comparison:
            add("comparison", _("only a metric rule has a comparison"))
        if self.threshold is not None:
            add("threshold", _("only a metric rule has a threshold"))

    def _check_metric_and_params(self, add) -> None:
        if self.metric not in METRICS:
            if self.metric:  # empty: the form has named the field already
                add("metric", _("unknown metric %(code)s") % {"code": self.metric})
            return
        try:
            METRICS[self.metric].param_values(self.params or {})
        except ValueError as exc:
            add("params", str(exc))

    def hit(self, value: Exact) -> bool:
        assert self.threshold is not None  # a metric rule has one (its constraint)
        return compare(value, self.comparison, self.threshold)


class Alert(models.Model):
    """One rule hit by one agent, group or team in one window: raised once, acknowledged by a lead,
    kept."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    level = models.CharField(max_length=5, choices=AlertRule.Level.choices)
    subject_id = models.BigIntegerField()  # the agent's, group's or team's id
    subject = models.CharField(max_length=200)  # its name when raised
    team = models.ForeignKey("incentives.Team", on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    # The value that hit the rule, rounded for display from the exact one with enough places to show
    # which side of the threshold it lies (``calls.numbers``; a true 2.94003 is "> 2.94").
    value = models.DecimalField(max_digits=24, decimal_places=MOST_PLACES)
    numerator = models.DecimalField(max_digits=20, decimal_places=4)
    denominator = models.DecimalField(max_digits=20, decimal_places=4)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # Evaluated after every import and every few minutes: the same hit in the same window is one
            # alert, never a stream of them.
            models.UniqueConstraint(
                fields=["rule", "level", "subject_id", "window_start"], name="alert_once"
            ),
        ]
        indexes = [models.Index(fields=["team", "acknowledged_at"], name="alert_team_open")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject}"
