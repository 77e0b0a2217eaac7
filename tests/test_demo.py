"""The demo seeding: works on an empty database, and a second time without duplicates."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from calls.models import Call, ImportBatch
from incentives.demo import DEMO_PASSWORD, demo_seed
from incentives.models import Agent, Period, Plan, Run, Statement, Team


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "agents": Agent.objects.count(),
        "plans": Plan.objects.count(),
        "calls": Call.objects.count(),
        "runs": Run.objects.count(),
        "statements": Statement.objects.count(),
    }


# Transactional: the demo's run is enqueued at commit and, with no broker, computed in process then.
@pytest.mark.django_db(transaction=True)
def test_demo_seed_on_an_empty_database_and_again(client):
    first = demo_seed(year=2026, month=2)
    counts = _counts()
    assert (
        counts["teams"] == 2 and counts["agents"] == 20 and counts["users"] == 23
    )  # HR, 2 leads, 20
    # The demo's plan (preset A, in force for both teams) and the five presets as drafts.
    assert counts["plans"] == 6 and counts["runs"] == 1 and counts["statements"] == 20
    assert first.calls_created > 20 * 28 * 20  # about 40 a day per agent
    # And this month's calls up to now, for the dashboards' today and the agents' month so far.
    now = timezone.now()
    so_far = Call.objects.filter(external_id__startswith=f"DEMO{timezone.localtime(now):%Y%m}")
    assert so_far.exists() and not so_far.filter(started_at__gt=now).exists()
    assert counts["calls"] == first.calls_created + so_far.count()
    period = Period.objects.get(year=2026, month=2)
    assert period.status == Period.Status.APPROVED and period.approved_run == first.run

    second = demo_seed(year=2026, month=2)
    again = _counts()
    # This month's calls may have grown by those started since; nothing else has.
    assert again.pop("calls") >= counts.pop("calls") and again == counts
    assert second.calls_created == 0 and second.calls_unchanged == first.calls_created
    assert not second.computed
    assert ImportBatch.objects.count() == 4  # each seeding records its two imports

    # The demo agent logs in and sees a statement computed from the generated calls.
    # (Through the log-in page, as a person does: the lockout's backend needs the request.)
    page = client.post(
        "/accounts/login/", {"username": "a01", "password": DEMO_PASSWORD}, follow=True
    )
    assert page.redirect_chain[-1][0] == "/me/"
    statement = Statement.objects.get(agent__employee_id="A01")
    line = statement.lines.get(metric="answer_rate")
    assert statement.lines.count() == 3  # answer rate, speed of answer, first-correct transfers
    html = page.content.decode()
    assert f"{int(line.numerator):,} of {int(line.denominator):,}" in html
    assert f"{statement.amount:,.2f}" in html
