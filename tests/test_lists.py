"""Lists (issue 16, point 3): every list page is paginated, sortable and filterable with django-filter
(``calls.listing``), its export writes every row the filters keep, a bad filter is named beside its
field (never a 500), the number of queries does not grow with the rows, and the API lists take the
same filters. Real rows through the real pages."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import Call, ImportBatch
from calls.months import center_tz
from incentives import selectors, services
from incentives.models import Dispute, Review, Statement, StatementLine
from tests.factories import BatchFactory, CallFactory, PeriodFactory, UserFactory
from tests.incentives.test_compute import _calls, _start


def _rows(html: str) -> list[str]:
    """The body rows of the page's (last) table, as their text."""
    body = html.rsplit("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", " ", row).split() for row in body.split("<tr>")[1:]]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    content = b"".join(response) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _today_calls(agent, count: int, **fields) -> list[Call]:
    """``count`` calls of today on the center's clock, oldest first, evenly between midnight and now."""
    now = timezone.now()
    midnight = now.astimezone(center_tz()).replace(hour=0, minute=0, second=0, microsecond=0)
    step = (now - midnight) / (count + 1)
    return [
        CallFactory(agent=agent, started_at=midnight + step * (i + 1), **fields)
        for i in range(count)
    ]


# --- the lead's calls drill-down -------------------------------------------------------------------


def test_the_calls_drill_down_pages_sorts_and_filters(client, people):
    url = f"/team/team-a/agents/{people.agent_a.pk}/calls/?window=today"
    calls = _today_calls(people.agent_a, 60, queue="sales", talk_seconds=100)
    for call in calls[:5]:  # five long ones on another queue, two of them not answered
        call.queue, call.talk_seconds = "support", 400
        call.save()
    for call in calls[:2]:
        call.answered_at, call.outcome, call.talk_seconds = None, Call.Outcome.ABANDONED, 0
        call.save()
    client.force_login(people.lead_a)

    first = client.get(url).content.decode()
    assert len(_rows(first)) == 50 and "60 rows · page 1 of 2" in first
    assert _rows(first)[0][0] == calls[-1].external_id  # newest first
    second = client.get(url + "&page=2").content.decode()
    assert [r[0] for r in _rows(second)] == [c.external_id for c in reversed(calls[:10])]

    support = _rows(client.get(url + "&queue=support").content.decode())
    assert sorted(r[0] for r in support) == sorted(c.external_id for c in calls[:5])
    unanswered = _rows(client.get(url + "&answered=no").content.decode())
    assert sorted(r[0] for r in unanswered) == sorted(c.external_id for c in calls[:2])
    abandoned = _rows(client.get(url + "&outcome=abandoned").content.decode())
    assert len(abandoned) == 2
    long_talk = _rows(client.get(url + "&talk_min=300").content.decode())
    assert sorted(r[0] for r in long_talk) == sorted(c.external_id for c in calls[2:5])
    found = _rows(client.get(url + f"&q={calls[7].external_id}").content.decode())
    assert [r[0] for r in found] == [calls[7].external_id]
    today = timezone.localdate().isoformat()
    assert len(_rows(client.get(url + f"&day_from={today}&day_to={today}").content.decode())) == 50

    by_talk = _rows(client.get(url + "&sort=-talk").content.decode())
    assert {r[0] for r in by_talk[:3]} == {c.external_id for c in calls[2:5]}
    oldest_first = _rows(client.get(url + "&sort=started_at").content.decode())
    assert oldest_first[0][0] == calls[0].external_id

    # The export writes every row the filters keep, not only the page shown.
    exported = _csv(client.get(url + "&queue=sales&export=csv"))
    assert len(exported) == 1 + 55 and exported[0][0] == "call"


def test_a_bad_filter_is_named_beside_its_field_and_nothing_breaks(client, people):
    url = f"/team/team-a/agents/{people.agent_a.pk}/calls/?window=today"
    _today_calls(people.agent_a, 3)
    client.force_login(people.lead_a)
    for query in ("&talk_min=lots", "&day_from=31/31/2026", "&outcome=nonsense", "&sort=secret"):
        response = client.get(url + query)
        assert response.status_code == 200, query
        assert 'class="field-error"' in response.content.decode(), query
    page = client.get(url + "&page=999").content.decode()  # past the end: the last page
    assert len(_rows(page)) == 3


def test_the_number_of_queries_does_not_grow_with_the_rows(client, people):
    url = f"/team/team-a/agents/{people.agent_a.pk}/calls/?window=today&sort=-talk"
    client.force_login(people.lead_a)
    _today_calls(people.agent_a, 5)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _today_calls(people.agent_a, 120)
    with CaptureQueriesContext(connection) as many:
        assert len(_rows(client.get(url).content.decode())) == 50
    assert len(many.captured_queries) == len(few.captured_queries) <= 20


