from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    """Ground floor: the facts that come in, their importers and the KPI formulas over them."""

    name = "calls"
    verbose_name = _("Call data")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from calls.roles import roles_sync

        post_migrate.connect(roles_sync, dispatch_uid="calls.roles_sync")
