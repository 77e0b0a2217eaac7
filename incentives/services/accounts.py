"""Service accounts: a payroll, BI or ACD system calls the API as a user with a role and a token, so
it reads and writes exactly what that role allows. HR creates them and revokes them on its own page
(``/hr/api-access/``); ``manage.py drf_create_token`` stays for the operator."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from calls.errors import DomainError
from calls.roles import HR, LEAD

# The roles a system may hold: HR's (payroll export, imports) or a lead's (its teams); an agent's
# role is a person's.
SERVICE_ROLES = (HR, LEAD)
NAME = re.compile(r"^[\w.@+-]{3,150}$")


class AccountRefused(DomainError):
    """A service account that cannot be created as asked; ``field``: the field at fault, if one."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@transaction.atomic
def service_account_create(*, name: str, role: str, teams=()) -> tuple[object, str]:
    """A user for a system: no password (it cannot log in on the pages), the role's group, for a
    lead's role the teams it reads, and its token. Returns the user and the token's key, which HR
    copies once: it is not shown again."""
    name = name.strip()
    if not NAME.match(name):
        raise AccountRefused(
            _("Name the account with 3 to 150 letters, digits or . @ + - _ (e.g. payroll-system)."),
            field="name",
        )
    if role not in SERVICE_ROLES:
        raise AccountRefused(_("A service account holds HR's role or a team lead's."), field="role")
    teams = list(teams)
    if role == LEAD and not teams:
        raise AccountRefused(
            _("A team lead's account reads its teams: choose at least one."), field="teams"
        )
    users = get_user_model()
    if users.objects.filter(username__iexact=name).exists():
        raise AccountRefused(_("%(name)s is taken already.") % {"name": name}, field="name")
    user = users(username=name)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get(name=role))
    for team in teams:
        team.leads.add(user)
    return user, Token.objects.create(user=user).key


@transaction.atomic
def service_account_revoke(*, user) -> None:
    """Its token deleted (the next call with it is refused) and the account switched off, so that a
    new token cannot be made for it by mistake."""
    Token.objects.filter(user=user).delete()
    user.is_active = False
    user.save(update_fields=["is_active"])
