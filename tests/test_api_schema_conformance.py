"""The schema tells the truth (issue 16, point 4): every GET operation of the OpenAPI schema that
``/api/schema/`` serves is called through the WSGI app with a token, over a month of real data
(September approved and closed; October with an adjustment, computed, given a target, computed again
and approved; reviews, an action, a question, imports, a region and a group), and schemathesis checks
each answer against the schema: a status the operation documents, the documented media type and
headers, a body its schema accepts, never a 500.

HR asks each path with a real id (a 200 whose body meets real rows), with an id that is not there (a
404), with a few generated query strings (derandomised, so a filter given a value it does not know is
tried too), and with the refusals we know (a 400, a 409). A lead and an agent ask each path with the
real ids: what their role may not read answers a documented 403. And the ids in the bodies lead where
they say: a statement's ``run`` is the run ``/runs/{id}/`` answers for, its month's ``approved_run``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from calls.models import ImportBatch
from config.wsgi import application
from incentives import services
from incentives.models import Adjustment, Group, Period, Region, Review, Statement, TargetOverride
from tests.factories import BatchFactory, PeriodFactory
from tests.incentives.test_compute import _calls, _start

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MISSING = 987_654  # an id no row has: a 404
GENERATED = 6  # query strings per operation: enough to try its filters, few enough to stay quick


@pytest.fixture
def wsgi(settings):
    """The project's WSGI app, inside the test's transaction: as Django's test client does, a request
    must not close the connection (``close_old_connections`` would, seeing a transaction open)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the WSGI client's host
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def month(people, django_capture_on_commit_callbacks):
    """September approved and closed; October adjusted, computed, given a target, computed again and
    approved (so its two runs differ); a review at its consensus with an action due, a question,
    two imports, a region and a group. October, its two runs and November (open)."""
    capture = django_capture_on_commit_callbacks
    people.team_a.region = Region.objects.create(code="east", name="East")
    people.team_a.save()
    Group.objects.create(team=people.team_a, code="early", name="Early shift")
    september = PeriodFactory(year=2026, month=9)
    for agent in (people.agent_a, people.agent_a2, people.agent_b):
        _calls(agent, 19, 20, when=dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC))
    services.period_approve(period=september, run=_start(september, capture), approved_by=people.hr)
    september.refresh_from_db()
    september = services.period_close(period=september)

    _calls(people.agent_a, 193, 200)
    _calls(people.agent_a2, 92, 100)
    _calls(people.agent_b, 9, 10)
    october = PeriodFactory(year=2026, month=10)
    services.adjustment_create(
        period=october,
        agent=people.agent_b,
        amount=Decimal("50.00"),
        corrects=september,
        reason="A call counted twice",
        created_by=people.hr,
    )
    first = _start(october, capture)
    services.target_override_set(
        period=october,
        metric_code="answer_rate",
        threshold=Decimal("88"),
        target=Decimal("94"),
        team=people.team_a,
        user=people.hr,
    )
    second = _start(october, capture)
    services.period_approve(period=october, run=second, approved_by=people.hr)

    review = Review.objects.get(agent=people.agent_a, period=october)
    services.root_cause_add(
        review=review, user=people.lead_a, metric="answer_rate", category="staffing", note="flu"
    )
    services.review_sign(review=review, user=people.lead_a)
    review = services.review_acknowledge(review=review, user=people.agent_a.user)  # consensus
    services.action_item_add(
        review=review,
        user=people.lead_a,
        what="Shadow a senior agent",
        owner=people.agent_a.user,
        due=timezone.localdate() + dt.timedelta(days=7),
        kind="coaching",
    )
    line = Statement.objects.get(run=second, agent=people.agent_a2).lines.first()
    services.dispute_raise(line=line, user=people.agent_a2.user, question="Why 92%?")
    BatchFactory(filename="october.csv")
    BatchFactory(filename="bad.csv", status=ImportBatch.Status.REJECTED)
    october.refresh_from_db()
    return october, first, second, PeriodFactory(year=2026, month=11)


