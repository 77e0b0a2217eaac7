"""HR's overview across months: the scores in bands month by month, the plans compared (a pilot team on
its own plan against the others), money and dates in the reader's language, and as many queries for
many agents as for few."""

import datetime as dt
import json
import re
from decimal import Decimal as D
from fractions import Fraction

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from incentives.models import Period
from incentives.templatetags.money import money
from reports import selectors
from tests.factories import AgentFactory
from tests.incentives.test_compute import _calls, _start

BANDS = ["0–60", "60–85", "85–100", "100–120", "≥ 120"]


def test_the_scores_of_each_month_fall_into_the_reviews_bands(people, pilot):
    periods = list(Period.objects.order_by("year", "month"))
    months = selectors.score_months(periods)
    assert [(str(m.period), m.run) for m in months] == [
        ("2026-09", pilot.september.approved_run),  # approved
        ("2026-10", pilot.run),  # computed, not approved: its latest finished run
    ]
    assert [dict(m.bands) for m in months] == [
        dict(zip(BANDS, [3, 0, 0, 2, 0], strict=True)),  # B1, P1, P2 at 0; A1, A2 at 100
        dict(zip(BANDS, [1, 2, 0, 1, 1], strict=True)),  # B1 50; A2 70, P2 75; P1 100; A1 125
    ]
    assert [m.agents for m in months] == [5, 5]
    # The same bands as the review before approval, counted the same way.
    assert selectors.approval_review(period=pilot.october, run=pilot.run).bands == months[1].bands


def test_the_overview_shows_the_distribution_as_a_table_and_a_chart(client, people, pilot):
    client.force_login(people.hr)
    html = client.get("/hr/").content.decode()
    assert "Distribution of weighted scores by month" in html
    assert '/static/vendor/chartjs-4.6.1/chart.umd.min.js"' in html and "cdn" not in html.lower()
    chart = json.loads(
        re.search(r'<script id="scores-data" type="application/json">(.*?)</script>', html)[1]
    )
    assert chart["months"] == ["2026-09", "2026-10"]
    assert [(b["label"], b["counts"]) for b in chart["bands"]] == [
        ("0–60", [3, 1]),
        ("60–85", [0, 2]),
        ("85–100", [0, 0]),
        ("100–120", [2, 1]),
        ("≥ 120", [0, 1]),
    ]
    assert (
        'href="/hr/plans/?period=' in html
    )  # each computed month links to its comparison of plans


def test_the_plans_compared_for_a_month(people, pilot):
    comparison = selectors.plan_comparison(period=pilot.october)
    assert comparison.run == pilot.run
    assert comparison.metrics == [("answer_rate", "Answer rate")]  # ASA is the pilot's alone
    plan_a, pilot_row = comparison.rows
    assert (plan_a.version, pilot_row.version) == (people.plan, pilot.plan)
    assert (plan_a.agents, plan_a.teams, pilot_row.agents, pilot_row.teams) == (3, 2, 2, 1)
    # Plan A: 125, 70, 50. Pilot: 100, 75. The means exact, rounded only where they are shown.
    assert (plan_a.mean_score, plan_a.median_score) == (Fraction(245, 3), 70)
    assert (pilot_row.mean_score, pilot_row.median_score) == (D("87.5"), D("87.5"))
    assert (plan_a.mean_payout, plan_a.total) == (D("800.00"), D("2400.00"))
    assert (pilot_row.mean_payout, pilot_row.total) == (D("1075.00"), D("2150.00"))
    # The group's rate from its counts, not a mean of rates: (193 + 92 + 9) / (200 + 100 + 10).
    answer_a, answer_pilot = plan_a.values[0], pilot_row.values[0]
    assert (answer_a.numerator, answer_a.denominator, answer_a.value) == (
        294,
        310,
        Fraction(2940, 31),
    )
    assert (answer_pilot.numerator, answer_pilot.denominator, answer_pilot.value) == (
        185,
        200,
        D("92.5000"),
    )


def test_the_plans_compared_in_a_month_without_a_finished_run_are_none(people, pilot):
    from tests.factories import PeriodFactory

    empty = selectors.plan_comparison(period=PeriodFactory(year=2026, month=11))
    assert empty.run is None and empty.rows == []


def test_the_comparison_page_takes_the_latest_month_or_the_one_chosen_and_is_hr_only(
    client, people, pilot
):
    client.force_login(people.hr)
    html = client.get("/hr/plans/").content.decode()
    assert "2026-10 · run v1, not approved yet" in html
    assert "Pilot v1" in html and "Answer rate only v1" in html
    assert "1,075.00 CNY" in html and "2,400.00 CNY" in html and "94.84" in html
    html = client.get(f"/hr/plans/?period={pilot.september.pk}").content.decode()
    assert "2026-09 · run v1, approved" in html
    assert client.get("/hr/plans/?period=999999").status_code == 200  # the form says why
    for user in (people.lead_a, people.agent_a.user, people.nobody):
        client.force_login(user)
        assert client.get("/hr/plans/").status_code == 403
        assert client.get("/hr/plans/?export=csv").status_code == 403


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/hr/", "/hr/plans/", "/hr/?export=csv&table=scores"])
def test_the_overview_and_the_comparison_run_as_many_queries_for_many_agents_as_for_few(
    client, people, pilot, django_capture_on_commit_callbacks, url
):
    client.force_login(people.hr)
    few = _queries(client, url)
    for n in range(12):
        agent = AgentFactory(employee_id=f"X{n:02d}", team=people.team_a if n % 2 else pilot.team_p)
        _calls(agent, 80 + n, 100)
    _start(pilot.october, django_capture_on_commit_callbacks)  # run v2: 17 agents
    assert _queries(client, url) == few


@pytest.mark.parametrize("how", ["header", "cookie"])
def test_money_and_dates_follow_the_readers_language(client, people, pilot, how):
    # Approved at 20:00 UTC on 2 November: already 3 November on the center's clock (Shanghai).
    Period.objects.filter(pk=pilot.september.pk).update(
        approved_at=dt.datetime(2026, 11, 2, 20, 0, tzinfo=dt.UTC)
    )
    client.force_login(people.hr)

    def page(language: str) -> str:
        if how == "cookie":
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            return client.get("/hr/").content.decode()
        return client.get("/hr/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    english, chinese = page("en"), page("zh-hans")
    assert '<html lang="en">' in english and '<html lang="zh-hans">' in chinese
    assert "Nov. 3, 2026" in english and "2026年11月3日" in chinese
    assert "2026年11月3日" not in english and "Nov. 3, 2026" not in chinese
    # Money: two decimals, digits grouped by three with a comma in both (Chinese payroll does so too,
    # where Django's own Chinese format would print 2400.00), then the currency.
    assert "2,400.00 CNY" in english and "2,400.00 CNY" in chinese


def test_the_money_filter_rounds_to_the_currency_and_groups_in_each_language():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert money(D("1234567.891"), "CNY") == "1,234,567.89 CNY"
            assert money(D("-12.505"), "CNY") == "-12.51 CNY"  # half-up, as payouts are rounded
            assert money(D("1234567.5"), "JPY") == "1,234,568 JPY"  # no minor unit
            assert money(None, "CNY") == ""
    with pytest.raises(TypeError):
        money(1.5, "CNY")  # money is never a float
