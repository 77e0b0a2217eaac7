"""One error path: a service's typed refusal is answered by one DRF exception handler (400/409 and its
message) and shown by the pages in the same words; no API view answers a refusal by hand."""

import ast
import inspect
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db.models import ProtectedError

from calls import errors
from incentives import services
from tests.factories import PeriodFactory

ROOT = Path(__file__).resolve().parent.parent


def _domain_errors() -> set[str]:
    """Every refusal class our services define (all subclasses of ``DomainError``)."""
    import calls.services  # noqa: F401 - their modules define them
    import reports.services  # noqa: F401

    found, todo = set(), [errors.DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


def test_every_refusal_is_a_domain_error_with_a_status():
    names = _domain_errors()
    assert {
        "ImportRefused",
        "RollbackRefused",
        "PlanInvalid",
        "PlanLocked",
        "PlanInUse",
        "PeriodStateError",
        "RunAlreadyActive",
        "OrganisationError",
        "TargetInvalid",
        "TargetsClosed",
        "AdjustmentRefused",
        "ReviewRefused",
        "DisputeRefused",
        "AlertRefused",
        "StillReferred",
    } <= names
    assert services.PlanLocked.status_code == services.RunAlreadyActive.status_code == 409
    assert services.PlanInvalid.status_code == services.TargetInvalid.status_code == 400


def test_no_api_view_answers_a_refusal_by_hand():
    """The handler answers them all; an ``except SomeRefusal`` in an API module is a second path."""
    refusals = _domain_errors() | {"ProtectedError"}
    caught = []
    modules = sorted([*ROOT.glob("*/apis.py"), *ROOT.glob("*/apis/*.py")])
    assert {m.relative_to(ROOT).as_posix() for m in modules} >= {
        "calls/apis.py",
        "incentives/apis/plans.py",
    }
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {
                    n.attr if isinstance(n, ast.Attribute) else getattr(n, "id", "")
                    for n in ast.walk(node.type)
                }
                caught += [
                    f"{module.relative_to(ROOT)}:{node.lineno} {n}" for n in names & refusals
                ]
    assert caught == []


def test_a_refusal_is_its_status_and_its_message_with_its_payload(
    client, people, django_capture_on_commit_callbacks
):
    client.force_login(people.hr)
    period = PeriodFactory(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=False):
        run = services.run_start(period=period)  # waiting for a worker that never comes
    again = client.post(f"/api/v1/periods/{period.pk}/runs/")
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"Run v1 of {period} is already Waiting for a worker.",
        "run": run.pk,
    }


def test_a_models_own_validation_in_a_service_is_a_400_not_a_500(client, people):
    """``plan_create`` runs ``full_clean``: a copy under a code that exists is refused by the model."""
    client.force_login(people.hr)
    response = client.post(
        f"/api/v1/plan-versions/{people.plan.pk}/copy/",
        {"code": people.plan.plan.code, "name": "Again"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "already exists" in body["detail"] and "code" in body["fields"]


def test_the_message_names_what_still_refers_to_the_object(people):
    with pytest.raises(ProtectedError) as raised:
        people.team_a.delete()
    words = errors.referred_message(people.team_a, raised.value.protected_objects)
    assert words == "Team A is still referred to by 2 placements; it cannot be deleted."
    assert errors.delete_refusal(people.team_a) == words
    with pytest.raises(errors.StillReferred, match=r"^Team A is still referred to by 2 placements"):
        errors.delete_or_refuse(people.team_a)
    assert errors.delete_refusal(people.nobody) is None


@pytest.mark.parametrize("method", ["post", "get"])
def test_a_page_shows_a_refusal_it_did_not_catch_in_the_same_words(rf, people, method):
    """What a page (or the admin) did not catch becomes a message on the page the person came from —
    and a GET that failed is not sent back to itself."""
    with pytest.raises(ProtectedError) as raised:
        people.team_a.delete()
    request = getattr(rf, method)(
        "/admin/incentives/team/1/change/", HTTP_REFERER="http://testserver/admin/incentives/team/"
    )
    request.user = people.hr
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    middleware = errors.DomainErrorMiddleware(lambda r: None)
    response = middleware.process_exception(request, raised.value)
    assert response.status_code == 302 and response["Location"].endswith("/admin/incentives/team/")
    assert [str(m) for m in get_messages(request)] == [
        "This is still referred to by 2 placements; it cannot be deleted."
    ]
    assert middleware.process_exception(request, ValueError("a bug")) is None  # still a 500
    own = getattr(rf, method)("/hr/")
    own.user = people.hr
    SessionMiddleware(lambda r: None).process_request(own)
    MessageMiddleware(lambda r: None).process_request(own)
    back = middleware.process_exception(own, services.PlanLocked("locked"))
    assert back["Location"] == ("/" if method == "get" else "/hr/")


def test_the_handler_is_the_apis_one(settings):
    assert settings.REST_FRAMEWORK["EXCEPTION_HANDLER"] == "calls.errors.api_exception_handler"
    assert "calls.errors.DomainErrorMiddleware" in settings.MIDDLEWARE
    assert inspect.isfunction(errors.api_exception_handler)
