"""My pay, line by line: each line of the agent's statement leads to the agent's own calls behind it
(that month's, those its metric counts, and no one else's), is questioned from the page itself, and
is said in words; the run, the code and the fingerprint wait in "How this was computed"."""

import dataclasses
import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from calls.metrics import metric
from calls.models import Call
from calls.privacy import customer_key
from calls.roles import AGENT
from incentives import services
from incentives.models import Dispute, Run, Statement
from incentives.validation import MetricSpec
from tests.factories import (
    ANSWER_ONLY,
    AgentFactory,
    CallFactory,
    PeriodFactory,
    TeamFactory,
    UserFactory,
    plan_from_preset,
)
from tests.incentives.test_compute import OCT, _calls, _start

SEP = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)
CODE = "release-7f3a9c"

# Team C's plan: the answer rate of the "sales" queue only, and ASA over every queue (inbound calls
# answered with a known wait): two lines whose calls are two different subsets of the month's.
SPLIT = dataclasses.replace(
    ANSWER_ONLY,
    code="split",
    name="Split",
    metrics=(
        dataclasses.replace(ANSWER_ONLY.metrics[0], weight=D(50), params={"queue": "sales"}),
        MetricSpec("asa", D(50), D(40), D(20)),
    ),
)


def _approve(period, capture) -> Run:
    run = _start(period, capture)
    Run.objects.filter(pk=run.pk).update(code_version=CODE)
    services.period_approve(period=period, run=run)
    return run


def _english(client, user):
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/me/"})


def _shown_ids(client, url: str) -> set[str]:
    """The call ids a calls page lists, over all its pages."""
    shown: set[str] = set()
    page = 1
    while True:
        html = client.get(f"{url}?page={page}").content.decode()
        shown |= set(re.findall(r"<tr><td>([^<]+)</td>", html))
        if 'rel="next"' not in html:
            return shown
        page += 1


@pytest.fixture
def months(people, django_capture_on_commit_callbacks):
    """September and October approved. A1: 95/100 answered in September, 193/200 in October, every
    call from a known customer; A2 and B1 have October calls of their own."""
    _calls(people.agent_a, 95, 100, when=SEP)
    september = PeriodFactory(year=2026, month=9)
    _approve(september, django_capture_on_commit_callbacks)
    _calls(people.agent_a, 193, 200)
    _calls(people.agent_a2, 92, 100)
    _calls(people.agent_b, 9, 10)
    Call.objects.filter(agent=people.agent_a).update(customer_key=customer_key("13800000001"))
    october = PeriodFactory(year=2026, month=10)
    run = _approve(october, django_capture_on_commit_callbacks)
    return Statement.objects.get(run=run, agent=people.agent_a)


def _line_calls_url(line) -> str:
    return f"/me/lines/{line.pk}/calls/"


def test_each_line_of_my_pay_leads_to_my_own_calls_of_that_month(client, people, months):
    line = months.lines.get()
    _english(client, people.agent_a.user)
    home = client.get("/me/").content.decode()
    assert f'href="{_line_calls_url(line)}"' in home and "My calls behind this line" in home

    page = client.get(_line_calls_url(line)).content.decode()
    assert "My calls behind Answer rate, 2026-10" in page and "200 rows" in page
    october = {
        c.external_id
        for c in Call.objects.filter(
            agent=people.agent_a, started_at__gte=OCT - dt.timedelta(days=14)
        )
    }
    assert len(october) == line.denominator == 200
    assert _shown_ids(client, _line_calls_url(line)) == october  # none of September's, A2's, B1's

    # September's statement (an earlier month) lists September's 100 calls, not October's.
    september_line = Statement.objects.get(agent=people.agent_a, run__period__month=9).lines.get()
    september = _shown_ids(client, _line_calls_url(september_line))
    assert len(september) == 100 and not september & october


def test_no_customer_number_is_shown_not_even_its_key(client, people, months):
    line = months.lines.get()
    _english(client, people.agent_a.user)
    page = client.get(_line_calls_url(line)).content.decode()
    key = str(customer_key("13800000001"))
    assert Call.objects.filter(agent=people.agent_a, customer_key=int(key)).count() == 300
    assert key not in page and "13800000001" not in page
    assert "A customer's number is never kept, so it is not shown." in page