def _real(people, month) -> dict[str, dict]:
    """For each path that needs them, the parameters of a real answer: ids of rows that are there (the
    agent's own, so that each persona has something to read) and a query the operation needs."""
    october, first, second, _november = month
    review = Review.objects.get(period=october, agent=people.agent_a)
    statement = Statement.objects.get(run=second, agent=people.agent_a)
    return {
        "/api/v1/adjustments/{id}/": {"id": Adjustment.objects.get().pk},
        "/api/v1/agents/{id}/": {"id": people.agent_a.pk},
        "/api/v1/groups/{id}/": {"id": Group.objects.get().pk},
        "/api/v1/imports/{id}/": {"id": ImportBatch.objects.first().pk},
        "/api/v1/periods/{id}/payroll/": {"id": october.pk},
        "/api/v1/plan-versions/{id}/": {"id": people.plan.pk},
        "/api/v1/plan-versions/{id}/explain/": {"id": people.plan.pk},
        "/api/v1/plans/{id}/": {"id": people.plan.plan_id},
        "/api/v1/queues/figures/": {"month": "2026-10"},
        "/api/v1/regions/{id}/": {"id": Region.objects.get().pk},
        "/api/v1/review-progress/": {"period": october.pk},
        "/api/v1/reviews/{id}/": {"id": review.pk},
        "/api/v1/runs/{id}/": {"id": second.pk},
        "/api/v1/runs/{id}/compare/": {"id": second.pk, "with": first.pk},
        "/api/v1/runs/{id}/review/": {"id": second.pk},
        "/api/v1/statements/{id}/": {"id": statement.pk},
        "/api/v1/targets/{id}/": {"id": TargetOverride.objects.get().pk},
        "/api/v1/teams/{id}/": {"id": people.team_a.pk},
    }


def _refusals(month) -> list[tuple[str, dict, int]]:
    """Requests refused for a reason we know, with their status (which the schema must document)."""
    _october, _first, second, november = month
    return [
        ("/api/v1/runs/{id}/compare/", {"id": second.pk, "with": second.pk}, 400),  # itself
        ("/api/v1/runs/{id}/compare/", {"id": second.pk}, 400),  # with what?
        ("/api/v1/plan-problems/", {"day": "2026-02-30"}, 400),  # no such day (a 500 once)
        ("/api/v1/statements/", {"tier": "2.5"}, 400),  # no statement reached that tier
        ("/api/v1/review-progress/", {}, 400),  # which month?
        ("/api/v1/periods/{id}/payroll/", {"id": november.pk}, 409),  # not approved
    ]


def _split(parameters: dict) -> dict:
    path = {k: v for k, v in parameters.items() if k == "id"}
    return {"path_parameters": path, "query": {k: v for k, v in parameters.items() if k != "id"}}


class Api:
    """The schema the app serves, asked and checked as one user; what each path answered."""

    def __init__(self, app, user):
        self.auth = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=self.auth)
        self.gets = [op for r in schema.get_all_operations() if (op := r.ok()).method == "get"]
        self.answered: dict[str, set[int]] = {}
        self.mismatches: list[str] = []

    def check(self, case) -> int:
        response = case.call(headers=self.auth)
        self.answered.setdefault(case.operation.path, set()).add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=self.auth)
        return response.status_code

    def checked(self, operation, ask) -> None:
        """Run ``ask`` (which checks one or more cases of ``operation``), keeping its mismatches."""
        try:
            ask()
        except FailureGroup as failure:
            self.mismatches.append(f"{operation.label}: {failure}")

    def operation(self, path: str):
        return next(op for op in self.gets if op.path == path)


