"""Serve a 500-agent team's dashboard and time it.

Target (the dashboards' issue): on the benchmark data a 500-agent team's dashboard is served in under
300 ms, and its number of queries does not depend on the number of agents.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incentives_bench_dashboard .venv/bin/python benchmarks/dashboard.py

The set-up — one team of 500 agents with a lead, the 6-metric plan of ``compute_month.py`` and the
month's generated calls up to today (17 an agent a day) — is built once and reused (``--rebuild``). The
page is requested through Django's test client, logged in as the lead, 15 times per window (today, this
week, this month) after one warm-up; the figure is the median of the slowest window.
Last line: ``dashboard: median_ms=<x> (target 300)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.compute_month import _copy_calls, plan_preset  # noqa: E402
from calls.generator import generate_calls  # noqa: E402
from calls.models import Call, ImportBatch  # noqa: E402
from calls.roles import LEAD, roles_sync  # noqa: E402
from incentives.models import Agent, PlanVersion, Team  # noqa: E402
from incentives.services import agent_create, plan_create_from_preset  # noqa: E402

TARGET_MS = 300
AGENTS = 500
TEAM = "bench-dashboard"
REPEAT = 15


def setup(*, rebuild: bool) -> Team:
    call_command("migrate", verbosity=0)
    roles_sync()
    team, _ = Team.objects.get_or_create(code=TEAM, defaults={"name": "Benchmark team"})
    have = set(
        Agent.objects.filter(employee_id__startswith="DASH").values_list("employee_id", flat=True)
    )
    for n in range(AGENTS):
        if f"DASH{n:04d}" not in have:
            agent_create(
                employee_id=f"DASH{n:04d}",
                name=f"Dash {n}",
                team=team,
                placed_from=dt.date(2020, 1, 1),
            )
    if not PlanVersion.objects.filter(plan__code="bench-dashboard").exists():
        plan_create_from_preset(
            preset=plan_preset(fcr=False),
            code="bench-dashboard",
            teams=[team],
            effective_from=dt.date(2020, 1, 1),
            activate=True,
        )
    today = timezone.localdate()
    first = today.replace(day=1)
    ids = [f"DASH{n:04d}" for n in range(AGENTS)]
    if (
        rebuild
        or not Call.objects.filter(
            agent__employee_id="DASH0000", started_at__date__gte=first
        ).exists()
    ):
        Call.objects.filter(agent__employee_id__startswith="DASH").delete()
        batch = ImportBatch.objects.create(
            source="bench-dashboard", filename="dashboard.py", status="applied"
        )
        rows = generate_calls(
            employee_ids=ids,
            first_day=first,
            days=today.day,
            calls_per_agent_day=17,
            seed=7,
            prefix=f"DB{first:%Y%m}",
        )
        agent_pk = dict(Agent.objects.filter(employee_id__in=ids).values_list("employee_id", "pk"))
        count = _copy_calls(rows, 10**9, agent_pk, batch.pk)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE calls_call")
        print(f"set-up: {count:,} calls for {AGENTS} agents from {first} to {today}")
    lead, _ = get_user_model().objects.get_or_create(username="bench-dashboard-lead")
    lead.groups.add(Group.objects.get(name=LEAD))
    team.leads.add(lead)
    return team


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database.")
    team = setup(rebuild=args.rebuild)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(team.leads.get())
    medians = {}
    for window in ("today", "week", "month"):
        url = f"/team/{team.code}/dashboard/?window={window}"
        assert client.get(url).status_code == 200  # warm-up
        timings = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        medians[window] = statistics.median(timings)
        print(
            f"{window}: median {medians[window]:.0f} ms of {REPEAT} requests, {len(queries)} queries"
        )
    worst = max(medians.values())
    print(f"dashboard: median_ms={worst:.0f} (target {TARGET_MS})")


if __name__ == "__main__":
    main()