def test_nobody_else_sees_an_agents_calls_nor_questions_their_lines(
    client, people, months, django_capture_on_commit_callbacks
):
    line = months.lines.get()
    client.force_login(people.agent_b.user)  # another agent, with a statement of their own
    assert client.get(_line_calls_url(line)).status_code == 404
    assert client.post(f"/me/lines/{line.pk}/question/", {"question": "x"}).status_code == 404
    other = Statement.objects.get(run=months.run, agent=people.agent_b).lines.get()
    assert client.get(_line_calls_url(other)).status_code == 200  # their own line: theirs
    for user in (people.lead_a, people.hr):  # the lead and HR have the drill-down, not this page
        client.force_login(user)
        assert client.get(_line_calls_url(line)).status_code == 403
    assert not Dispute.objects.exists()

    # October computed again and not approved: its lines are nobody's to see yet, A1's own included.
    again = _start(months.run.period, django_capture_on_commit_callbacks)
    unapproved = Statement.objects.get(run=again, agent=people.agent_a).lines.get()
    client.force_login(people.agent_a.user)
    assert client.get(_line_calls_url(unapproved)).status_code == 404
    assert client.get(_line_calls_url(line)).status_code == 200


def test_a_lead_who_is_also_an_agent_sees_only_their_own_calls(client, people, months):
    """The lead of team A, an agent too, sees team A's statements, never its agents' calls."""
    people.lead_a.groups.add(people.agent_a.user.groups.get(name=AGENT))
    AgentFactory(employee_id="L1", name="Lead A", team=people.team_a, user=people.lead_a)
    client.force_login(people.lead_a)
    assert client.get(f"/statements/{months.pk}/").status_code == 200  # the team's statement
    assert client.get(_line_calls_url(months.lines.get())).status_code == 404  # not its calls


def test_an_agent_without_an_agent_record_gets_no_line(client, people, months):
    lone = UserFactory(username="lone", roles=[AGENT])  # an agent's role, no agent behind the login
    client.force_login(lone)
    assert client.get(_line_calls_url(months.lines.get())).status_code == 404


@pytest.fixture
def split(people, django_capture_on_commit_callbacks):
    """Team C on the SPLIT plan; C1's October: 10 inbound "sales" calls (8 answered), 5 answered
    inbound "support" calls and 1 answered outbound "support" call."""
    team_c = TeamFactory(code="team-c", name="Team C")
    c1 = AgentFactory(
        employee_id="C1",
        name="Agent C1",
        team=team_c,
        user=UserFactory(username="c1", roles=[AGENT]),
    )
    plan_from_preset(code="split", teams=[team_c], preset=SPLIT)
    for n in range(16):
        call = CallFactory(
            agent=c1,
            started_at=OCT + dt.timedelta(minutes=n),
            queue="sales" if n < 10 else "support",
            direction=Call.Direction.OUTBOUND if n == 15 else Call.Direction.INBOUND,
        )
        if n in (8, 9):
            call.answered_at = None
            call.save()
    _calls(people.agent_a, 193, 200)
    run = _approve(PeriodFactory(year=2026, month=10), django_capture_on_commit_callbacks)
    return Statement.objects.get(run=run, agent=c1)


def test_a_line_lists_the_calls_its_metric_counts(client, split):
    answer_rate = split.lines.get(metric="answer_rate")
    asa = split.lines.get(metric="asa")
    assert (answer_rate.numerator, answer_rate.denominator) == (8, 10)
    assert asa.denominator == 13
    calls = {c.external_id: c for c in Call.objects.filter(agent=split.agent)}
    _english(client, split.agent.user)

    sales = _shown_ids(client, _line_calls_url(answer_rate))
    assert sales == {i for i, c in calls.items() if c.queue == "sales"}
    assert len(sales) == answer_rate.denominator
    page = client.get(_line_calls_url(answer_rate)).content.decode()
    assert "Only the queue sales, which the plan measures." in page

    answered_inbound = _shown_ids(client, _line_calls_url(asa))
    assert answered_inbound == {
        i for i, c in calls.items() if c.direction == "inbound" and c.answered_at is not None
    }
    assert len(answered_inbound) == asa.denominator
    page = client.get(_line_calls_url(asa)).content.decode()
    assert "These are the calls Average speed of answer counts for you that month." in page


def test_a_metric_not_counted_call_by_call_shows_the_months_calls():
    assert metric("answer_rate").calls_behind({}) == (Q(), True)  # every offered call
    assert metric("answer_rate").calls_behind({"queue": "sales"}) == (Q(queue="sales"), True)
    assert metric("complaint_rate").calls_behind() == (Q(complaint__isnull=False), True)
    assert metric("csat").calls_behind({}) == (Q(), False)  # surveys: every call of the month
    assert metric("queue_answer_rate").calls_behind({"queue": "sales"}) == (Q(queue="sales"), False)


