"""Log-in lockout (django-axes) as this product shows it, and the client address it counts by.

After ``AXES_FAILURE_LIMIT`` failed log-ins for one user name from one address, that pair is locked for
``AXES_COOLOFF_TIME``: the log-in page (ours or the admin's) answers 429 and says so, in the person's
language, and even the right password is refused until the cool-off ends (or an operator resets it:
``manage.py axes_reset_username NAME``). Settings: ``LOGIN_FAILURE_LIMIT``, ``LOGIN_COOLOFF_MINUTES``,
``TRUSTED_PROXIES`` (docs/operations.md).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def lockout_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed log-ins for this user from this address: logging in is locked for %(minutes)d "
        "minute. Try again later, or ask HR to unlock it.",
        "Too many failed log-ins for this user from this address: logging in is locked for %(minutes)d "
        "minutes. Try again later, or ask HR to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The log-in page the person used, saying that the pair is locked, with status 429."""
    message = lockout_message()
    status = settings.AXES_HTTP_RESPONSE_CODE
    form = AuthenticationForm(request)
    if request.path.startswith("/admin/"):
        form.cleaned_data = {}  # an unbound form that carries the message as its error
        form.add_error(None, message)  # the admin's page shows the form's errors
        context = {
            **admin.site.each_context(request),
            "title": _("Log in"),
            "app_path": request.get_full_path(),
            "form": form,
            "username": request.POST.get("username", ""),
        }
        return render(request, "admin/login.html", context, status=status)
    context = {"form": form, "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=status)


def client_ip(request) -> str | None:
    """The address a log-in came from. ``REMOTE_ADDR`` unless ``TRUSTED_PROXIES`` proxies stand in
    front (each appends the address it saw to X-Forwarded-For): then the address the outermost
    trusted proxy saw. Never the left end of the header, which the client writes itself — a forged
    one would give each attempt a fresh address and no lockout."""
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")