def test_every_get_answers_hr_as_the_schema_says(wsgi, people, month):
    api = Api(wsgi, people.hr)
    assert len(api.gets) >= 30
    real = _real(people, month)
    for operation in api.gets:
        parameters = real.get(operation.path, {})

        @settings(
            max_examples=GENERATED,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(path_parameters=_split(parameters)["path_parameters"]))
        def generated(case) -> None:
            api.check(case)

        def ask(operation=operation, parameters=parameters, generated=generated) -> None:
            api.check(operation.Case(**_split(parameters)))
            if "id" in parameters:
                api.check(operation.Case(**_split({**parameters, "id": MISSING})))
            generated()

        api.checked(operation, ask)
    refused = []
    for path, parameters, status in _refusals(month):
        operation = api.operation(path)

        def refuse(operation=operation, parameters=parameters, status=status) -> None:
            got = api.check(operation.Case(**_split(parameters)))
            if got != status:
                refused.append((operation.label, parameters, got))

        api.checked(operation, refuse)
    assert not api.mismatches, "\n\n".join(api.mismatches)
    assert refused == []

    # Each operation answered 200 at least once (its body met real rows), and a missing id 404.
    assert {op.path for op in api.gets} == set(api.answered)
    assert [path for path, statuses in api.answered.items() if 200 not in statuses] == []
    assert all(404 in api.answered[path] for path in real if "id" in real[path])


@pytest.mark.parametrize("persona", ["lead_a", "agent_a"])
def test_every_get_answers_a_lead_and_an_agent_as_the_schema_says(wsgi, people, month, persona):
    user = getattr(people, persona)
    api = Api(wsgi, getattr(user, "user", user))
    real = _real(people, month)
    for operation in api.gets:
        case = operation.Case(**_split(real.get(operation.path, {})))
        api.checked(operation, lambda case=case: api.check(case))
    assert not api.mismatches, "\n\n".join(api.mismatches)
    statuses = {path: s.pop() for path, s in api.answered.items()}
    assert statuses["/api/v1/periods/"] == 403  # HR's
    assert statuses["/api/v1/statements/{id}/"] == statuses["/api/v1/reviews/{id}/"] == 200  # own


def test_the_ids_in_bodies_lead_where_they_say(client, people, month):
    october, first, second, _november = month
    client.force_login(people.hr)
    periods = client.get("/api/v1/periods/").json()["results"]
    listed = next(p for p in periods if p["id"] == october.pk)
    assert listed["approved_run"] == second.pk and listed["approved_run_number"] == second.number
    run = client.get(f"/api/v1/runs/{listed['approved_run']}/").json()
    assert (run["id"], run["number"], run["period"]) == (second.pk, 2, "2026-10")

    statements = client.get(f"/api/v1/statements/?period={october.pk}").json()["results"]
    assert {s["run"] for s in statements} == {first.pk, second.pk}  # HR sees both runs
    approved = [s for s in statements if s["run"] == listed["approved_run"]]
    assert {s["run_version"] for s in approved} == {run["number"]}
    statement = client.get(f"/api/v1/statements/{approved[0]['id']}/").json()
    assert statement == approved[0]

    review = client.get(f"/api/v1/reviews/?period={october.pk}").json()["results"][0]
    assert review["period"] == october.pk and review["period_label"] == run["period"]
    reviewed = client.get(f"/api/v1/statements/{review['statement']}/").json()
    assert reviewed["run"] == second.pk and reviewed["employee_id"] == review["employee_id"]
    agent = client.get(f"/api/v1/agents/{review['agent']}/").json()
    assert agent["employee_id"] == review["employee_id"]
    assert client.get(f"/api/v1/teams/{agent['team']}/").json()["id"] == review["team"]

    adjustment = client.get("/api/v1/adjustments/").json()["results"][0]
    assert adjustment["period"] == october.pk
    assert client.get(f"/api/v1/agents/{adjustment['agent']}/").json()["employee_id"] == "B1"
    corrected = next(p for p in periods if p["id"] == adjustment["corrects"])
    assert (corrected["year"], corrected["month"], corrected["status"]) == (2026, 9, "closed")
    september = Period.objects.get(pk=adjustment["corrects"])
    assert september.approved_run_id == corrected["approved_run"]
