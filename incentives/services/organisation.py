"""Writes to the organisation: agents and their dated placements in teams and groups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from calls.errors import DomainError, delete_or_refuse
from incentives.models import Agent, Channel, Group, Level, Placement, Region, Team


class OrganisationError(DomainError):
    """A change to the organisation that would break its history; the message says which and why."""


@transaction.atomic
def agent_create(
    *,
    employee_id: str,
    name: str,
    team: Team,
    placed_from: dt.date,
    group: Group | None = None,
    level: str = Level.JUNIOR,
    channel: str = Channel.INBOUND,
    base_pay: Decimal | None = None,
    hire_date: dt.date | None = None,
    user=None,
) -> Agent:
    """A new agent, placed in ``team`` (and ``group``) from ``placed_from``."""
    agent = Agent(
        employee_id=employee_id,
        name=name,
        level=level,
        channel=channel,
        base_pay=base_pay,
        hire_date=hire_date,
        user=user,
    )
    agent.full_clean()
    agent.save()
    agent_place(agent=agent, team=team, group=group, valid_from=placed_from)
    return agent


@transaction.atomic
def agent_place(
    *, agent: Agent, team: Team, valid_from: dt.date, group: Group | None = None
) -> Placement:
    """Move an agent to a team (and group) from a date; the placement before it ends the day before.

    Moves are appended to the history: a move dated on or before the start of the agent's latest
    placement is refused, so history is never rewritten (a statement already computed says where the
    agent was). A move to the same team and group is a no-op.
    """
    if group is not None and group.team_id != team.pk:
        raise OrganisationError(f"Group {group} belongs to team {group.team}, not to {team}.")
    Agent.objects.select_for_update().get(pk=agent.pk)  # one move of an agent at a time
    latest = Placement.objects.filter(agent=agent).order_by("-valid_from").first()
    if latest is not None:
        if latest.team_id == team.pk and latest.group_id == (group.pk if group else None):
            if latest.valid_to is None:
                return latest
        if valid_from <= latest.valid_from:
            raise OrganisationError(
                f"{agent} is placed in {latest.group or latest.team} from {latest.valid_from}; a move must "
                f"be dated after that (got {valid_from})."
            )
        if latest.valid_to is None or latest.valid_to >= valid_from:
            latest.valid_to = valid_from - dt.timedelta(days=1)
            latest.full_clean()
            latest.save(update_fields=["valid_to"])
    placement = Placement(agent=agent, team=team, group=group, valid_from=valid_from)
    placement.full_clean()
    placement.save()
    return placement


def region_delete(*, region: Region) -> None:
    """Delete a region no team belongs to; otherwise ``StillReferred`` names the teams."""
    delete_or_refuse(region)


def team_delete(*, team: Team) -> None:
    """Delete a team nothing refers to: a team with groups, placements (past ones too), statements
    or reviews is history, and ``StillReferred`` says which and how many."""
    delete_or_refuse(team)


def group_delete(*, group: Group) -> None:
    """Delete a group no placement refers to; otherwise ``StillReferred`` says how many do."""
    delete_or_refuse(group)
