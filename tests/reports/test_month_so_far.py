"""The agent's month so far: scored live from the data imported so far, marked provisional, never
stored, and gone once the month is approved (its statement takes over)."""

from django.utils import timezone

from incentives.models import Statement
from incentives.selectors import today
from reports.selectors import month_so_far
from tests.factories import CallFactory, PeriodFactory


def _calls(agent, answered: int, missed: int):
    now = timezone.now()
    for _ in range(answered):
        CallFactory(agent=agent, started_at=now, answered_at=now, talk_seconds=60)
    for _ in range(missed):
        CallFactory(agent=agent, started_at=now, answered_at=None, wait_seconds=30)


def test_the_agent_sees_this_months_pay_so_far_marked_provisional(client, people):
    _calls(people.agent_a, answered=19, missed=1)  # 95%: the plan's target, 100 points
    _calls(people.agent_b, answered=1, missed=9)  # someone else's calls do not count
    so_far = month_so_far(people.agent_a, day=today())
    assert so_far.problem == "" and so_far.version == people.plan
    (line,) = so_far.lines
    assert (line.numerator, line.denominator, line.value, line.score) == (19, 20, 95, 100)
    assert so_far.weighted_score == 100 and so_far.amount > 0
    client.force_login(people.agent_a.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/me/"})
    html = client.get("/me/").content.decode()
    assert "This month so far" in html and "provisional" in html and "19 of 20" in html
    assert Statement.objects.count() == 0  # nothing is written


def test_the_month_so_far_takes_as_many_queries_whatever_the_calls(
    client, people, django_assert_max_num_queries
):
    _calls(people.agent_a, answered=3, missed=1)
    client.force_login(people.agent_a.user)
    with django_assert_max_num_queries(40) as few:
        client.get("/me/")
    _calls(people.agent_a, answered=60, missed=20)
    _calls(people.agent_a2, answered=60, missed=20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/me/")


def test_once_the_month_is_approved_its_statement_replaces_the_estimate(people):
    day = today()
    period = PeriodFactory(year=day.year, month=day.month)
    assert month_so_far(people.agent_a, day=day) is not None
    from incentives.models import Run

    run = Run.objects.create(period=period, number=1, status=Run.Status.DONE)
    period.approved_run = run
    period.save(update_fields=["approved_run"])
    assert month_so_far(people.agent_a, day=day) is None


def test_an_agent_without_a_team_today_is_told_so(people):
    from incentives.models import Placement

    Placement.objects.filter(agent=people.agent_a).delete()
    so_far = month_so_far(people.agent_a, day=today())
    assert so_far.problem and so_far.lines == []
