"""What the API refuses, the admin refuses, through the same service and in the same words: deletes of
what is still referred to, and every refused operation on a plan version (delete, activate, edit)."""

import datetime as dt

import pytest
from django.utils.html import escape

from incentives import services
from incentives.models import Group, Plan, PlanVersion, Region, Team
from tests.factories import AgentFactory, PeriodFactory, plan_from_preset


@pytest.fixture
def hr_client(client, people):
    client.force_login(people.hr)
    return client


def _page(response) -> str:
    return response.content.decode()


def _bulk(client, model: str, *pks, action="delete_selected"):
    return client.post(
        f"/admin/incentives/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
        follow=True,
    )


# --- the organisation: a delete of what is still referred to -------------------------------------


def test_deleting_a_referenced_team_region_or_group_is_a_409_naming_what_refers_to_it(
    hr_client, people
):
    region = Region.objects.create(code="north", name="North")
    people.team_b.region = region
    people.team_b.save()
    group = Group.objects.create(team=people.team_a, code="g1", name="Group 1")
    AgentFactory(employee_id="A3", team=people.team_a, group=group)

    team = hr_client.delete(f"/api/v1/teams/{people.team_a.pk}/")
    assert team.status_code == 409
    assert team.json()["detail"] == (
        "Team A is still referred to by 1 group and 3 placements; it cannot be deleted."
    )
    assert hr_client.delete(f"/api/v1/regions/{region.pk}/").json() == {
        "detail": "North is still referred to by 1 team; it cannot be deleted."
    }
    grouped = hr_client.delete(f"/api/v1/groups/{group.pk}/")
    assert grouped.status_code == 409 and "1 placement;" in grouped.json()["detail"]
    assert Team.objects.filter(pk=people.team_a.pk).exists() and Group.objects.filter(pk=group.pk)

    # What nothing refers to goes.
    empty = Region.objects.create(code="south", name="South")
    assert hr_client.delete(f"/api/v1/regions/{empty.pk}/").status_code == 204


def test_the_admin_refuses_the_same_deletes_with_the_same_words(hr_client, people):
    words = "Team A is still referred to by 2 placements; it cannot be deleted."
    assert hr_client.delete(f"/api/v1/teams/{people.team_a.pk}/").json()["detail"] == words

    # The delete page says why instead of offering to confirm.
    page = hr_client.get(f"/admin/incentives/team/{people.team_a.pk}/delete/", follow=True)
    assert page.redirect_chain[-1][0] == f"/admin/incentives/team/{people.team_a.pk}/change/"
    assert escape(words) in _page(page)
    # The bulk action too, and deletes nothing of the selection.
    spare = Team.objects.create(code="spare", name="Spare")
    bulk = _bulk(hr_client, "team", people.team_a.pk, spare.pk)
    assert bulk.status_code == 200 and escape(words) in _page(bulk)
    assert Team.objects.filter(pk__in=[people.team_a.pk, spare.pk]).count() == 2
    # Only what nothing refers to is deleted, after the confirmation.
    confirmed = hr_client.post(
        "/admin/incentives/team/",
        {"action": "delete_selected", "_selected_action": [spare.pk], "post": "yes"},
    )
    assert confirmed.status_code == 302 and not Team.objects.filter(pk=spare.pk).exists()


def test_a_group_still_referred_to_is_not_deleted_from_its_teams_page(hr_client, people):
    group = Group.objects.create(team=people.team_a, code="g1", name="Group 1")
    AgentFactory(employee_id="A3", team=people.team_a, group=group)
    team = people.team_a
    response = hr_client.post(
        f"/admin/incentives/team/{team.pk}/change/",
        {
            "code": team.code,
            "name": team.name,
            "region": "",
            "monthly_budget": "",
            "leads": [people.lead_a.pk],
            "groups-TOTAL_FORMS": 1,
            "groups-INITIAL_FORMS": 1,
            "groups-MIN_NUM_FORMS": 0,
            "groups-MAX_NUM_FORMS": 1000,
            "groups-0-id": group.pk,
            "groups-0-team": team.pk,
            "groups-0-code": "g1",
            "groups-0-name": "Group 1",
            "groups-0-DELETE": "on",
        },
    )
    assert response.status_code == 200  # the form again, saying why (Django's own inline check)
    assert "would require deleting the following protected related objects" in _page(response)
    assert Group.objects.filter(pk=group.pk).exists()


# --- plan versions: each refused operation, through the API and through the admin ----------------


@pytest.fixture
def used(people, django_capture_on_commit_callbacks):
    """The people's plan, used by a computation (so locked)."""
    with django_capture_on_commit_callbacks(execute=True):
        services.run_start(period=PeriodFactory(year=2026, month=10))
    assert people.plan.locked
    return people.plan


