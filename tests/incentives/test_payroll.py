"""The payroll export of an approved month: CSV and XLSX, HR only, safe to open in a spreadsheet."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from calls.spreadsheets import safe_cell
from incentives import services
from incentives.models import Agent, Period, Statement
from tests.factories import CallFactory, PeriodFactory

OCT = dt.datetime(2026, 10, 15, 2, 0, tzinfo=dt.UTC)
HEADER = ["employee_id", "name", "period", "amount", "currency", "plan_version"]


def _calls(agent, answered: int, offered: int):
    for number in range(offered):
        started = OCT + dt.timedelta(minutes=number)
        CallFactory(
            agent=agent,
            started_at=started,
            answered_at=started + dt.timedelta(seconds=10) if number < answered else None,
        )


@pytest.fixture
def october(people):
    _calls(people.agent_a, 193, 200)  # 96.5% -> 1,700.00 (see test_compute)
    _calls(people.agent_a2, 92, 100)  # 92% -> 700.00
    _calls(people.agent_b, 9, 10)  # 90% -> below the lowest paying tier -> 0.00
    return PeriodFactory(year=2026, month=10)


@pytest.fixture
def computed(october, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.run_start(period=october)  # run v1, superseded by v2 below
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=october)
    october.refresh_from_db()
    assert october.status == Period.Status.COMPUTED
    return run


@pytest.fixture
def approved(october, computed):
    services.period_approve(period=october, run=computed)
    october.refresh_from_db()
    return october


@pytest.fixture
def hr(client, people):
    client.force_login(people.hr)
    return client


def _csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _xlsx(response):
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return book.active


def test_hr_downloads_the_approved_month_as_csv(hr, approved):
    response = hr.get(f"/periods/{approved.pk}/payroll.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="payroll-2026-10.csv"'
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel then reads UTF-8
    assert rows == [
        HEADER,
        ["A1", "Agent A1", "2026-10", "1700.00", "CNY", "Answer rate only v1"],
        ["A2", "Agent A2", "2026-10", "700.00", "CNY", "Answer rate only v1"],
        ["B1", "Agent B1", "2026-10", "0.00", "CNY", "Answer rate only v1"],
    ]
    # One row per agent of the approved run (v2), not of every run the month has had.
    assert Statement.objects.filter(run__period=approved).count() == 6


def test_hr_downloads_the_approved_month_as_xlsx(hr, approved):
    response = hr.get(f"/periods/{approved.pk}/payroll.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="payroll-2026-10.xlsx"'
    sheet = _xlsx(response)
    assert sheet.title == "payroll 2026-10"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        HEADER,
        ["A1", "Agent A1", "2026-10", 1700, "CNY", "Answer rate only v1"],
        ["A2", "Agent A2", "2026-10", 700, "CNY", "Answer rate only v1"],
        ["B1", "Agent B1", "2026-10", 0, "CNY", "Answer rate only v1"],
    ]
    amount = sheet["D2"]
    assert amount.data_type == "n" and amount.number_format == "0.00"


def test_a_closed_month_is_exported_too(hr, approved):
    services.period_close(period=approved)
    _, rows = _csv(hr.get(f"/periods/{approved.pk}/payroll.csv"))
    assert [row[0] for row in rows] == ["employee_id", "A1", "A2", "B1"]
    assert _xlsx(hr.get(f"/periods/{approved.pk}/payroll.xlsx")).max_row == 4


@pytest.mark.parametrize("persona", ["lead_a", "agent_a", "nobody"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_only_hr_may_export(client, people, approved, persona, fmt):
    user = people.agent_a.user if persona == "agent_a" else getattr(people, persona)
    client.force_login(user)
    assert client.get(f"/periods/{approved.pk}/payroll.{fmt}").status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, approved):
    response = client.get(f"/periods/{approved.pk}/payroll.csv")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_month_only_computed_is_refused_with_a_message(hr, october, computed, fmt):
    response = hr.get(f"/periods/{october.pk}/payroll.{fmt}", follow=True)
    assert response.redirect_chain == [("/hr/", 302)]
    assert (
        "2026-10 is Computed: only an approved or closed month can be exported to payroll."
        in response.content.decode()
    )


def test_the_refusal_speaks_chinese(hr, october, computed):
    hr.post("/i18n/setlang/", {"language": "zh-hans", "next": "/hr/"})
    html = hr.get(f"/periods/{october.pk}/payroll.csv", follow=True).content.decode()
    assert "2026-10 当前为已计算：只有已审批或已关闭的月份才能导出给薪资系统。" in html


def test_an_open_month_is_refused_and_an_unknown_one_is_not_found(hr, october):
    response = hr.get(f"/periods/{october.pk}/payroll.csv", follow=True)
    assert "2026-10 is Open: only an approved" in response.content.decode()
    assert hr.get("/periods/999999/payroll.xlsx").status_code == 404


def test_the_overview_links_the_export_only_for_approved_or_closed_months(hr, october, computed):
    link = f"/periods/{october.pk}/payroll.csv"
    assert link not in hr.get("/hr/").content.decode()
    services.period_approve(period=october, run=computed)
    html = hr.get("/hr/").content.decode()
    assert link in html and f"/periods/{october.pk}/payroll.xlsx" in html


def test_formulas_are_escaped_and_a_negative_amount_stays_a_number(hr, people, approved):
    Agent.objects.filter(pk=people.agent_a.pk).update(name='=HYPERLINK("x")')
    Agent.objects.filter(pk=people.agent_a2.pk).update(name="@SUM(A1)")
    Agent.objects.filter(pk=people.agent_b.pk).update(name="张三")
    Statement.objects.filter(run=approved.approved_run, agent=people.agent_b).update(
        amount=Decimal("-12.50")
    )

    raw, rows = _csv(hr.get(f"/periods/{approved.pk}/payroll.csv"))
    assert [row[1] for row in rows[1:]] == ['\'=HYPERLINK("x")', "'@SUM(A1)", "张三"]
    assert rows[3][3] == "-12.50"
    text = raw.decode("utf-8-sig")
    assert ",张三,2026-10,-12.50,CNY," in text  # unquoted: a spreadsheet reads a number

    sheet = _xlsx(hr.get(f"/periods/{approved.pk}/payroll.xlsx"))
    names = [sheet.cell(row=r, column=2) for r in (2, 3, 4)]
    assert [cell.value for cell in names] == ['\'=HYPERLINK("x")', "'@SUM(A1)", "张三"]
    assert all(cell.data_type == "s" for cell in names)  # text, never a formula
    amount = sheet["D4"]
    assert amount.data_type == "n" and amount.value == Decimal("-12.50")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("-12.50", "'-12.50"),  # text is text: only real numbers pass unescaped
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Agent A1", "Agent A1"),
        (None, ""),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-3, -3),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell
    assert type(safe_cell(value)) is type(cell)


def test_a_payroll_system_takes_the_file_with_a_token(client, people, october, computed, approved):
    from rest_framework.authtoken.models import Token

    from tests.factories import UserFactory

    system = UserFactory(username="payroll-system", roles=["HR"])
    auth = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=system).key}"}
    response = client.get(f"/api/v1/periods/{approved.pk}/payroll/", **auth)
    assert response.status_code == 200
    _raw, rows = _csv(response)
    assert rows[0] == HEADER and rows[1][:4] == ["A1", "Agent A1", "2026-10", "1700.00"]
    agent = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=people.agent_a.user).key}"}
    assert client.get(f"/api/v1/periods/{approved.pk}/payroll/", **agent).status_code == 403


def test_the_api_refuses_a_month_not_approved_with_a_409(client, people, october, computed):
    client.force_login(people.hr)
    refused = client.get(f"/api/v1/periods/{october.pk}/payroll/")
    assert refused.status_code == 409
    assert "only an approved or closed month can be exported to payroll" in refused.json()["detail"]