# --- statements, questions, reviews ------------------------------------------------------------------


@pytest.fixture
def october(people, django_capture_on_commit_callbacks):
    _calls(people.agent_a, 193, 200)  # 125 points: the top tier
    _calls(people.agent_a2, 92, 100)  # 70 points: the 60 tier
    _calls(people.agent_b, 9, 10)  # 50 points: no tier reached
    period = PeriodFactory(year=2026, month=10)
    run = _start(period, django_capture_on_commit_callbacks)
    services.period_approve(period=period, run=run, approved_by=people.hr)
    return period


def _employee_ids(html: str) -> list[str]:
    return re.findall(r"</a> · ([AB]\d)</td>", html)


def test_the_statements_page_shows_each_persona_theirs_by_month_team_and_tier(
    client, people, october
):
    client.force_login(people.hr)
    page = client.get("/statements/").content.decode()
    assert _employee_ids(page) == ["A1", "A2", "B1"]
    assert _employee_ids(client.get(f"/statements/?team={people.team_b.pk}").content.decode()) == [
        "B1"
    ]
    assert _employee_ids(client.get("/statements/?tier=0").content.decode()) == ["B1"]
    assert _employee_ids(client.get("/statements/?tier=none").content.decode()) == []
    assert _employee_ids(client.get("/statements/?tier=100").content.decode()) == ["A1"]
    assert _employee_ids(client.get("/statements/?tier=60").content.decode()) == ["A2"]
    assert "from score 60, paid at 100%" in page
    assert _employee_ids(client.get("/statements/?sort=-payout").content.decode()) == [
        "A1",
        "A2",
        "B1",
    ]
    assert _employee_ids(client.get("/statements/?sort=payout").content.decode())[0] == "B1"
    assert _employee_ids(client.get("/statements/?q=agent+b1").content.decode()) == ["B1"]
    assert _employee_ids(client.get(f"/statements/?period={october.pk}").content.decode()) == [
        "A1",
        "A2",
        "B1",
    ]
    exported = _csv(client.get("/statements/?tier=0&export=csv"))
    assert [row[1] for row in exported[1:]] == ["B1"]

    client.force_login(people.lead_a)
    assert _employee_ids(client.get("/statements/").content.decode()) == ["A1", "A2"]
    # Not their team: the filter says so beside its field, and the list stays theirs.
    other = client.get(f"/statements/?team={people.team_b.pk}").content.decode()
    assert _employee_ids(other) == ["A1", "A2"] and 'class="field-error"' in other
    client.force_login(people.agent_b.user)
    assert _employee_ids(client.get("/statements/").content.decode()) == ["B1"]
    assert [row[1] for row in _csv(client.get("/statements/?export=csv"))[1:]] == ["B1"]
    client.force_login(people.nobody)
    assert client.get("/statements/").status_code == 403


def test_the_api_lists_take_the_same_filters(client, people, october):
    client.force_login(people.hr)
    rows = client.get("/api/v1/statements/?tier=0").json()["results"]
    assert [r["employee_id"] for r in rows] == ["B1"]
    rows = client.get(f"/api/v1/statements/?team={people.team_a.pk}&sort=-payout").json()
    assert [r["employee_id"] for r in rows["results"]] == ["A1", "A2"]
    assert client.get("/api/v1/statements/?tier=2.5").status_code == 400  # no such tier
    BatchFactory(filename="november.csv", status=ImportBatch.Status.REJECTED)
    BatchFactory(filename="october.csv", status=ImportBatch.Status.APPLIED)
    listed = client.get("/api/v1/imports/?status=rejected").json()["results"]
    assert [b["filename"] for b in listed] == ["november.csv"]
    assert [b["filename"] for b in client.get("/api/v1/imports/?q=octo").json()["results"]] == [
        "october.csv"
    ]


def _ask(people, agent, question):
    statement = Statement.objects.get(agent=agent, run__period__approved_run__isnull=False)
    line = StatementLine.objects.filter(statement=statement).first()
    return services.dispute_raise(line=line, user=agent.user, question=question)


