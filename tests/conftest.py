"""Shared fixtures: the personas every permission test speaks of, and how Celery runs in tests.

Personas: ``hr`` (HR admin), ``lead_a`` (leads team A), ``agent_a`` and ``agent_a2`` (team A),
``agent_b`` (team B), ``nobody`` (a login with no role). Team A and B share one plan.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from django.conf import settings

from calls.roles import AGENT, HR, LEAD
from config.celery import app as celery_app
from tests.factories import AgentFactory, TeamFactory, UserFactory, plan_from_preset

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _services_missing() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "CELERY_BROKER_URL is not set"
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL is not PostgreSQL"
    return None


def pytest_collection_modifyitems(config, items):
    """Without a broker and PostgreSQL the worker tests are skipped, except in CI (REQUIRE_SERVICES=1),
    where they run and fail: a skipped worker test must never pass for a green run."""
    missing = _services_missing()
    if not missing or REQUIRE_SERVICES:
        return
    for item in items:
        if item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.skip(reason=f"needs a real worker: {missing}"))


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tasks run in process, at commit, except in tests marked ``worker``, which send them to the real
    broker for a real worker process. Restored afterwards whatever the test did."""
    if request.node.get_closest_marker("worker"):
        missing = _services_missing()
        if missing:
            pytest.fail(f"REQUIRE_SERVICES=1 but {missing}")
        eager = False
    else:
        eager = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def people(db):
    team_a = TeamFactory(code="team-a", name="Team A")
    team_b = TeamFactory(code="team-b", name="Team B")
    hr = UserFactory(username="hr_admin", roles=[HR], is_staff=True)
    lead_a = UserFactory(username="lead_a", roles=[LEAD])
    team_a.leads.add(lead_a)
    agent_a = AgentFactory(
        employee_id="A1",
        name="Agent A1",
        team=team_a,
        user=UserFactory(username="a1", roles=[AGENT]),
    )
    agent_a2 = AgentFactory(
        employee_id="A2",
        name="Agent A2",
        team=team_a,
        user=UserFactory(username="a2", roles=[AGENT]),
    )
    agent_b = AgentFactory(
        employee_id="B1",
        name="Agent B1",
        team=team_b,
        user=UserFactory(username="b1", roles=[AGENT]),
    )
    nobody = UserFactory(username="nobody")
    plan = plan_from_preset(code="plan-ab", teams=[team_a, team_b])
    return SimpleNamespace(
        team_a=team_a,
        team_b=team_b,
        hr=hr,
        lead_a=lead_a,
        agent_a=agent_a,
        agent_a2=agent_a2,
        agent_b=agent_b,
        nobody=nobody,
        plan=plan,
    )
