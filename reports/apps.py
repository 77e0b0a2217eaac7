from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Top floor: dashboards, overviews and exports, reading both other floors."""

    name = "reports"
    verbose_name = _("Reports")
