"""What the top floor keeps of its own: alert rules and the alerts they raised."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from incentives.models import PlanGate
from incentives.scoring import compare


class AlertRule(models.Model):
    """A metric compared with a threshold, for each agent, group or team, over a window."""

    class Level(models.TextChoices):
        AGENT = "agent", _("agent")
        GROUP = "group", _("group")
        TEAM = "team", _("team")

    class Window(models.TextChoices):
        TODAY = "today", _("today")
        HOUR = "hour", _("rolling hour")
        MONTH = "month", _("this month")

    name = models.CharField(_("name"), max_length=100)
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=PlanGate.Comparison.choices
    )
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=4)
    level = models.CharField(_("level"), max_length=5, choices=Level.choices, default=Level.AGENT)
    window = models.CharField(
        _("window"), max_length=5, choices=Window.choices, default=Window.TODAY
    )
    # A rate over two calls says nothing: below this many (the metric's denominator) no alert is raised.
    min_volume = models.PositiveIntegerField(_("minimum volume"), default=10)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def hit(self, value: Decimal) -> bool:
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
    value = models.DecimalField(max_digits=14, decimal_places=4)
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
