"""The API's one exception handler maps each domain error type to its status, with its message as
``detail``; a page shows the same message (``refusal_shown``)."""

from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.utils import translation
from rest_framework.exceptions import NotFound

import calls.services
import incentives.services
import reports.services
from calls import errors

# Each refusal our services raise, and the status the API answers it with: 400 when the request asks
# for what the rules forbid, 409 when the present state of what it names forbids it.
STATUSES = {
    "ImportRefused": 400,
    "RollbackRefused": 409,
    "OrganisationError": 400,
    "PlanInvalid": 400,
    "PlanLocked": 409,
    "PlanInUse": 409,
    "PeriodStateError": 409,
    "RunAlreadyActive": 409,
    "TargetInvalid": 400,
    "TargetsClosed": 409,
    "AccountRefused": 400,
    "AdjustmentRefused": 400,
    "ReviewRefused": 400,
    "DisputeRefused": 400,
    "AlertRefused": 400,
    "PayrollNotReady": 409,
}
MODULES = [calls.services, incentives.services, incentives.selectors, reports.services]


def _error_class(name: str) -> type[errors.DomainError]:
    return next(getattr(m, name) for m in MODULES if hasattr(m, name))


def _raised(cls: type[errors.DomainError], words: str) -> errors.DomainError:
    """An instance with ``words`` as its message, whatever its constructor takes (a run, problems)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc, words)
    exc.run, exc.problems = SimpleNamespace(pk=7), []
    return exc


def _answer(exc):
    return errors.api_exception_handler(exc, {"view": None, "request": None})


@pytest.mark.parametrize(("name", "status"), sorted(STATUSES.items()))
def test_the_handler_answers_each_refusal_with_its_status_and_message(name, status):
    cls = _error_class(name)
    assert issubclass(cls, errors.DomainError)
    assert cls.status_code == status
    response = _answer(_raised(cls, f"{name}: why, in words HR can act on."))
    assert response.status_code == status
    assert response.data["detail"] == f"{name}: why, in words HR can act on."


def test_every_refusal_class_is_in_the_table():
    """A new refusal type gets its status decided here, not by accident."""
    found, todo = set(), [errors.DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    ours = {
        cls.__name__
        for cls in found
        if cls.__module__.split(".")[0] in {"calls", "incentives", "reports"}
    }
    ours -= {"Conflict", "StillReferred", "_Invalid"}  # the base, the delete refusal, a page's form
    assert ours <= set(STATUSES), ours - set(STATUSES)


def test_the_payload_travels_with_the_detail():
    exc = _raised(_error_class("RunAlreadyActive"), "Run v1 of 2026-10 is already Running.")
    assert _answer(exc).data == {"detail": "Run v1 of 2026-10 is already Running.", "run": 7}


def test_djangos_validation_error_is_a_400_with_its_messages():
    flat = _answer(DjangoValidationError(["First problem.", "Second problem."]))
    assert flat.status_code == 400 and flat.data == {"detail": "First problem. Second problem."}
    by_field = _answer(DjangoValidationError({"code": ["Plan with this code already exists."]}))
    assert by_field.status_code == 400
    assert by_field.data == {
        "detail": "Plan with this code already exists.",
        "fields": {"code": ["Plan with this code already exists."]},
    }


def test_a_protected_delete_is_a_409_and_the_rest_is_drfs():
    with translation.override("en"):
        protected = _answer(ProtectedError("protected", set()))
    assert protected.status_code == 409
    assert protected.data["detail"].endswith("it cannot be deleted.")
    assert _answer(NotFound()).status_code == 404
    assert _answer(ValueError("a bug")) is None  # a server error, never dressed up as a refusal


def test_a_page_shows_the_refusal_in_the_same_words(rf):
    request = rf.post("/hr/")
    SessionMiddleware(lambda r: None).process_request(request)
    MessageMiddleware(lambda r: None).process_request(request)
    refusal = _raised(_error_class("PeriodStateError"), "2026-10 is closed.")
    with errors.refusal_shown(request):
        raise refusal
    with errors.refusal_shown(request):
        pass  # nothing refused, nothing said
    assert (
        [str(m) for m in get_messages(request)]
        == [str(refusal)]
        == [_answer(refusal).data["detail"]]
    )
    with pytest.raises(ValueError), errors.refusal_shown(request):
        raise ValueError("a bug")  # not a refusal: still a server error

    def check():
        raise refusal

    assert errors.refusal_of(check) == "2026-10 is closed."
    assert errors.refusal_of(lambda: None) == ""
