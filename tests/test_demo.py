"""The demo seeding: works on an empty database, and a second time without duplicates; from the first
minute it shows six months of history, open alerts on a lead's team, reviews at every stage, an open
question, a pilot team on a plan of its own and a draft ready for the what-if."""

import datetime as dt
import io
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from calls.models import Call, ImportBatch
from calls.months import center_tz
from incentives.demo import DEMO_PASSWORD, DEMO_PLAN_CODE, PILOT, PILOT_TEAM
from incentives.models import (
    ActionItem,
    Agent,
    AgreedTarget,
    Dispute,
    Period,
    Plan,
    PlanVersion,
    Review,
    RootCause,
    Run,
    Statement,
    TargetOverride,
    Team,
)
from reports import selectors
from reports.demo import demo_alerts, demo_seed_all, open_alerts
from reports.models import Alert, AlertRule

YEAR, MONTH = 2026, 2  # the demo month: its history is 2025-09 … 2026-02


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "agents": Agent.objects.count(),
        "plans": Plan.objects.count(),
        "versions": PlanVersion.objects.count(),
        "periods": Period.objects.count(),
        "runs": Run.objects.count(),
        "statements": Statement.objects.count(),
        "reviews": Review.objects.count(),
        "stages": sorted(Review.objects.values_list("stage", flat=True)),
        "root causes": RootCause.objects.count(),
        "actions": ActionItem.objects.count(),
        "agreed targets": AgreedTarget.objects.count(),
        "target overrides": TargetOverride.objects.count(),
        "questions": Dispute.objects.count(),
        "answered": Dispute.objects.filter(answered_at__isnull=False).count(),
        "alert rules": AlertRule.objects.count(),
        # These two grow with the clock: this month's calls so far, and the alerts of this hour.
        "calls": Call.objects.count(),
        "alerts": Alert.objects.count(),
    }


# Transactional: the runs are enqueued at commit and, with no broker, computed in process then. One test
# for the whole demo, its parts checked one by one below: seeding six months is the slow part.
@pytest.mark.django_db(transaction=True)
def test_the_demo_on_an_empty_database_and_again(client):
    first = demo_seed_all(year=YEAR, month=MONTH)
    counts = _counts()
    out = io.StringIO()
    call_command("seed_demo", year=YEAR, month=MONTH, stdout=out)
    seeded = SimpleNamespace(first=first, counts=counts, again=_counts(), output=out.getvalue())

    _six_months_imported_computed_and_approved(seeded)
    _a_second_seeding_changes_nothing(seeded)
    _an_alert_is_open_on_a_leads_team(seeded)
    _reviews_of_the_demo_month_at_every_stage(seeded)
    _an_open_question_and_an_answered_one(seeded)
    _a_pilot_team_on_a_plan_of_its_own(seeded)
    _the_summary_says_what_was_seeded(seeded)
    _a_draft_ready_for_the_what_if(seeded, client)
    client.logout()
    _the_demo_agent_logs_in_and_sees_their_statement(client)
    _alerts_fall_back_to_the_end_of_the_demo_month()  # last: it deletes the alerts


