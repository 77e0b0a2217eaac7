"""The facts that come in from the contact-center systems.

Agents are referred to only through the foreign key ``"incentives.Agent"``: this floor never imports
the one above it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from calls.leases import Leased


class ImportBatch(Leased):
    """One file handed to an importer, and what became of it. Imported by the worker that holds its
    lease (``calls.leases``): one whose worker died is imported again by another."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a worker")
        RUNNING = "running", _("Importing")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected: nothing imported")
        FAILED = "failed", _("Failed")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    source = models.CharField(_("source"), max_length=50)
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, blank=True)
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
    # Lines folded into another line of the file: a call's further legs, or a line repeated exactly.
    rows_folded = models.PositiveIntegerField(default=0)
    # [{"line": 12, "column": "wait_seconds", "value": "-3", "reason": "..."}]
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=12, default="calls")
    mapping = models.ForeignKey(
        "ColumnMapping", null=True, blank=True, on_delete=models.SET_NULL, related_name="batches"
    )
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    # The uploaded file, kept where every worker can read it (MEDIA_ROOT: a shared volume in production).
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    queue_log = models.BooleanField(default=False)
    period_year = models.PositiveSmallIntegerField(null=True, blank=True)
    period_month = models.PositiveSmallIntegerField(null=True, blank=True)
    # Progress of a file imported by a worker: rows read so far (the total is known at the end).
    progress_rows = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    # What an applied import holds, written when it settles: the first and last day of its facts on the
    # center's clock, and its rows by month ([{"year": 2026, "month": 10, "rows": 4000}]), which the import's
    # page offers to compute and HR's overview lists as months with data.
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    months = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source} · {self.filename} · {self.get_status_display()}"


class MonthLock(models.Model):
    """A month whose facts no import may add, change or roll back: approved (until HR reopens it) or
    closed (for good).

    Written by the period's approval and close, removed by its reopening (incentives), read by every
    importer and rollback: the lock is a rule about the facts, so it lives on the floor of the facts.
    """

    class State(models.TextChoices):
        APPROVED = "approved", _("Approved: HR must reopen it first")
        CLOSED = "closed", _("Closed: corrections go into the next open month")

    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    locked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("locked month")
        verbose_name_plural = _("locked months")
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="month_lock_unique"),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12), name="month_lock_month_1_12"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["approved", "closed"]), name="month_lock_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def said(self) -> str:
        if self.state == self.State.APPROVED:
            return "approved: HR must reopen it first"
        return "closed: corrections go into the next open month"

    @property
    def refusal(self) -> str:
        """Why a fact of this month is refused, as an import's error and a rollback's refusal say it."""
        return f"the month {self} is {self.said}"