def test_questions_filter_to_the_open_ones_and_page(client, people, october):
    answered = _ask(people, people.agent_a, "Why 96.5%?")
    services.dispute_answer(dispute=answered, user=people.hr, answer="193 of 200 calls.")
    for number in range(30):
        _ask(people, people.agent_b, f"Question {number}")
    client.force_login(people.hr)
    page = client.get("/questions/").content.decode()
    assert "31 rows · page 1 of 2" in page and "Why 96.5%?" not in page  # open ones first
    open_only = client.get("/questions/?state=open&page=2").content.decode()
    assert "Why 96.5%?" not in open_only and "Question 0" in open_only
    only_answered = client.get("/questions/?state=answered").content.decode()
    assert "Why 96.5%?" in only_answered and "Question 1" not in only_answered
    found = client.get("/questions/?q=A1").content.decode()
    assert "Why 96.5%?" in found and "Question 1" not in found
    exported = _csv(client.get("/questions/?state=open&export=csv"))
    assert len(exported) == 1 + 30
    # Answering from a filtered page comes back to the same filters.
    dispute = Dispute.objects.filter(answered_at=None).first()
    response = client.post(
        "/questions/?state=open&page=2", {"dispute": dispute.pk, "answer": "Checked."}
    )
    assert response.status_code == 302 and response["Location"] == "/questions/?state=open&page=2"


def test_reviews_filter_by_stage_and_lead(client, people, october):
    lead_b = UserFactory(username="lead_b", roles=["lead"])
    people.team_b.leads.add(lead_b)
    review = Review.objects.get(agent=people.agent_a, period=october)
    services.root_cause_add(
        review=review, user=people.lead_a, metric="answer_rate", category="staffing", note="flu"
    )
    services.review_sign(review=review, user=people.lead_a)
    services.review_acknowledge(review=review, user=people.agent_a.user)
    client.force_login(people.hr)
    names = lambda html: re.findall(r">(Agent [AB]\d)</a>", html)  # noqa: E731
    flagged_first = selectors.flagged_first(Review.objects.filter(period=october))
    assert names(client.get("/reviews/").content.decode()) == [r.agent.name for r in flagged_first]
    assert names(client.get("/reviews/?stage=consensus").content.decode()) == ["Agent A1"]
    assert names(client.get(f"/reviews/?lead={lead_b.pk}").content.decode()) == ["Agent B1"]
    assert names(client.get("/reviews/?sort=agent").content.decode()) == [
        "Agent A1",
        "Agent A2",
        "Agent B1",
    ]
    assert names(client.get("/reviews/?q=a2").content.decode()) == ["Agent A2"]
    client.force_login(people.agent_a2.user)
    page = client.get("/reviews/").content.decode()
    assert names(page) == ["Agent A2"] and "Agent A1" not in page  # no list of other agents


def test_imports_filter_by_state_and_source(client, people):
    for number in range(55):
        BatchFactory(filename=f"day-{number}.csv", source="acd")
    BatchFactory(filename="bad.csv", source="survey", status=ImportBatch.Status.REJECTED)
    client.force_login(people.hr)
    page = client.get("/imports/").content.decode()
    assert "56 rows · page 1 of 2" in page and "bad.csv" in page  # newest first
    rejected = client.get("/imports/?status=rejected").content.decode()
    assert "bad.csv" in rejected and "day-1.csv" not in rejected
    assert "bad.csv" not in client.get("/imports/?source=acd&page=2").content.decode()
    bad = ImportBatch.objects.get(filename="bad.csv")
    assert "bad.csv" in client.get(f"/imports/?q={bad.pk}").content.decode()
    exported = _csv(client.get("/imports/?source=acd&export=csv"))
    assert len(exported) == 1 + 55


def test_no_list_page_reads_more_for_more_rows(client, people, october):
    """One row or every row of a list: the same queries (nothing read per row)."""
    for agent in (people.agent_a, people.agent_a2, people.agent_b):
        _ask(people, agent, f"Question from {agent.employee_id}")
    BatchFactory.create_batch(3, filename="day.csv")
    BatchFactory(filename="only.csv")
    client.force_login(people.hr)
    pages = [
        ("/statements/", "&q=B1", 3),
        ("/questions/", "&q=B1", 3),
        ("/reviews/", "&q=B1", 3),
        ("/imports/", "&q=only", 4),
    ]
    for url, narrow, rows in pages:
        counts = []
        for query in (narrow, ""):
            with CaptureQueriesContext(connection) as queries:
                html = client.get(f"{url}?sort=&{query}").content.decode()
            counts.append(len(queries.captured_queries))
        assert f"{rows} rows" in html, url
        assert counts[0] == counts[1] <= 25, (url, counts)


def test_hrs_overview_shows_twelve_months_a_page(client, people):
    for number in range(14):  # 2025-11 … 2026-12
        year, month = divmod(2025 * 12 + 10 + number, 12)
        PeriodFactory(year=year, month=month + 1)
    client.force_login(people.hr)
    first = client.get("/hr/").content.decode()
    months = re.findall(r"<h2>(\d{4}-\d{2}) · ", first)
    assert months[0] == "2026-12" and len(months) == 12 and "Older months" in first
    older = client.get("/hr/?months=2").content.decode()
    assert re.findall(r"<h2>(\d{4}-\d{2}) · ", older) == ["2025-12", "2025-11"]
    assert "Newer months" in older