def _six_months_imported_computed_and_approved(seeded):
    counts, first = seeded.counts, seeded.first
    assert counts["teams"] == 2 and counts["agents"] == 20 and counts["users"] == 23
    # The demo plan, the pilot's plan and the five presets as drafts.
    assert counts["plans"] == 7 and counts["runs"] == 6 and counts["statements"] == 6 * 20
    months = [(m.year, m.month) for m in first.months]
    assert months == [(2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    approved = Period.objects.filter(status=Period.Status.APPROVED).order_by("year", "month")
    assert [(p.year, p.month) for p in approved] == months
    for period, month in zip(approved, first.months, strict=True):
        assert month.computed and month.approved and period.approved_run == month.run
        assert period.approved_run.statements.count() == 20
        assert month.calls_created > 20 * 28 * 20  # about 40 a day per agent
    # And this month's calls up to now, for the dashboards' today and the agents' month so far.
    now = timezone.now()
    so_far = Call.objects.filter(external_id__startswith=f"DEMO{timezone.localtime(now):%Y%m}")
    assert so_far.exists() and not so_far.filter(started_at__gt=now).exists()
    assert counts["calls"] == first.calls_created + so_far.count()


def _a_second_seeding_changes_nothing(seeded):
    counts, again = dict(seeded.counts), dict(seeded.again)
    # This month's calls may have grown by those started since, and the alerts of a new hour with
    # them; nothing else has.
    assert again.pop("calls") >= counts.pop("calls") and again.pop("alerts") >= counts.pop("alerts")
    assert again == counts
    # Approved months are not imported again: the second seeding imported this month's calls only.
    assert ImportBatch.objects.count() == 6 + 2
    assert seeded.output.count("approved already") == 6


def _an_alert_is_open_on_a_leads_team(seeded):
    assert seeded.first.alerts_open and sum(seeded.first.alerts_open.values()) >= 1
    led = Team.objects.filter(leads__isnull=False)
    assert Alert.objects.filter(acknowledged_at__isnull=True, team__in=led).exists()
    assert set(seeded.first.alerts_open) <= set(led.values_list("name", flat=True))
    assert sum(open_alerts().values()) >= sum(seeded.first.alerts_open.values())


def _alerts_fall_back_to_the_end_of_the_demo_month():
    """In the first minutes of a month nothing has the volume a rule asks for: the rules are then
    evaluated as the demo month ended."""
    Alert.objects.all().delete()
    tz = center_tz()
    first_minutes = dt.datetime(2026, 3, 1, 0, 5, tzinfo=tz)  # no call yet in March 2026
    opened = demo_alerts(year=YEAR, month=MONTH, now=first_minutes)
    assert sum(opened.values()) >= 1
    february, march = dt.datetime(2026, 2, 1, tzinfo=tz), dt.datetime(2026, 3, 1, tzinfo=tz)
    starts = set(Alert.objects.values_list("window_start", flat=True))
    assert february in starts  # "this month" as February ended
    assert all(february <= start < march for start in starts)


def _reviews_of_the_demo_month_at_every_stage(seeded):
    period = Period.objects.get(year=YEAR, month=MONTH)
    assert seeded.first.reviews == {"review": 6, "consensus": 6, "forward": 4, "done": 4}
    stages = set(Review.objects.filter(period=period).values_list("stage", flat=True))
    assert stages == set(Review.Stage.values)
    # The agent who logs in (a01) has the consensus to acknowledge: signed by the lead, not by them.
    a01 = Review.objects.get(period=period, agent__employee_id="A01")
    assert a01.stage == Review.Stage.CONSENSUS
    assert a01.consensus_signed_at is not None and a01.consensus_acknowledged_at is None
    # A completed review saved the agreed targets as next month's overrides, as the service does.
    done = Review.objects.filter(period=period, stage=Review.Stage.DONE).first()
    assert done.target_period == Period.objects.get(year=2026, month=3)
    assert TargetOverride.objects.filter(agent=done.agent, period=done.target_period).exists()


def _an_open_question_and_an_answered_one(seeded):
    question = seeded.first.open_question
    assert question is not None and question.answered_at is None and question.answer == ""
    assert question.raised_by == question.statement.agent.user
    assert question.statement.run == Period.objects.get(year=YEAR, month=MONTH).approved_run
    assert Dispute.objects.filter(answered_at__isnull=True).count() == 1
    answered = Dispute.objects.get(answered_at__isnull=False)
    assert answered.answered_by.username == "hr" and answered.answer


def _a_pilot_team_on_a_plan_of_its_own(seeded):
    def plans_paid(year, month):
        run = Period.objects.get(year=year, month=month).approved_run
        return set(
            Statement.objects.filter(run=run).values_list(
                "team__code", "plan_version__plan__code", "plan_version__number"
            )
        )

    # Before the pilot: one plan for both teams; for the last three months, Hotline B on the pilot.
    assert plans_paid(2025, 11) == {
        ("hotline-a", DEMO_PLAN_CODE, 1),
        ("hotline-b", DEMO_PLAN_CODE, 1),
    }
    for year, month in ((2025, 12), (2026, 1), (2026, 2)):
        assert plans_paid(year, month) == {
            ("hotline-a", DEMO_PLAN_CODE, 2),
            (PILOT_TEAM, PILOT.code, 1),
        }
    assert seeded.first.pilot_team.code == PILOT_TEAM
    comparison = selectors.plan_comparison(period=Period.objects.get(year=YEAR, month=MONTH))
    assert [row.agents for row in comparison.rows] == [10, 10]


def _a_draft_ready_for_the_what_if(seeded, client):
    draft, period = seeded.first.whatif_version, seeded.first.period
    assert draft.status == PlanVersion.Status.DRAFT and draft.plan.code == PILOT.code
    assert {team.code for team in draft.teams.all()} == {"hotline-a", "hotline-b"}
    url = re.search(r"http://127\.0\.0\.1:8000(/hr/what-if/\?\S+)", seeded.output).group(1)
    assert url == f"/hr/what-if/?version={draft.pk}&period={period.pk}"
    client.post("/accounts/login/", {"username": "hr", "password": DEMO_PASSWORD})
    page = client.get(url)
    assert page.status_code == 200 and len(page.context["result"].rows) == 20


def _the_demo_agent_logs_in_and_sees_their_statement(client):
    # (Through the log-in page, as a person does: the lockout's backend needs the request.)
    page = client.post(
        "/accounts/login/", {"username": "a01", "password": DEMO_PASSWORD}, follow=True
    )
    assert page.redirect_chain[-1][0] == "/me/"
    statement = Statement.objects.get(
        agent__employee_id="A01", run=Period.objects.get(year=YEAR, month=MONTH).approved_run
    )
    line = statement.lines.get(metric="answer_rate")
    assert statement.lines.count() == 3  # answer rate, speed of answer, first-correct transfers
    html = page.content.decode()
    assert f"{int(line.numerator):,} of {int(line.denominator):,}" in html
    assert f"{statement.amount:,.2f}" in html


def _the_summary_says_what_was_seeded(seeded):
    out = seeded.output
    assert "Demo history: 2025-09 to 2026-02, 6 months" in out
    assert "Open alerts on the leads' teams:" in out
    assert "Reviews of 2026-02 by stage:" in out and "Completed 4" in out
    assert "An open question from" in out and "/questions/" in out
    assert "Pilot: 热线二组 Hotline B on" in out and "/hr/plans/" in out
