"""An agent questions a line of their approved statement; HR answers, with the correction if any; the
thread stays with the statement."""

import pytest

from incentives import services
from incentives.models import Dispute, Statement
from tests.factories import PeriodFactory
from tests.incentives.test_compute import _calls, _start


@pytest.fixture
def statement(people, django_capture_on_commit_callbacks):
    _calls(people.agent_a, 193, 200)
    october = PeriodFactory(year=2026, month=10)
    run = _start(october, django_capture_on_commit_callbacks)
    services.period_approve(period=october, run=run)
    return Statement.objects.get(run=run, agent=people.agent_a)


def test_an_agent_questions_a_line_and_reads_hrs_answer(client, people, statement):
    line = statement.lines.get()
    client.force_login(people.agent_a.user)
    page = client.post(
        f"/statements/{statement.pk}/",
        {"line": line.pk, "question": "I answered 196 calls"},
        follow=True,
    ).content.decode()
    assert "Your question is sent to HR" in page and "I answered 196 calls" in page
    dispute = Dispute.objects.get()
    assert (dispute.line, dispute.raised_by) == (line, people.agent_a.user)
    client.force_login(people.hr)
    assert "I answered 196 calls" in client.get("/questions/").content.decode()
    client.post(
        "/questions/",
        {
            "dispute": dispute.pk,
            "answer": "Three calls were transfers: see line.",
            "correction": "",
        },
    )
    client.force_login(people.agent_a.user)
    page = client.get(f"/statements/{statement.pk}/").content.decode()
    assert "HR answered on" in page and "Three calls were transfers" in page


def test_only_the_agent_asks_and_only_hr_answers(client, people, statement):
    line = statement.lines.get()
    with pytest.raises(services.DisputeRefused, match="Only the agent whose statement"):
        services.dispute_raise(line=line, user=people.lead_a, question="why?")
    client.force_login(people.agent_b.user)
    assert (
        client.post(f"/statements/{statement.pk}/", {"line": line.pk, "question": "x"}).status_code
        == 404
    )
    dispute = services.dispute_raise(line=line, user=people.agent_a.user, question="why?")
    with pytest.raises(services.DisputeRefused, match="Only HR answers"):
        services.dispute_answer(dispute=dispute, user=people.lead_a, answer="because")
    services.dispute_answer(dispute=dispute, user=people.hr, answer="because", correction="run v2")
    with pytest.raises(services.DisputeRefused, match="answered already"):
        services.dispute_answer(dispute=dispute, user=people.hr, answer="again")
    client.force_login(people.lead_a)
    assert client.get("/questions/").status_code == 403
    assert Dispute.objects.get().correction == "run v2"
