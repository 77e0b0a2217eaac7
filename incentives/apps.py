from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncentivesConfig(AppConfig):
    """First floor: organisation, plans, periods, runs, statements, scoring."""

    name = "incentives"
    verbose_name = _("Incentives")
