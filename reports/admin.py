from django.contrib import admin

from reports.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """HR's alert rules: metric, comparison, threshold, level and window (the defaults of the field are
    installed with the product and can be edited or switched off)."""

    list_display = [
        "name",
        "metric",
        "comparison",
        "threshold",
        "level",
        "window",
        "min_volume",
        "active",
    ]
    list_filter = ["active", "level", "window"]


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
    list_filter = ["rule", "team"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
