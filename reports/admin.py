from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from reports.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """HR's alert rules, of two kinds: a metric against a threshold (level and window), or an agent with
    no effective call for N minutes. The defaults of the field are installed with the product and can
    be edited or switched off. Every problem is named on its field by ``AlertRule.clean``, the one set
    of rules; the database refuses what slips past it."""

    list_display = [
        "name",
        "kind",
        "metric",
        "comparison",
        "threshold",
        "level",
        "window",
        "minutes",
        "min_volume",
        "active",
    ]
    list_filter = ["active", "kind", "level", "window"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "active"]}),
        (_("Condition"), {"fields": ["metric", "params", "comparison", "threshold", "minutes"],
                          "description": _("A metric rule compares the metric with the threshold. A "
                                           "no-effective-call rule takes the effective talk ratio's "
                                           "definition of an effective call and a number of minutes, "
                                           "with no comparison or threshold.")}),
        (_("Who and when"), {"fields": ["level", "window", "min_volume"],
                             "description": _("Metric rules: today, the rolling hour or this month, per "
                                              "agent, group or team. No-effective-call rules: the last "
                                              "N minutes, per agent.")}),
    ]  # fmt: skip


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Alerts as raised, read-only: leads acknowledge them on their team page."""

    list_display = [
        "raised_at",
        "rule",
        "subject",
        "team",
        "value",
        "acknowledged_at",
        "acknowledged_by",
    ]
    list_filter = ["rule", "level", "team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
