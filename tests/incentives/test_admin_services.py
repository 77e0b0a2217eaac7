"""The admin writes through the services the API calls, or does not offer the write: what the API
refuses, the admin refuses, in the same words. Logged in as a superuser, so that no permission of a
role hides a write the admin would otherwise offer."""

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils.html import escape

from calls.errors import DomainError
from incentives import services
from incentives.admin.plans import PlanVersionAdmin
from incentives.models import (
    Adjustment,
    Agent,
    Period,
    Placement,
    Plan,
    PlanVersion,
    Review,
    SharedSkill,
    TargetOverride,
)
from tests.factories import PeriodFactory, UserFactory, plan_from_preset
from tests.incentives.test_adjustments import _closed


@pytest.fixture
def root(client, people):
    """A superuser in the admin (and an HR admin's powers in the API: superusers pass every role)."""
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def hr_api(people):
    from django.test import Client

    api = Client()
    api.force_login(people.hr)
    return api


def _page(response) -> str:
    return response.content.decode()


# --- plan versions: the delete the API refuses -----------------------------------------------------


def test_posting_the_admins_delete_confirmation_of_an_active_version_deletes_nothing(
    root, hr_api, people
):
    version = people.plan
    api = hr_api.delete(f"/api/v1/plan-versions/{version.pk}/")
    assert api.status_code == 409
    words = api.json()["detail"]

    # The delete page's confirmation, posted as the admin's own form posts it.
    page = root.post(
        f"/admin/incentives/planversion/{version.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert page.status_code == 200 and escape(words) in _page(page)
    # The bulk action's second step (the confirmation posted with ``post=yes``) is refused too.
    bulk = root.post(
        "/admin/incentives/planversion/",
        {"action": "delete_selected", "_selected_action": [version.pk], "post": "yes"},
        follow=True,
    )
    assert escape(words) in _page(bulk)
    assert PlanVersion.objects.filter(pk=version.pk, status=PlanVersion.Status.ACTIVE).exists()


def test_the_admins_delete_itself_goes_through_the_service(people):
    """Whatever page reaches ``delete_model``/``delete_queryset`` (the checks before them skipped),
    the service refuses: an active version is never deleted by the admin."""
    from django.contrib import admin

    model_admin = PlanVersionAdmin(PlanVersion, admin.site)
    request = RequestFactory().post("/")
    with pytest.raises(services.PlanInUse, match="is active and cannot be deleted"):
        model_admin.delete_model(request, people.plan)
    with pytest.raises(services.PlanInUse):
        model_admin.delete_queryset(request, PlanVersion.objects.filter(pk=people.plan.pk))
    assert PlanVersion.objects.filter(pk=people.plan.pk).exists()


def test_a_draft_is_still_deleted_by_the_admins_confirmation(root, people):
    draft = plan_from_preset(code="draft", effective_from=dt.date(2027, 1, 1), activate=False)
    response = root.post(f"/admin/incentives/planversion/{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PlanVersion.objects.filter(pk=draft.pk).exists()


def test_a_plan_added_in_the_admin_is_made_by_the_service(root, people):
    response = root.post(
        "/admin/incentives/plan/add/",
        {
            "code": "new",
            "name": "New plan",
            "description": "",
            "versions-TOTAL_FORMS": 0,
            "versions-INITIAL_FORMS": 0,
            "versions-MIN_NUM_FORMS": 0,
            "versions-MAX_NUM_FORMS": 1000,
        },
    )
    assert response.status_code == 302, _page(response)[-2000:]
    assert Plan.objects.get(code="new").name == "New plan"


# --- months: opened through the service, never changed or deleted here ---------------------------


def test_a_month_is_opened_by_the_service_and_not_changed_or_deleted_in_the_admin(root, people):
    response = root.post("/admin/incentives/period/add/", {"year": 2027, "month": 2})
    assert response.status_code == 302, _page(response)[-2000:]
    period = Period.objects.get(year=2027, month=2)
    assert period.status == Period.Status.OPEN
    # Its year, month or status are not edited here (the life cycle is the Overview's services').
    assert (
        root.post(
            f"/admin/incentives/period/{period.pk}/change/", {"year": 2030, "month": 1}
        ).status_code
        == 403
    )
    assert (
        root.post(f"/admin/incentives/period/{period.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    period.refresh_from_db()
    assert (period.year, period.month) == (2027, 2)


# --- agents: added and moved by agent_create / agent_place ---------------------------------------


def _agent_post(**changes) -> dict:
    data = {
        "employee_id": "N1",
        "name": "New Agent",
        "level": "junior",
        "channel": "inbound",
        "base_pay": "",
        "hire_date": "",
        "user": "",
        "move_team": "",
        "move_group": "",
        "move_from": "",
        "placements-TOTAL_FORMS": 0,
        "placements-INITIAL_FORMS": 0,
        "placements-MIN_NUM_FORMS": 0,
        "placements-MAX_NUM_FORMS": 1000,
    }
    return data | changes


def test_an_agent_added_in_the_admin_is_placed_by_the_service(root, people):
    response = root.post(
        "/admin/incentives/agent/add/",
        _agent_post(move_team=people.team_a.pk, move_from="2026-11-01"),
    )
    assert response.status_code == 302, _page(response)[-2000:]
    agent = Agent.objects.get(employee_id="N1")
    placement = Placement.objects.get(agent=agent)
    assert (placement.team, placement.valid_from) == (people.team_a, dt.date(2026, 11, 1))


def test_the_admin_refuses_a_move_the_api_refuses_in_the_same_words(root, hr_api, people):
    agent = people.agent_a
    since = agent.placements.get().valid_from
    api = hr_api.post(
        f"/api/v1/agents/{agent.pk}/move/",
        {"team": people.team_b.pk, "valid_from": since.isoformat()},
        content_type="application/json",
    )
    assert api.status_code == 400
    words = api.json()["detail"]
    assert "a move must be dated after that" in words
    page = root.post(
        f"/admin/incentives/agent/{agent.pk}/change/",
        _agent_post(
            employee_id=agent.employee_id,
            name=agent.name,
            level=agent.level,
            channel=agent.channel,
            move_team=people.team_b.pk,
            move_from=since.isoformat(),
        ),
    )
    assert page.status_code == 200  # the form again, saying why
    assert escape(words) in _page(page)
    assert agent.placements.get().team == people.team_a  # nothing moved


def test_the_admin_refuses_a_new_agent_in_a_group_of_another_team_in_the_services_words(
    root, people
):
    from incentives.models import Group

    group_b = Group.objects.create(team=people.team_b, code="gb", name="Group B")
    with pytest.raises(DomainError) as refused:
        services.agent_create(
            employee_id="N1",
            name="New Agent",
            team=people.team_a,
            group=group_b,
            placed_from=dt.date(2026, 11, 1),
        )
    page = root.post(
        "/admin/incentives/agent/add/",
        _agent_post(move_team=people.team_a.pk, move_group=group_b.pk, move_from="2026-11-01"),
    )
    assert page.status_code == 200 and escape(str(refused.value)) in _page(page)
    assert not Agent.objects.filter(employee_id="N1").exists()


def test_agents_are_not_deleted_in_the_admin_as_the_api_does_not_delete_them(root, hr_api, people):
    agent = people.agent_b
    assert hr_api.delete(f"/api/v1/agents/{agent.pk}/").status_code == 405
    assert (
        root.post(f"/admin/incentives/agent/{agent.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Agent.objects.filter(pk=agent.pk).exists()


# --- targets: the service's checks on the form ---------------------------------------------------


def _target_post(**changes) -> dict:
    return {
        "metric": "asa",
        "agent": "",
        "threshold": "40",
        "target": "20",
        "excellence": "",
        "note": "",
    } | changes


@pytest.mark.parametrize(
    "case",
    ["closed month", "wrong direction", "team and agent"],
)
def test_the_admin_refuses_a_target_the_api_refuses_in_the_same_words(root, hr_api, people, case):
    period = _closed(9) if case == "closed month" else PeriodFactory(year=2026, month=11)
    body = {
        "period": period.pk,
        "team": people.team_a.pk,
        "metric": "asa",
        "threshold": "40",
        "target": "20",
    }
    if case == "wrong direction":  # ASA is better down: the target must be below the threshold
        body |= {"threshold": "20", "target": "40"}
    if case == "team and agent":
        body |= {"agent": people.agent_a.pk}
    api = hr_api.post("/api/v1/targets/", body, content_type="application/json")
    assert api.status_code == 400, api.json()
    words = api.json()["detail"]
    page = root.post(
        "/admin/incentives/targetoverride/add/",
        _target_post(**{k: str(v) for k, v in body.items()}),
    )
    assert page.status_code == 200
    assert escape(words) in _page(page), (words, _page(page)[-3000:])
    assert not TargetOverride.objects.exists()


def test_a_target_the_service_accepts_is_written_by_it(root, people):
    period = PeriodFactory(year=2026, month=11)
    response = root.post(
        "/admin/incentives/targetoverride/add/",
        _target_post(period=period.pk, team=people.team_a.pk),
    )
    assert response.status_code == 302, _page(response)[-3000:]
    override = TargetOverride.objects.get()
    assert (override.team, override.threshold, override.target) == (people.team_a, 40, 20)


# --- history written elsewhere ---------------------------------------------------------------------


def test_the_expert_list_is_read_only_as_the_reviews_it_comes_from(root, people):
    assert root.get("/admin/incentives/sharedskill/").status_code == 200
    assert not Review.objects.exists() and not SharedSkill.objects.exists()
    from django.contrib import admin

    from incentives.admin.reviews import SharedSkillAdmin

    model_admin = SharedSkillAdmin(SharedSkill, admin.site)
    request = RequestFactory().get("/")
    request.user = UserFactory(username="root2", is_staff=True, is_superuser=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_admin_refuses_an_adjustment_the_api_refuses_in_the_same_words(root, hr_api, people):
    from tests.incentives.test_adjustments import _close

    september, october = _closed(9), PeriodFactory(year=2026, month=10)
    _close(october, status="approved")
    body = {
        "period": october.pk,
        "agent": people.agent_a.pk,
        "amount": "10.00",
        "corrects": september.pk,
        "reason": "late complaint",
    }
    api = hr_api.post("/api/v1/adjustments/", body, content_type="application/json")
    assert api.status_code == 400, api.json()
    words = api.json()["detail"]
    assert "adjustments are paid in an open month" in words
    page = root.post("/admin/incentives/adjustment/add/", body)
    assert page.status_code == 200 and escape(words) in _page(page)
    assert not Adjustment.objects.exists()
