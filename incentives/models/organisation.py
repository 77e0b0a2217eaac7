"""The organisation: regions, teams, groups, agents and where each agent sits when (placements)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from incentives.models.decimals import MONEY


class Level(models.TextChoices):
    JUNIOR = "junior", _("Junior")
    INTERMEDIATE = "intermediate", _("Intermediate")
    SENIOR = "senior", _("Senior")
    EXPERT = "expert", _("Expert")


class Channel(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    ONLINE = "online", _("Online chat")
    INVITATIONS = "invitations", _("Invitations")


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
        verbose_name=_("region"),
    )
    leads = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="led_teams", verbose_name=_("team leads")
    )
    monthly_budget = models.DecimalField(
        _("monthly bonus budget"),
        null=True,
        blank=True,
        **MONEY,
        help_text=_(
            "What the team's bonuses may cost in a month; shown beside the totals before approval."
        ),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="groups", verbose_name=_("team")
    )
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["team__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["team", "code"], name="group_code_unique_in_team")
        ]

    def __str__(self) -> str:
        return f"{self.team} / {self.name}"


class Agent(models.Model):
    """A person on the phones. Where they sit (team, group) is dated: see ``Placement``."""

    employee_id = models.CharField(_("employee id"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, default=Level.JUNIOR)
    channel = models.CharField(
        _("channel"), max_length=12, choices=Channel.choices, default=Channel.INBOUND
    )
    base_pay = models.DecimalField(_("monthly base pay"), null=True, blank=True, **MONEY)
    hire_date = models.DateField(_("hired on"), null=True, blank=True)
    leave_date = models.DateField(
        _("left on"), null=True, blank=True, help_text=_("Last working day.")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent",
        verbose_name=_("login"),
    )

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["employee_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(leave_date__isnull=True)
                | Q(hire_date__isnull=True)
                | Q(leave_date__gte=F("hire_date")),
                name="agent_leaves_after_hire",
            ),
            models.CheckConstraint(
                condition=Q(base_pay__isnull=True) | Q(base_pay__gte=0),
                name="agent_base_pay_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_id})"


class Placement(models.Model):
    """Where an agent sits from one date to another: the history that attributes a day's calls to a team.

    Written only by ``services.agent_place``, which keeps an agent's placements from overlapping.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="placements")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="placements")
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.PROTECT, related_name="placements"
    )
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True, help_text=_("Empty: still there."))

    class Meta:
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        ordering = ["agent", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="placement_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["agent", "valid_from"], name="placement_one_start_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} @ {self.group or self.team} {self.valid_from}…{self.valid_to or ''}"
