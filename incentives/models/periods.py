"""Months and their computations: periods, reopenings, runs and the chunks workers compute."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.leases import Leased
from incentives.models.organisation import Team


class Period(models.Model):
    """A calendar month on the center's clock, and where it is in its life cycle."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPUTED = "computed", _("Computed")
        APPROVED = "approved", _("Approved")
        CLOSED = "closed", _("Closed")

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(
        _("month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    approved_run = models.ForeignKey(
        "Run", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="period_unique_month"),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="period_month_1_12"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "closed"]) | Q(approved_run__isnull=False),
                name="period_approved_has_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def reopened(self) -> bool:
        """Approved once, reopened by HR since: its data may have changed since the approval. The run
        approved then stays ``approved_run`` (what agents see) until a new run is approved."""
        return self.approved_run_id is not None and self.status in (
            self.Status.OPEN,
            self.Status.COMPUTED,
        )


class PeriodReopening(models.Model):
    """HR reopened an approved month, with the reason: the record of who, when, why and which approved
    run it set aside (``incentives.services.period_reopen``). Never changed after."""

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="reopenings")
    approved_run = models.ForeignKey(
        "Run",
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The run approved until then."),
    )
    reason = models.TextField(_("reason"))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reopened_at = models.DateTimeField(_("reopened at"), default=timezone.now)

    class Meta:
        verbose_name = _("reopened month")
        verbose_name_plural = _("reopened months")
        ordering = ["-reopened_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="period_reopening_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.period} reopened {self.reopened_at:%Y-%m-%d}"


class Run(models.Model):
    """One computation of a period: a new version each time, the old ones kept."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The code that computed it (CODE_VERSION, else the git commit): a payout that changes when nothing
    # else did is traced to a release.
    code_version = models.CharField(_("code version"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("computation run")
        verbose_name_plural = _("computation runs")
        ordering = ["period", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["period", "number"], name="run_number_unique"),
            # Two requests for the same period start one run: the second insert fails here.
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status__in=["pending", "running"]),
                name="run_one_active_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} v{self.number}"


class RunChunk(Leased):
    """The part of a run one worker does: whole teams, as many as fit in ``RUN_CHUNK_AGENTS`` agents
    (a larger team is a chunk of its own; a team is never split, its team values are computed once).
    Computed by the worker that holds its lease (``calls.leases``): one whose worker died is computed
    again by another."""

    class Status(models.TextChoices):
        # A chunk is computed in one transaction, so it goes from waiting straight to done: a worker
        # that dies half-way leaves it waiting, and the re-delivered task does it again.
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="chunks")
    teams = models.ManyToManyField(Team, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    statements = models.PositiveIntegerField(default=0)
    # What HR must fix for this team (no plan in force, two plans) or the error that failed the chunk.
    problem = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.run} · chunk {self.pk}"