class Queue(models.Model):
    """A queue or skill of the ACD. Once any is set up, imported calls must name one of them; with none,
    every queue name is accepted (a new installation imports before HR has listed its queues)."""

    code = models.CharField(
        _("code"), max_length=100, unique=True, help_text=_("As the ACD exports it.")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class ColumnMapping(models.Model):
    """How one source's export reads: which column holds which field, how dates are written, in which
    time zone, and value maps such as "接通" → answered. Saved once, so a monthly import is one action."""

    class Kind(models.TextChoices):
        CALLS = "calls", _("Calls")
        SURVEYS = "surveys", _("Surveys")
        CONVERSIONS = "conversions", _("Conversions")
        QA = "qa", _("QA assessments")
        WORKTIME = "worktime", _("Work time")

    name = models.SlugField(_("name"), max_length=50, unique=True)
    kind = models.CharField(_("kind of data"), max_length=12, choices=Kind.choices)
    source = models.CharField(
        _("source"), max_length=50, help_text=_("The exporting system, e.g. acd.")
    )
    columns = models.JSONField(
        _("columns"),
        default=dict,
        blank=True,
        help_text=_(
            'Field → where its value comes from: a column name ("工号"), a position counted from 1 (3), or '
            '{"column": …, "pattern": "^SIP/([0-9]+)-"}, {"constant": "csat"}, {"date": …, "time": …}, '
            '{"minus": ["duration", "billsec"]}, {"plus_seconds": [{"field": "entered_at"}, "duration"]}. '
            "Empty: the field's own name. See docs/imports.md."
        ),
    )
    value_maps = models.JSONField(
        _("value maps"),
        default=dict,
        blank=True,
        help_text=_('Field → {"file value": "value"}, e.g. {"direction": {"呼入": "inbound"}}.'),
    )
    has_header = models.BooleanField(
        _("the first line holds the column names"),
        default=True,
        help_text=_(
            "Off for a file without a header line (Asterisk's Master.csv): columns by position."
        ),
    )
    fold_legs = models.BooleanField(
        _("rows with the same call id are legs of one call"),
        default=False,
        help_text=_(
            "Calls only. The first answered leg is kept, talk, hold and after-call work are summed, every "
            "answered leg after the first counts as a transfer (CDR files write a row per leg)."
        ),
    )
    time_zone = models.CharField(
        _("time zone of the times"),
        max_length=50,
        blank=True,
        help_text=_("Empty: the center's time zone."),
    )
    date_format = models.CharField(
        _("date format"),
        max_length=50,
        blank=True,
        help_text=_(
            "How the file writes dates and times, with %Y %m %d %H %M %S, e.g. %d/%m/%Y %H:%M or "
            "%Y年%m月%d日 %H:%M:%S. Empty: 2026-10-31 14:05:09 and its usual variants."
        ),
    )

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The same checks as an import makes before it reads a file: a mapping that cannot be read is
        refused when it is saved, naming the field."""
        from calls.importers.dates import DateFormatError, rewrite
        from calls.importers.facts import KINDS
        from calls.importers.mapping import MappingError, rules_of

        errors: dict[str, object] = {}  # a message, lazily translated or not
        if self.date_format:
            try:
                rewrite(self.date_format)
            except DateFormatError as exc:
                errors["date_format"] = str(exc)
        if self.kind in KINDS:
            try:
                rules_of(KINDS[self.kind], self.columns, self.value_maps)
            except MappingError as exc:
                errors["value_maps" if str(exc).startswith("Value maps") else "columns"] = str(exc)
        if self.fold_legs and self.kind != self.Kind.CALLS:
            errors["fold_legs"] = _("Only calls have legs to fold.")
        if self.time_zone:
            import zoneinfo

            try:
                zoneinfo.ZoneInfo(self.time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = _("Not a time zone of the IANA database, e.g. Asia/Shanghai.")
        if errors:
            raise ValidationError(errors)


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
        # The call could not join the queue (queue_log JOINEMPTY, JOINUNAVAIL, FULL): never offered.
        REFUSED = "refused", _("Refused by the queue (full or no agent)")
        OTHER = "other", _("Other")

    class EndedBy(models.TextChoices):
        AGENT = "agent", _("Agent")
        CUSTOMER = "customer", _("Customer")
        SYSTEM = "system", _("System")

    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("call id"), max_length=100)
    # The two keys of the largest table carry no database constraint: checking a million rows at commit
    # would double an import's time. The importer resolves every agent (an unknown one is an error), the
    # batch is the import's own, and Django's PROTECT still refuses to delete an agent with calls.
    agent = models.ForeignKey(
        "incentives.Agent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
        db_constraint=False,
        db_index=False,  # the (agent, started_at) index serves every lookup by agent
        help_text=_("The agent the call was offered to; empty for a call abandoned in the queue."),
    )
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    # A keyed hash of the customer's number (calls.privacy): repeat contacts can be matched, the number
    # is not kept. 64 bits: small and fast to index, and collisions are negligible at any center's size.
    customer_key = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(_("entered queue / dialled at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Empty (NULL) when the file did not say: unknown, never a 0 nobody wrote. A metric counts only the
    # calls whose inputs are known (calls.metrics).
    wait_seconds = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True, default=0)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), null=True, blank=True, default=0)
    hold_seconds = models.PositiveIntegerField(_("hold (s)"), null=True, blank=True, default=0)
    acw_seconds = models.PositiveIntegerField(
        _("after-call work (s)"), null=True, blank=True, default=0
    )
    transfers = models.PositiveSmallIntegerField(_("transfers"), null=True, blank=True, default=0)
    transfer_correct = models.BooleanField(
        _("first transfer reached the right skill"),
        null=True,
        blank=True,
        help_text=_("Empty when the call was not transferred or the system does not say."),
    )
    ended_by = models.CharField(_("ended by"), max_length=10, choices=EndedBy.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    complaint = models.BooleanField(_("complaint"), null=True, blank=True, default=False)
    # No index on the batch: only a rollback looks calls up by batch, and an index costs every import.
    # No constraint either: a deferred check per row would run a million times at commit.
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="calls",
        db_index=False,
        db_constraint=False,
    )

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
        # Few indexes on purpose: each one costs every import of a million rows. Repeat contacts (FCR)
        # are found by a window over the period's calls, not by an index on the customer.
        indexes = [models.Index(fields=["agent", "started_at"], name="call_agent_started")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


class _Fact(models.Model):
    """What every imported fact shares: where it came from, its id there, the agent, the batch."""

    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("id in the source"), max_length=100)
    agent = models.ForeignKey("incentives.Agent", on_delete=models.PROTECT, related_name="+")
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Survey(_Fact):
    """One after-call survey answer: CSAT 1-5, NPS 0-10 or CES 1-7."""

    class Kind(models.TextChoices):
        CSAT = "csat", "CSAT"
        NPS = "nps", "NPS"
        CES = "ces", "CES"

    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="survey_unique_per_source"
            ),
            models.CheckConstraint(
                condition=Q(kind="csat", score__gte=1, score__lte=5)
                | Q(kind="nps", score__lte=10)
                | Q(kind="ces", score__gte=1, score__lte=7),
                name="survey_score_in_scale",
            ),
        ]
        indexes = [models.Index(fields=["agent", "answered_at"], name="survey_agent_answered")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score}"


class Conversion(_Fact):
    """A sale, appointment, expressed intent, or an invitation (accepted or not), linked to a call or
    an agent."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        APPOINTMENT = "appointment", _("Appointment")
        INTENT = "intent", _("Intent")
        INVITATION = "invitation", _("Invitation")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    accepted = models.BooleanField(
        _("invitation accepted"), null=True, blank=True, help_text=_("Invitations only.")
    )
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="conversion_unique_per_source"
            ),
            models.CheckConstraint(
                condition=Q(kind="invitation", accepted__isnull=False)
                | (~Q(kind="invitation") & Q(accepted__isnull=True)),
                name="conversion_accepted_only_for_invitations",
            ),
        ]
        indexes = [models.Index(fields=["agent", "occurred_at"], name="conversion_agent_occurred")]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"


