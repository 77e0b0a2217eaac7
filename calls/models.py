"""The facts that come in from the contact-center systems.

Agents are referred to only through the foreign key ``"incentives.Agent"``: this floor never imports
the one above it.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One file handed to an importer, and what became of it."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected: nothing imported")

    source = models.CharField(_("source"), max_length=50)
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=30, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    partial = models.BooleanField(
        _("valid rows only"), default=False, help_text=_("HR chose to import the valid rows.")
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # [{"line": 12, "column": "wait_seconds", "value": "-3", "reason": "..."}]
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} · {self.filename} · {self.get_status_display()}"


class Call(models.Model):
    """One call or call leg as the ACD or dialer exported it."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        CONVERTED = "converted", _("Converted")
        APPOINTMENT = "appointment", _("Appointment made")
        CALLBACK = "callback", _("Callback requested")
        ABANDONED = "abandoned", _("Abandoned")
        HUNG_UP = "hung_up", _("Hung up")
        NO_ANSWER = "no_answer", _("Not answered")
        OTHER = "other", _("Other")

    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("call id"), max_length=100)
    agent = models.ForeignKey(
        "incentives.Agent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
        help_text=_("The agent the call was offered to; empty for a call abandoned in the queue."),
    )
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    # A keyed hash of the customer's number: repeat contacts can be matched, the number is not kept.
    customer_key = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(_("entered queue / dialled at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), default=0)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), default=0)
    hold_seconds = models.PositiveIntegerField(_("hold (s)"), default=0)
    acw_seconds = models.PositiveIntegerField(_("after-call work (s)"), default=0)
    transfers = models.PositiveSmallIntegerField(_("transfers"), default=0)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    complaint = models.BooleanField(_("complaint"), default=False)
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="calls")

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="call_unique_per_source"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=F("started_at")),
                name="call_answered_after_start",
            ),
        ]
        indexes = [models.Index(fields=["agent", "started_at"], name="call_agent_started")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
