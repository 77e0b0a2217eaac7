"""After the month: the three-stage performance interview (三阶谈话法) and its records, and the
questions agents raise on their statements (disputes)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from incentives.models.decimals import SCORED, VALUE
from incentives.models.organisation import Agent, Team
from incentives.models.periods import Period
from incentives.models.statements import Statement, StatementLine


class Review(models.Model):
    """One agent's interview about one approved month: review (复盘) → consensus (共识) → forward (前瞻).

    Each stage is signed off by the lead, then acknowledged by the agent, which moves the review on; a
    completed review is read-only until HR reopens it (audited)."""

    class Stage(models.TextChoices):
        REVIEW = "review", _("Review (复盘)")
        CONSENSUS = "consensus", _("Consensus (共识)")
        FORWARD = "forward", _("Forward (前瞻)")
        DONE = "done", _("Completed")

    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("month")
    )
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("agent")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("team")
    )
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.REVIEW)
    # Why the data flags this agent (see incentives.services.reviews.review_flags), kept for the order
    # of the lead's list: below_threshold, gate, drop.
    flags = models.JSONField(default=list, blank=True)
    score_change = models.DecimalField(null=True, blank=True, **SCORED)  # vs last month's statement
    review_signed_at = models.DateTimeField(null=True, blank=True)
    review_acknowledged_at = models.DateTimeField(null=True, blank=True)
    consensus_signed_at = models.DateTimeField(null=True, blank=True)
    consensus_acknowledged_at = models.DateTimeField(null=True, blank=True)
    forward_signed_at = models.DateTimeField(null=True, blank=True)
    forward_acknowledged_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the lead of the latest sign-off
    target_period = models.ForeignKey(
        Period,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("targets agreed for"),
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(_("why it was reopened"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("performance review")
        verbose_name_plural = _("performance reviews")
        ordering = ["-period__year", "-period__month", "team__code", "agent__employee_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "agent"], name="review_one_per_agent_month")
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.agent}"


class RootCause(models.Model):
    """A cause of a swing the lead wrote down with the agent, tied to a metric."""

    class Category(models.TextChoices):
        STAFFING = "staffing", _("Staffing")
        SKILL = "skill", _("Skill")
        SCRIPT = "script", _("Script")
        PROCESS = "process", _("Process")
        SYSTEM = "system", _("System")
        CUSTOMER_MIX = "customer_mix", _("Customer mix")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="root_causes")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    note = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.metric}: {self.category}"


class ActionItem(models.Model):
    """One action of the improvement plan: what, who, by when; done or not is followed up next month."""

    class Kind(models.TextChoices):
        TRAINING = "training", _("Training")
        SIMULATION = "simulation", _("Scenario simulation")
        SCRIPT = "script", _("Script practice")
        COACHING = "coaching", _("Coaching")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    what = models.CharField(_("what"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    due = models.DateField(_("due"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    metric = models.CharField(
        _("metric it should move"),
        max_length=40,
        choices=METRIC_CHOICES,
        blank=True,
        help_text=_("Next month's review shows how this metric changed since."),
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.what


class SkillMark(models.Model):
    """One entry of the strengths / weaknesses map (asked for agents below a threshold)."""

    class Side(models.TextChoices):
        STRENGTH = "strength", _("Strength")
        WEAKNESS = "weakness", _("Weakness")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="skills")
    skill = models.CharField(_("skill"), max_length=100)
    side = models.CharField(_("strength or weakness"), max_length=8, choices=Side.choices)
    note = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["side", "id"]

    def __str__(self) -> str:
        return f"{self.skill} ({self.side})"


class AgreedTarget(models.Model):
    """Next month's target for one metric, as proposed and as agreed; saved as the agent's target
    override for that month when the review completes."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="agreed_targets")
    metric = models.CharField(_("metric"), max_length=40, choices=METRIC_CHOICES)
    proposed_threshold = models.DecimalField(**VALUE)
    proposed_target = models.DecimalField(**VALUE)
    proposed_excellence = models.DecimalField(null=True, blank=True, **VALUE)
    threshold = models.DecimalField(_("threshold"), **VALUE)
    target = models.DecimalField(_("target"), **VALUE)
    excellence = models.DecimalField(_("excellence"), null=True, blank=True, **VALUE)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "metric"], name="agreed_target_once")
        ]

    def __str__(self) -> str:
        return f"{self.review} · {self.metric}"


class SharedSkill(models.Model):
    """A skill worth sharing: the internal expert list (an agent strong with elderly customers...)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="shared_skills")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="expert_skills")
    skill = models.CharField(_("skill"), max_length=100)
    note = models.CharField(_("notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["skill", "id"]

    def __str__(self) -> str:
        return f"{self.agent}: {self.skill}"


class Dispute(models.Model):
    """An agent questions a line of their approved statement; HR answers, and says what was corrected
    (a correction is a new run, or an adjustment in an open month) or why nothing was. Both are kept."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="disputes")
    line = models.ForeignKey(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField(_("question"))
    created_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    correction = models.CharField(
        _("correction"),
        max_length=300,
        blank=True,
        help_text=_(
            "What was corrected (e.g. run v3, an adjustment in 2026-11); empty when nothing was."
        ),
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("question on a statement")
        verbose_name_plural = _("questions on statements")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.statement} · {self.line.metric if self.line else '—'}"
