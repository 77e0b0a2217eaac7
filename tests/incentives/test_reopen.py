"""Approved means approved: an approved month's facts are locked until HR reopens it with a reason (kept);
a reopened month says its data changed since approval, its next run is read against the approved one,
and every irreversible action on a month asks first, saying what will change."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from calls.models import Call, ImportBatch, MonthLock
from calls.services import facts_import
from incentives import services
from incentives.models import Period, PeriodReopening, Run, Statement
from tests.factories import BatchFactory, CallFactory, PeriodFactory
from tests.incentives.test_compute import OCT, _start

APPROVED = "the month 2026-10 is approved: HR must reopen it first"


def _calls_in(batch, agent, answered: int, offered: int) -> None:
    for number in range(offered):
        CallFactory(
            batch=batch,
            agent=agent,
            started_at=OCT + dt.timedelta(minutes=number),
            answered_at=OCT + dt.timedelta(minutes=number, seconds=10)
            if number < answered
            else None,
        )


@pytest.fixture
def approved(people, django_capture_on_commit_callbacks):
    """October approved with run v1: A1 95/100 answered (1,400.00) from one import, A2 92/100 (700.00)
    from another (the one that turns out to be wrong), B1 no calls."""
    _calls_in(BatchFactory(filename="a1.csv"), people.agent_a, 95, 100)
    wrong = BatchFactory(filename="a2.csv")
    _calls_in(wrong, people.agent_a2, 92, 100)
    october = PeriodFactory(year=2026, month=10)
    run = _start(october, django_capture_on_commit_callbacks)
    services.period_approve(period=october, run=run, approved_by=people.hr)
    october.refresh_from_db()
    return october, run, wrong


def test_approval_locks_the_months_facts_until_hr_reopens_it_with_a_reason(people, approved):
    october, v1, wrong = approved
    assert MonthLock.objects.get(year=2026, month=10).state == MonthLock.State.APPROVED
    late = facts_import(
        stream=io.BytesIO(
            b"call_id,direction,entered_at,answered_at\nz1,inbound,2026-10-05 09:00,\n"
        ),
        filename="late.csv",
        source="acd",
    )
    assert late.status == ImportBatch.Status.REJECTED
    assert late.errors == [{"line": 2, "column": "entered_at", "value": "", "reason": APPROVED}]

    with pytest.raises(services.PeriodStateError, match="Say why"):
        services.period_reopen(period=october, reason="  ", by=people.hr)
    with pytest.raises(services.PeriodStateError, match="Only HR"):
        services.period_reopen(period=october, reason="wrong file", by=people.lead_a)
    assert MonthLock.objects.filter(year=2026, month=10).exists()

    reopening = services.period_reopen(
        period=october, reason="import a2.csv held September's calls", by=people.hr
    )
    october.refresh_from_db()
    assert (october.status, october.approved_run, october.reopened) == (
        Period.Status.COMPUTED,
        v1,
        True,
    )
    assert (reopening.reason, reopening.reopened_by, reopening.approved_run) == (
        "import a2.csv held September's calls",
        people.hr,
        v1,
    )
    assert PeriodReopening.objects.get(period=october) == reopening
    assert not MonthLock.objects.exists()

    # Now the wrong import can be rolled back, and the month computed and approved again.
    from calls.services import batch_rollback

    batch_rollback(batch=wrong)
    assert not Call.objects.filter(agent=people.agent_a2).exists()
    with pytest.raises(services.PeriodStateError, match="only an approved month is reopened"):
        services.period_reopen(period=october, reason="again", by=people.hr)


def test_a_closed_month_is_never_reopened(people, approved):
    october, _v1, _wrong = approved
    services.period_close(period=october)
    with pytest.raises(services.PeriodStateError, match="a closed month is never reopened"):
        services.period_reopen(period=october, reason="late calls", by=people.hr)
    assert MonthLock.objects.get().state == MonthLock.State.CLOSED


def test_the_whole_story_through_the_pages(
    client, people, approved, django_capture_on_commit_callbacks
):
    october, v1, wrong = approved
    client.force_login(people.hr)
    # The wrong import cannot be rolled back: its confirmation says why and offers no button.
    page = client.get(f"/imports/{wrong.pk}/rollback/").content.decode()
    assert "holds facts of the approved month 2026-10: HR must reopen the month first" in page
    assert 'name="confirm"' not in page
    client.post(f"/imports/{wrong.pk}/rollback/", {"confirm": "yes"})
    assert Call.objects.filter(batch=wrong).count() == 100

    # Reopening asks first and needs a reason; without either, nothing changes.
    overview = client.get("/hr/").content.decode()
    assert f'href="/periods/{october.pk}/reopen/"' in overview
    asked = client.get(f"/periods/{october.pk}/reopen/").content.decode()
    assert "Reopen 2026-10?" in asked
    assert "agents keep seeing the approved run v1 (3 agents, total 2,100.00 CNY)" in asked
    assert "payroll export is withheld" in asked
    client.post(f"/periods/{october.pk}/reopen/", {"reason": "a2.csv was September's"})
    no_reason = client.post(f"/periods/{october.pk}/reopen/", {"confirm": "yes", "reason": ""})
    assert no_reason.status_code == 200 and "This field is required." in no_reason.content.decode()
    october.refresh_from_db()
    assert october.status == Period.Status.APPROVED and not PeriodReopening.objects.exists()
    done = client.post(
        f"/periods/{october.pk}/reopen/",
        {"confirm": "yes", "reason": "a2.csv was September's"},
        follow=True,
    ).content.decode()
    assert "2026-10 reopened" in done
    assert "Data changed since approval." in done and "a2.csv was September&#x27;s" in done
    october.refresh_from_db()
    assert october.status == Period.Status.COMPUTED and october.approved_run == v1
    listed = client.get("/api/v1/periods/").json()["results"][0]
    assert (listed["status"], listed["reopened"]) == ("computed", True)
    assert (listed["approved_run"], listed["approved_run_number"]) == (v1.pk, 1)  # an id is an id

    # Reopened: the payroll export waits, the agents still see what was approved.
    refused = client.get(f"/periods/{october.pk}/payroll.csv", follow=True).content.decode()
    assert "only an approved or closed month can be exported to payroll" in refused
    client.force_login(people.agent_a2.user)
    assert "700.00" in client.get("/me/").content.decode()
    client.force_login(people.hr)

    # The rollback goes through now, after its confirmation.
    asked = client.get(f"/imports/{wrong.pk}/rollback/").content.decode()
    assert f"Rolling back import {wrong.pk} deletes 100 calls it created (100 of 2026-10)." in asked
    client.post(f"/imports/{wrong.pk}/rollback/", {"confirm": "yes"})
    assert not Call.objects.filter(batch=wrong).exists()

    # The next run is read against the approved one before it is approved.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/periods/{october.pk}/compute/")
    v2 = Run.objects.get(period=october, number=2)
    review = client.get(f"/hr/periods/{october.pk}/runs/{v2.pk}/review/").content.decode()
    assert "Data changed since approval: this run against the approved run v1" in review
    assert "1 agent's statement differs from the approved one." in review
    assert f"?before={v1.pk}&amp;after={v2.pk}" in review and "Agent A2" in review
    asked = client.get(f"/periods/{october.pk}/runs/{v2.pk}/approve/").content.decode()
    assert (
        "It replaces the approved run v1 (3 agents, total 2,100.00 CNY): 1 agent&#x27;s payout changes."
        in asked
    )
    client.post(f"/periods/{october.pk}/runs/{v2.pk}/approve/", {"confirm": "yes"})
    october.refresh_from_db()
    assert (october.status, october.approved_run, october.reopened) == (
        Period.Status.APPROVED,
        v2,
        False,
    )
    assert MonthLock.objects.get(year=2026, month=10).state == MonthLock.State.APPROVED
    assert (
        Statement.objects.get(run=v2, agent=people.agent_a2).amount
        != Statement.objects.get(run=v1, agent=people.agent_a2).amount
    )
    assert "Data changed since approval." not in client.get("/hr/").content.decode()


def test_computing_an_approved_month_again_asks_first(client, people, approved):
    october, v1, _wrong = approved
    client.force_login(people.hr)
    overview = client.get("/hr/").content.decode()
    assert f'<a class="button" href="/periods/{october.pk}/compute/">Compute again</a>' in overview
    unconfirmed = client.post(f"/periods/{october.pk}/compute/")
    page = unconfirmed.content.decode()
    assert unconfirmed.status_code == 200 and "Compute 2026-10 again?" in page
    assert "A new run v2 of 2026-10 is computed" in page
    assert "The approved run v1 (3 agents, total 2,100.00 CNY) stays what agents see" in page
    assert Run.objects.filter(period=october).count() == 1
    client.post(f"/periods/{october.pk}/compute/", {"confirm": "yes"})
    assert Run.objects.filter(period=october).count() == 2
    october.refresh_from_db()
    assert october.approved_run == v1 and october.status == Period.Status.APPROVED


def test_a_closed_month_offers_neither_reopening_nor_computing(client, people, approved):
    october, _v1, _wrong = approved
    services.period_close(period=october)
    client.force_login(people.hr)
    overview = client.get("/hr/").content.decode()
    assert (
        f"/periods/{october.pk}/reopen/" not in overview
        and f"/periods/{october.pk}/compute/" not in overview
    )
    page = client.get(f"/periods/{october.pk}/reopen/").content.decode()
    assert "a closed month is never reopened" in page and 'name="confirm"' not in page
    client.post(f"/periods/{october.pk}/reopen/", {"confirm": "yes", "reason": "late"})
    october.refresh_from_db()
    assert october.status == Period.Status.CLOSED


def test_only_hr_opens_the_months_confirmations(client, people, approved):
    october, v1, wrong = approved
    for persona in (people.lead_a, people.agent_a.user):
        client.force_login(persona)
        for url in (
            f"/periods/{october.pk}/reopen/",
            f"/periods/{october.pk}/close/",
            f"/periods/{october.pk}/compute/",
            f"/periods/{october.pk}/runs/{v1.pk}/approve/",
            f"/imports/{wrong.pk}/rollback/",
        ):
            assert client.get(url).status_code == 403
            assert client.post(url, {"confirm": "yes", "reason": "x"}).status_code == 403
    october.refresh_from_db()
    assert (
        october.status == Period.Status.APPROVED and Run.objects.filter(period=october).count() == 1
    )


@pytest.fixture
def chinese(client):
    """The pages in Chinese; English again afterwards (a request leaves its language active)."""
    from django.conf import settings
    from django.utils import translation

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/hr/"})
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_the_confirmations_speak_chinese(client, people, approved, chinese):
    october, _v1, wrong = approved
    client.force_login(people.hr)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/hr/"})
    page = client.get(f"/periods/{october.pk}/reopen/").content.decode()
    assert (
        "重新打开 2026-10？" in page
        and "将发生以下变化" in page
        and "为什么重新打开该月份？" in page
    )
    assert "已审批的计算版本 v1（3 名坐席，合计 2,100.00 CNY）" in page
    assert "审批后数据已变更" in page
    page = client.get(f"/imports/{wrong.pk}/rollback/").content.decode()
    assert (
        "回滚导入" in page and "HR must reopen the month first" in page
    )  # the refusal: the service's words
    assert "重新打开该月份" in client.get("/hr/").content.decode()
