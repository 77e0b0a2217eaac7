"""A period's targets where they differ from the plan's: overrides for a team or one agent."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from incentives.models.decimals import VALUE
from incentives.models.organisation import Agent, Team
from incentives.models.periods import Period


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
                condition=Q(team__isnull=False, agent__isnull=True)
                | Q(team__isnull=True, agent__isnull=False),
                name="target_override_team_or_agent",
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "team"],
                condition=Q(team__isnull=False),
                name="target_override_team_once",
            ),
            models.UniqueConstraint(
                fields=["period", "metric", "agent"],
                condition=Q(agent__isnull=False),
                name="target_override_agent_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.metric} · {self.agent or self.team}"
