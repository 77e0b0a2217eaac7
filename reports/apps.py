from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Top floor: dashboards, overviews and exports, reading both other floors."""

    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # Registers the floor's tasks in every process (web included), so a lower floor can start
        # one by name (calls starts the alerts after an import) without importing this floor.
        from reports import tasks  # noqa: F401