def test_an_active_version_is_deleted_neither_by_the_api_nor_by_the_admin(hr_client, people):
    version = people.plan
    api = hr_client.delete(f"/api/v1/plan-versions/{version.pk}/")
    assert api.status_code == 409
    words = api.json()["detail"]
    assert (
        words
        == f"{version} is active and cannot be deleted; end it with a new version or an end date instead."
    )
    page = hr_client.post(
        f"/admin/incentives/planversion/{version.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert escape(words) in _page(page)
    bulk = _bulk(hr_client, "planversion", version.pk)
    assert escape(words) in _page(bulk)
    # Deleting its plan would delete it: refused too, in both.
    plan_api = hr_client.delete(f"/api/v1/plans/{version.plan.pk}/")
    assert plan_api.status_code == 409 and "has an active version" in plan_api.json()["detail"]
    plan_page = _bulk(hr_client, "plan", version.plan.pk)
    assert escape(plan_api.json()["detail"]) in _page(plan_page)
    assert PlanVersion.objects.filter(pk=version.pk).exists()


def test_a_used_version_is_deleted_neither_by_the_api_nor_by_the_admin(hr_client, people, used):
    api = hr_client.delete(f"/api/v1/plan-versions/{used.pk}/")
    assert api.status_code == 409
    words = api.json()["detail"]
    assert "has been used in a computation and cannot be deleted" in words
    page = hr_client.get(f"/admin/incentives/planversion/{used.pk}/delete/", follow=True)
    assert escape(words) in _page(page)
    assert escape(words) in _page(_bulk(hr_client, "planversion", used.pk))
    plan_api = hr_client.delete(f"/api/v1/plans/{used.plan.pk}/")
    assert plan_api.status_code == 409 and "has paid agents" in plan_api.json()["detail"]
    assert escape(plan_api.json()["detail"]) in _page(_bulk(hr_client, "plan", used.plan.pk))
    assert PlanVersion.objects.filter(pk=used.pk).exists()


def test_a_used_version_is_edited_neither_by_the_api_nor_by_the_admin(hr_client, people, used):
    words = services.plans.locked_message(used)
    api = hr_client.put(f"/api/v1/plan-versions/{used.pk}/", {}, content_type="application/json")
    assert api.status_code == 409 and api.json()["detail"] == words
    page = hr_client.get(f"/admin/incentives/planversion/{used.pk}/change/")
    assert escape(words) in _page(page)  # read-only, and why
    assert hr_client.post(f"/admin/incentives/planversion/{used.pk}/change/", {}).status_code == 403


def test_a_version_that_would_overlap_is_activated_neither_by_the_api_nor_by_the_admin(
    hr_client, people
):
    rival = plan_from_preset(
        code="rival", teams=[people.team_a], effective_from=dt.date(2027, 1, 1), activate=False
    )
    api = hr_client.post(f"/api/v1/plan-versions/{rival.pk}/activate/")
    assert api.status_code == 400
    words = api.json()["problems"][0]["message"]
    assert "no agent may have two plans on the same day" in words
    page = _bulk(hr_client, "planversion", rival.pk, action="activate")
    assert escape(words) in _page(page)
    rival.refresh_from_db()
    assert rival.status == PlanVersion.Status.DRAFT


def test_a_draft_is_deleted_by_either_through_the_service(hr_client, people):
    first = plan_from_preset(code="d1", effective_from=dt.date(2027, 1, 1), activate=False)
    second = plan_from_preset(code="d2", effective_from=dt.date(2027, 1, 1), activate=False)
    assert hr_client.delete(f"/api/v1/plan-versions/{first.pk}/").status_code == 204
    confirmed = hr_client.post(
        "/admin/incentives/planversion/",
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )
    assert confirmed.status_code == 302
    assert not PlanVersion.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert Plan.objects.filter(code__in=["d1", "d2"]).count() == 2  # the plans stay


def test_the_admin_edits_a_draft_through_the_service_the_api_uses(hr_client, people):
    from tests.incentives.test_plan_admin_api import BASE, _admin_payload

    plan = Plan.objects.create(code="p", name="P")
    draft = services.plan_version_create(plan=plan, spec=BASE)
    payload = _admin_payload(BASE, plan) | {"note": "raised in March", "currency": "EUR"}
    response = hr_client.post(f"/admin/incentives/planversion/{draft.pk}/change/", payload)
    assert response.status_code == 302, _page(response)[-2000:]
    draft.refresh_from_db()
    assert (draft.note, draft.currency, draft.number) == ("raised in March", "EUR", 1)
    assert services.version_spec_from_db(draft).metrics == BASE.metrics
    # The API's PUT writes the note too (it used to be dropped).
    from tests.incentives.test_plan_admin_api import _api_payload

    put = hr_client.put(
        f"/api/v1/plan-versions/{draft.pk}/",
        _api_payload(BASE, "p") | {"note": "from the API"},
        content_type="application/json",
    )
    assert put.status_code == 200 and put.json()["note"] == "from the API"


def test_a_closed_months_target_is_deleted_neither_by_the_api_nor_by_the_admin(
    hr_client, people, used
):
    period = PeriodFactory(year=2026, month=10)
    override = services.target_override_set(
        period=period, metric_code="asa", team=people.team_a, threshold=40, target=20
    )
    services.period_approve(period=period, run=period.runs.get())
    services.period_close(period=period)
    period.refresh_from_db()
    api = hr_client.delete(f"/api/v1/targets/{override.pk}/")
    assert api.status_code == 409
    words = api.json()["detail"]
    assert words == f"{period} is closed: its targets can no longer change."
    assert escape(words) in _page(_bulk(hr_client, "targetoverride", override.pk))
    page = hr_client.get(f"/admin/incentives/targetoverride/{override.pk}/delete/", follow=True)
    assert escape(words) in _page(page)
