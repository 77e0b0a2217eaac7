"""Roles and the deny-by-default gate, for pages and the API alike.

A role is a Django auth group: HR, Team lead, Agent (created by a migration of this app). A page is
reachable only if its view declares the roles it admits with ``@roles_required(...)``, or is marked
``@public``; a view that declares nothing is refused, so forgetting the declaration fails closed.
API views declare ``allowed_roles`` on the class and the default permission ``HasRole`` checks it.

This lives on the ground floor because every floor's views need it. Which *objects* a user may see
(an agent only their own statements, a lead their team's) is decided by the selectors of the app that
owns the objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

HR = "HR"
LEAD = "Team lead"
AGENT = "Agent"
ROLES = (HR, LEAD, AGENT)

_PUBLIC = frozenset({"__public__"})
# What HR may do in the admin: everything on our floors and the schedules; read the audit trail.
HR_ADMIN_APPS = ("calls", "incentives", "reports", "django_celery_beat")
HR_READ_APPS = ("auditlog",)


def roles_sync(**kwargs) -> None:
    """Make sure the three roles exist and HR holds its admin permissions.

    Connected to ``post_migrate`` (calls.apps), where Django itself creates permissions, so a fresh
    database — and a test database after a flush — always has the roles. Idempotent.
    """
    from django.contrib.auth.models import Group, Permission

    for name in ROLES:
        Group.objects.get_or_create(name=name)
    hr = Group.objects.get(name=HR)
    permissions = Permission.objects.filter(
        content_type__app_label__in=HR_ADMIN_APPS
    ) | Permission.objects.filter(
        content_type__app_label__in=HR_READ_APPS, codename__startswith="view_"
    )
    hr.permissions.add(*permissions)


def user_roles(user) -> frozenset[str]:
    """The roles of a user, read once per request and kept on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def roles_required(*roles: str) -> Callable:
    """Admit a page view to users holding any of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"roles_required needs roles from {ROLES}, got {roles}")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            _check(request, frozenset(roles))
            return view(request, *args, **kwargs)

        # A mark the role check reads (a function has no declared attributes, hence the ignore).
        wrapper.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def public(view: Callable) -> Callable:
    """Mark a page that anyone may open (the login page, the language switch)."""
    view.allowed_roles = _PUBLIC  # type: ignore[attr-defined]  # a mark, as above
    return view


def _check(request, allowed: Iterable[str]) -> None:
    if not (user_roles(request.user) & set(allowed)):
        raise PermissionDenied("Your role does not give access to this page.")


class RoleRequiredMiddleware:
    """Refuse every page whose view has not declared who may open it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        allowed = getattr(view_func, "allowed_roles", None)
        if allowed is _PUBLIC:
            return None
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            return None  # the admin checks staff status and model permissions itself
        if getattr(view_func, "cls", None) is not None and hasattr(
            view_func.cls, "permission_classes"
        ):
            return None  # a DRF view: HasRole decides, and answers in JSON
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if allowed is None:
            raise PermissionDenied("This page has not declared who may open it.")
        _check(request, allowed)
        return None


class HasRole(BasePermission):
    """The API's default permission: the view's ``allowed_roles`` must meet the user's roles; for a
    write (POST, PUT, PATCH, DELETE) ``write_roles`` when the view has them (e.g. leads read, HR writes)."""

    message = "Your role does not give access to this resource."

    def has_permission(self, request, view) -> bool:
        allowed = None
        if request.method not in SAFE_METHODS:
            allowed = getattr(view, "write_roles", None)
        allowed = allowed or getattr(view, "allowed_roles", None)
        if not allowed:
            return False
        return bool(user_roles(request.user) & set(allowed))


def roles_context(request) -> dict:
    """Template context: which roles the user holds, for menus."""
    roles = user_roles(getattr(request, "user", None))
    return {
        "user_roles": roles,
        "is_hr": HR in roles,
        "is_lead": LEAD in roles,
        "is_agent": AGENT in roles,
    }
