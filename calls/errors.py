"""Domain errors, and the one way they reach people: the API's exception handler and the pages'.

A service refuses with a typed error whose message says why, in words HR can act on. The API answers
it (``api_exception_handler``, ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``) with the error's status —
400 when the request asks for something the rules forbid, 409 when the present state of what it names
forbids it — and ``{"detail": message}``; a page shows the same message: a refusal it expects with
``refusal_shown`` (or ``refusal_of`` on a confirmation page), one it did not with
``DomainErrorMiddleware``; the admin's forms and delete pages ask the same services. A delete the
database refuses because other rows still refer to the object (``ProtectedError``) is a 409 that names
what still refers to it, never a 500.

It lives on the ground floor because every floor's services raise these errors and every floor's
views show them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import router, transaction
from django.db.models import Model, ProtectedError, RestrictedError
from django.db.models.deletion import Collector
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback


class DomainError(Exception):
    """A refusal by a service; its message says why. The request asks for what the rules forbid."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def payload(self) -> dict:
        """What the API answers beside ``detail`` (e.g. a plan's problems, the run already active)."""
        return {}


class Conflict(DomainError):
    """The present state of the object forbids the request (locked, in use, already running)."""

    status_code = status.HTTP_409_CONFLICT


class StillReferred(Conflict):
    """A delete refused because other records still refer to the object; the message names them."""

    def __init__(self, obj: Model | None, referring: Iterable[Model]):
        super().__init__(referred_message(obj, referring))
        self.obj = obj


def referred_message(obj: Model | None, referring: Iterable[Model]) -> str:
    """'Team A is still referred to by 3 groups, 12 placements and 2 statements; it cannot be
    deleted.' — counted by model, in the model's own (translated) names."""
    counts = Counter(type(row) for row in referring)
    parts = [
        f"{n} {model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural}"
        for model, n in sorted(counts.items(), key=lambda item: str(item[0]._meta.verbose_name))
    ]
    uses = str(get_text_list(parts, _("and"))) if parts else _("other records")
    if obj is None:
        return _("This is still referred to by %(uses)s; it cannot be deleted.") % {"uses": uses}
    return _("%(object)s is still referred to by %(uses)s; it cannot be deleted.") % {
        "object": obj,
        "uses": uses,
    }


def _referring(exc: ProtectedError | RestrictedError) -> Iterable[Model]:
    if isinstance(exc, ProtectedError):
        return exc.protected_objects
    return exc.restricted_objects


def delete_refusal(obj: Model) -> str | None:
    """Why deleting ``obj`` would be refused by the database's references, or None: the same dry
    run the admin makes before its confirmation page."""
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except (ProtectedError, RestrictedError) as exc:
        return referred_message(obj, _referring(exc))
    return None


def delete_or_refuse(obj: Model) -> None:
    """Delete ``obj`` and what cascades from it, or raise ``StillReferred`` naming what refers to it.
    In a savepoint of its own, so that a refusal leaves the caller's transaction usable."""
    try:
        with transaction.atomic(using=router.db_for_write(type(obj))):
            obj.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise StillReferred(obj, _referring(exc)) from exc


def error_message(exc: Exception) -> str | None:
    """The words a person is shown for ``exc``, or None when it is not a refusal we know."""
    if isinstance(exc, DomainError):
        return str(exc)
    if isinstance(exc, ProtectedError | RestrictedError):
        return referred_message(None, _referring(exc))
    return None


# --- the API -------------------------------------------------------------------------------------


def api_exception_handler(exc, context):
    """The API's one exception handler: a domain error becomes its status and ``{"detail": message}``
    (plus its payload); a database refusal to delete a 409 naming what refers to the object; a
    model's own validation (``full_clean`` in a service) a 400 with its messages. Everything else is
    DRF's (validation, 401/403/404, throttling)."""
    if isinstance(exc, ProtectedError | RestrictedError):
        exc = StillReferred(None, _referring(exc))
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(
            {"detail": str(exc), **exc.payload()},
            status=exc.status_code,
        )
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        body: dict = {"detail": " ".join(exc.messages)}
        if hasattr(exc, "error_dict"):
            body["fields"] = exc.message_dict
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


# --- pages ---------------------------------------------------------------------------------------


@contextmanager
def refusal_shown(request) -> Iterator[None]:
    """Around a page's service call, and what follows when it succeeds (its success message): a
    refusal becomes an error message in the words the API answers with, and the view goes on to its
    redirect. The pages' one way of showing a refusal they expect."""
    try:
        yield
    except DomainError as exc:
        messages.error(request, str(exc))


def refusal_of(check: Callable[[], object]) -> str:
    """The words of the refusal ``check`` raises (a service's ``…_check``), or "": what a confirmation
    page shows instead of its button."""
    try:
        check()
    except DomainError as exc:
        return str(exc)
    return ""


class DomainErrorMiddleware:
    """Pages (the admin included) show a refusal a view did not catch itself as a message, with the
    same words as the API, on the page the person came from — never a server error. DRF views never
    reach it: their handler answers first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = error_message(exception)
        if message is None:
            return None
        messages.error(request, message)
        return redirect(_back(request))


def _back(request) -> str:
    """The page the form was on (the Referer, if it is ours), else this page; never the page that
    just failed on a GET, which would fail again."""
    here = request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = referer
    else:
        target = here
    if request.method in ("GET", "HEAD") and target.endswith(here):
        return "/"
    return target
