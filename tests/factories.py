"""factory_boy factories: the building blocks of the personas in conftest.py."""

import datetime as dt
from decimal import Decimal as D

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as Role

from calls.models import Call, ImportBatch
from incentives.models import Agent, Period, PlanVersion, Team
from incentives.presets import STANDARD_TIERS, Preset
from incentives.services import agent_place, plan_create_from_preset
from incentives.validation import MetricSpec

PASSWORD = "correct-horse-battery"
LONG_AGO = dt.date(2020, 1, 1)

# One metric, so tests can reason about a statement by hand: answer rate 90 → 50%, 95 → 100%, 98 → 150%;
# tiers 0 / 60 / 85 (× 1.2) / 100 (× 1.2 + 200); target bonus 1,000.00, cap 200% = 2,000.00.
ANSWER_ONLY = Preset(
    code="answer-only",
    name="Answer rate only",
    description="",
    metrics=(MetricSpec("answer_rate", D(100), D(90), D(95), D(50), D(98), D(150)),),
    tiers=STANDARD_TIERS,
)


def role(name: str) -> Role:
    return Role.objects.get_or_create(name=name)[0]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(role(name))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda team: f"Team {team.code}")


class AgentFactory(factory.django.DjangoModelFactory):
    """An agent placed in ``team`` (and ``group``) since ``placed_from`` (default: long ago)."""

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    employee_id = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Faker("name")
    user = None
    team = factory.SubFactory(TeamFactory)
    group = None
    placed_from = LONG_AGO

    @classmethod
    def _create(cls, model_class, *args, team=None, group=None, placed_from=LONG_AGO, **kwargs):
        agent = super()._create(model_class, *args, **kwargs)
        agent_place(agent=agent, team=team, group=group, valid_from=placed_from)
        return agent


def plan_from_preset(
    *,
    code: str,
    teams=(),
    effective_from=LONG_AGO,
    preset: Preset = ANSWER_ONLY,
    activate: bool = True,
) -> PlanVersion:
    """A plan in force for ``teams`` (default: the one-metric ANSWER_ONLY plan)."""
    return plan_create_from_preset(
        preset=preset,
        code=code,
        teams=list(teams),
        effective_from=effective_from,
        activate=activate,
    )


class PeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Period
        django_get_or_create = ("year", "month")

    year = 2026
    month = 10


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    source = "test"
    filename = "factory.csv"
    sha256 = "0" * 64
    status = ImportBatch.Status.APPLIED


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    source = "test"
    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    direction = Call.Direction.INBOUND
    started_at = dt.datetime(2026, 10, 15, 10, 0, tzinfo=dt.UTC)
    answered_at = factory.LazyAttribute(lambda call: call.started_at + dt.timedelta(seconds=10))
    wait_seconds = 10
    batch = factory.SubFactory(BatchFactory)
