"""factory_boy factories: the building blocks of the personas in conftest.py."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from calls.models import Call, ImportBatch
from incentives.models import Agent, Period, Plan, Team
from incentives.presets import ANSWER_PRIORITY
from incentives.services import plan_create_from_preset

PASSWORD = "correct-horse-battery"


def role(name: str) -> Group:
    # get_or_create: a transactional test's flush removes the rows the roles migration made.
    return Group.objects.get_or_create(name=name)[0]


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
    class Meta:
        model = Agent

    employee_id = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Faker("name")
    team = factory.SubFactory(TeamFactory)
    user = None


def plan_from_preset(*, code: str, teams, effective_from=dt.date(2020, 1, 1)) -> Plan:
    """A one-metric plan like the demo's: answer rate 90 → 50%, 95 → 100%, 98 → 150%; tiers 0 / 60 /
    85 (× 1.2) / 100 (× 1.2 + 200); target bonus 1,000.00, cap 2,000.00."""
    return plan_create_from_preset(
        preset=ANSWER_PRIORITY, code=code, teams=list(teams), effective_from=effective_from
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