class QaAssessment(_Fact):
    """A quality score (0-100) for an evaluated call, by a person or an automated checker."""

    score = models.DecimalField(_("QA score"), max_digits=6, decimal_places=2)
    assessed_at = models.DateTimeField(_("assessed at"))

    class Meta:
        verbose_name = _("QA assessment")
        verbose_name_plural = _("QA assessments")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="qa_unique_per_source"),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="qa_score_0_100"
            ),
        ]
        indexes = [models.Index(fields=["agent", "assessed_at"], name="qa_agent_assessed")]

    def __str__(self) -> str:
        return f"QA {self.score}"


class WorkTime(models.Model):
    """Logged-in and available time of an agent on a day (center's calendar)."""

    source = models.CharField(_("source"), max_length=50)
    agent = models.ForeignKey("incentives.Agent", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day"))
    logged_in_seconds = models.PositiveIntegerField(_("logged in (s)"))
    available_seconds = models.PositiveIntegerField(
        _("available (s)"), null=True, blank=True, default=0
    )
    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("work time")
        verbose_name_plural = _("work time")
        constraints = [
            models.UniqueConstraint(fields=["source", "agent", "day"], name="worktime_unique_day"),
            models.CheckConstraint(
                condition=Q(logged_in_seconds__lte=86400)
                & Q(available_seconds__lte=F("logged_in_seconds")),
                name="worktime_within_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.day}"


class RingAttempt(models.Model):
    """A queue rang an agent who did not pick up (queue_log RINGNOANSWER): one attempt on that agent,
    never a call, never an offered call, never an abandon. The call it was for is a call of its own."""

    source = models.CharField(_("source"), max_length=50)
    external_id = models.CharField(_("id in the source"), max_length=150)
    # As on calls: no database constraint and no index of its own (a busy queue rings ten times as
    # often as it connects); the importer resolves every agent, PROTECT still guards deletions.
    agent = models.ForeignKey(
        "incentives.Agent",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    queue = models.CharField(_("queue"), max_length=100, blank=True)
    call_ref = models.CharField(_("call id"), max_length=100, blank=True)
    rang_at = models.DateTimeField(_("rang from"))
    ring_ms = models.PositiveIntegerField(_("rang for (ms)"))
    batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("ring without answer")
        verbose_name_plural = _("rings without answer")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="ring_unique_per_source"
            ),
        ]
        indexes = [models.Index(fields=["agent", "rang_at"], name="ring_agent_rang")]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class QueueLogLeg(models.Model):
    """A queue_log call leg (one call in one queue) that a file ended before its end event: the call
    was still waiting or talking when the log rotated. The next file of the same log finishes it.

    A snapshot per import: an import that leaves a leg open writes its state; the import that finishes
    it writes ``closed_at`` with the state it started from, so importing that file again finishes it
    the same way. A leg's state is its latest snapshot from an applied import: rolling an import back
    (its batch no longer applied) gives the legs back the state before it, with no code of its own.
    The customer is kept as its key (``calls.privacy``), never as the number.
    """

    source = models.CharField(_("source"), max_length=50)
    callid = models.CharField(_("call id"), max_length=100)
    queue = models.CharField(_("queue"), max_length=100)
    entered_at = models.DateTimeField(_("entered queue at"))
    state = models.JSONField(default=dict)
    closed_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(_("file name"), max_length=255)
    line = models.PositiveIntegerField(_("line"))
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("queue_log call left open")
        verbose_name_plural = _("queue_log calls left open")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "callid", "queue", "entered_at", "batch"],
                name="queue_log_leg_unique_per_batch",
            ),
        ]
        indexes = [
            models.Index(fields=["source", "entered_at"], name="queue_log_leg_entered"),
        ]

    def __str__(self) -> str:
        return f"{self.callid} in {self.queue}"


class FactChange(models.Model):
    """A fact that a later import changed: its values before and after, so the change is visible and a
    rollback of that import can restore them."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="changes")
    fact = models.CharField(max_length=20)  # "call", "survey", …
    fact_id = models.BigIntegerField()
    before = models.JSONField()
    after = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["fact", "fact_id"], name="fact_change_fact")]

    def __str__(self) -> str:
        return f"{self.fact} {self.fact_id} in batch {self.batch_id}"
