"""The demo contact center: two teams, twenty agents, a user per role, a plan, a month of calls.

Idempotent: everything is keyed (usernames, employee ids, plan code, call ids from a seeded generator),
so seeding twice leaves the same data, and a month already computed is not computed again.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup
from django.db import transaction
from django.utils import timezone

from calls.generator import csv_lines, generate_calls
from calls.months import center_tz, month_first_last_day, previous_month
from calls.roles import AGENT, HR, LEAD
from calls.services import ImportRefused, facts_import
from incentives.models import Agent, Group, Level, Period, Plan, Region, Run, Team
from incentives.presets import ANSWER_PRIORITY
from incentives.services import (
    agent_create,
    period_approve,
    period_get_or_create,
    plan_create_from_preset,
    presets_load,
    run_start,
)

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed on screen for the demo; never a real account
TEAMS = (
    ("hotline-a", "热线一组 Hotline A", "A"),
    ("hotline-b", "热线二组 Hotline B", "B"),
)
AGENTS_PER_TEAM = 10
DEMO_PLAN_CODE = "demo-answer-priority"
# Everyone in the demo joined, and its plan took effect, on this day: before any month it seeds.
DEMO_START = dt.date(2025, 1, 1)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


@dataclass
class DemoSummary:
    year: int
    month: int
    logins: list[tuple[str, str]] = field(default_factory=list)  # (role, username)
    calls_created: int = 0
    calls_unchanged: int = 0
    computed: bool = False
    run: Run | None = None


def _user(username: str, *, role: str, first_name: str = "", staff: bool = False):
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "is_staff": staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(AuthGroup.objects.get_or_create(name=role)[0])
    return user


@transaction.atomic
def _organisation() -> tuple[list[Agent], list[tuple[str, str]]]:
    logins = [(HR, "hr")]
    hr = _user("hr", role=HR, first_name="人力资源 HR", staff=True)
    if not hr.is_superuser:
        hr.is_superuser = True  # the demo's HR user administers everything in the admin
        hr.save(update_fields=["is_superuser"])
    region, _ = Region.objects.get_or_create(code="east", defaults={"name": "华东 East"})
    agents = []
    for team_index, (code, name, letter) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(code=code, defaults={"name": name, "region": region})
        groups = [
            Group.objects.get_or_create(
                team=team, code=f"{code}-g{n}", defaults={"name": f"{letter}{n} 组"}
            )[0]
            for n in (1, 2)
        ]
        lead = _user(f"lead_{letter.lower()}", role=LEAD, first_name=f"主管 Lead {letter}")
        team.leads.add(lead)
        logins.append((LEAD, lead.username))
        for number in range(1, AGENTS_PER_TEAM + 1):
            employee_id = f"{letter}{number:02d}"
            index = team_index * AGENTS_PER_TEAM + number - 1
            person = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
            user = _user(employee_id.lower(), role=AGENT, first_name=person)
            agent = Agent.objects.filter(employee_id=employee_id).first()
            if agent is None:
                agent = agent_create(
                    employee_id=employee_id,
                    name=person,
                    team=team,
                    group=groups[(number - 1) // 5],
                    placed_from=DEMO_START,
                    hire_date=DEMO_START,
                    user=user,
                    level=Level.SENIOR if number <= 3 else Level.JUNIOR,
                    base_pay=Decimal("6000.00") + Decimal(number * 100),
                )
            agents.append(agent)
            if number == 1:
                logins.append((AGENT, user.username))
    if not Plan.objects.filter(code=DEMO_PLAN_CODE).exists():
        plan_create_from_preset(
            preset=ANSWER_PRIORITY,
            code=DEMO_PLAN_CODE,
            name=f"{ANSWER_PRIORITY.name} (demo)",
            teams=list(Team.objects.filter(code__in=[code for code, _n, _l in TEAMS])),
            effective_from=DEMO_START,
            activate=True,
        )
    presets_load(effective_from=DEMO_START)
    return agents, logins


def _this_month_so_far(agents) -> None:
    """The current month's calls up to now, so that the dashboards' today and this week and the
    agents' month so far have something to show (the same generator; calls after now are left out)."""
    now = timezone.localtime(timezone.now(), center_tz())
    first_day = now.date().replace(day=1)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    generated = generate_calls(
        employee_ids=[agent.employee_id for agent in agents],
        first_day=first_day,
        days=now.day,
        calls_per_agent_day=40,
        seed=now.year * 100 + now.month,
        prefix=f"DEMO{now.year}{now.month:02d}",
    )
    rows = [row for row in generated if row["entered_at"] <= stamp]
    if not rows:  # the first minutes of a month: nothing yet
        return
    with tempfile.TemporaryFile() as stream:
        for line in csv_lines(rows):
            stream.write(line.encode("utf-8"))
        batch = facts_import(
            stream=stream,
            filename=f"demo-{first_day:%Y-%m}-so-far.csv",
            kind="calls",
            source="demo-acd",
        )
    if batch.errors:
        raise ImportRefused(f"The demo's own calls did not import: {batch.errors[:3]}")


def demo_seed(*, year: int | None = None, month: int | None = None) -> DemoSummary:
    """Seed the demo center with a month of calls (by default the month that has just ended), import
    them through the real CSV importer, and compute and approve the month if it was not yet."""
    if year is None or month is None:
        year, month = previous_month()
    first_day, last_day = month_first_last_day(year, month)
    agents, logins = _organisation()
    summary = DemoSummary(year=year, month=month, logins=logins)

    rows = generate_calls(
        employee_ids=[agent.employee_id for agent in agents],
        first_day=first_day,
        days=(last_day - first_day).days + 1,
        calls_per_agent_day=40,
        seed=year * 100 + month,
        prefix=f"DEMO{year}{month:02d}",
    )
    with tempfile.TemporaryFile() as stream:
        for line in csv_lines(rows):
            stream.write(line.encode("utf-8"))
        batch = facts_import(
            stream=stream, filename=f"demo-{year}-{month:02d}.csv", kind="calls", source="demo-acd"
        )
    if batch.errors:
        raise ImportRefused(f"The demo's own calls did not import: {batch.errors[:3]}")
    summary.calls_created, summary.calls_unchanged = batch.rows_created, batch.rows_unchanged

    _this_month_so_far(agents)
    period = period_get_or_create(year=year, month=month)
    done = period.runs.filter(status=Run.Status.DONE).order_by("-number").first()
    if done is None:
        run = run_start(period=period)
        summary.computed = True
    else:
        run = done
    summary.run = run
    period.refresh_from_db()
    if run.status == Run.Status.DONE and period.status == Period.Status.COMPUTED:
        period_approve(period=period, run=run)
    return summary