def test_a_line_questioned_from_my_pay_shows_its_question(client, people, months):
    line = months.lines.get()
    form = f'action="/me/lines/{line.pk}/question/"'
    _english(client, people.agent_a.user)
    assert form in client.get("/me/").content.decode()

    response = client.post(f"/me/lines/{line.pk}/question/", {"question": "I answered 196 calls"})
    assert response.status_code == 302 and response["Location"] == f"/me/#line-{line.pk}"
    dispute = Dispute.objects.get()
    assert (dispute.statement, dispute.line, dispute.raised_by, dispute.question) == (
        months,
        line,
        people.agent_a.user,
        "I answered 196 calls",
    )
    home = client.get("/me/").content.decode()
    assert "Your question on Answer rate is sent to HR" in home
    assert form not in home and "You questioned this line on" in home
    assert "waiting for HR's answer." in home
    # The statement's own page keeps the thread.
    assert "I answered 196 calls" in client.get(f"/statements/{months.pk}/").content.decode()

    services.dispute_answer(dispute=dispute, user=people.hr, answer="Three were transfers.")
    home = client.get("/me/").content.decode()
    assert "HR answered on" in home and "Three were transfers." in home and form not in home


def test_an_empty_question_is_refused_with_the_services_words(client, people, months):
    line = months.lines.get()
    _english(client, people.agent_a.user)
    page = client.post(
        f"/me/lines/{line.pk}/question/", {"question": "  "}, follow=True
    ).content.decode()
    assert "Say what you question about this line." in page and not Dispute.objects.exists()
    assert f'action="/me/lines/{line.pk}/question/"' in page


def _main_and_computed(html: str) -> tuple[str, str]:
    before, block = html.split('<details class="computed">', 1)
    block, after = block.split("</details>", 1)
    return before + after, block


@pytest.mark.parametrize("page", ["my pay", "statement"])
def test_the_internals_wait_in_how_this_was_computed(client, people, months, page):
    _english(client, people.agent_a.user)
    url = "/me/" if page == "my pay" else f"/statements/{months.pk}/"
    main, computed = _main_and_computed(client.get(url).content.decode())
    fingerprint = months.facts_fingerprint
    assert len(fingerprint) == 64
    for internal in (CODE, fingerprint[:12], "run v1", "rate 1.2", "Computed by code"):
        assert internal not in main, internal
    assert "paid at 120% of the target bonus, times your score of 125.00%" in main
    assert "plus a step bonus of 200.00 CNY" in main and "1,700.00 CNY" in main
    assert "How this was computed" in computed
    assert "by run 1 of 2026-10" in computed and CODE in computed and fingerprint in computed
    assert "prove the numbers were not changed afterwards" in computed


def test_the_computation_date_follows_the_language(client, people, months):
    client.force_login(people.agent_a.user)
    months.run.finished_at = dt.datetime(2026, 11, 4, 2, 0, tzinfo=dt.UTC)
    months.run.save(update_fields=["finished_at"])
    with translation.override("en"):
        client.post("/i18n/setlang/", {"language": "en", "next": "/me/"})
        assert "Computed on Nov. 4, 2026 by run 1" in client.get("/me/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/me/"})
    assert "2026年11月4日" in client.get("/me/").content.decode()


def _count(client, user) -> int:
    client.force_login(user)
    client.get("/me/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/me/").status_code == 200
    return len(captured)


def test_my_pay_takes_as_many_queries_whatever_its_lines_and_questions(client, people, split):
    """One query for the lines' questions, however many lines and questions: no query per line."""
    one_line = _count(client, people.agent_a.user)
    two_lines = _count(client, split.agent.user)
    for line in split.lines.all():
        for question in ("why?", "and why?"):
            services.dispute_raise(line=line, user=split.agent.user, question=question)
    assert _count(client, split.agent.user) == two_lines == one_line


def test_the_agent_filters_sorts_and_downloads_the_calls_behind_a_line(client, people, months):
    """The calls behind a line are a list like the others (calls.listing): filtered, sorted and
    downloaded — still only the agent's own calls of that month."""
    line = months.lines.get()
    _english(client, people.agent_a.user)
    url = _line_calls_url(line)
    unanswered = client.get(url + "?answered=no").content.decode()
    assert "7 rows" in unanswered  # 193 of 200 answered
    exported = client.get(url + "?answered=no&export=csv")
    rows = b"".join(exported).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 7 and rows[0].startswith("call,")
    ids = {row.split(",")[0] for row in rows[1:]}
    own = set(
        Call.objects.filter(agent=people.agent_a, answered_at=None).values_list(
            "external_id", flat=True
        )
    )
    assert ids <= own
