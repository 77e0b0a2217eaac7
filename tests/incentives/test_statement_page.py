"""Each statement line said in words, in the metric's direction and the reader's language."""

from decimal import Decimal as D

import pytest
from django.utils import translation

from incentives.models import StatementLine


def _line(metric="answer_rate", direction="up", value="96.2", **kwargs):
    fields = dict(
        metric=metric,
        direction=direction,
        value=D(value),
        numerator=D(1204),
        denominator=D(1251),
        threshold=D(90),
        threshold_payout=D(50),
        target=D(95),
        excellence=D(98),
        excellence_payout=D(150),
        weight=D(30),
        effective_weight=D(30),
        score=D("113.33"),
        points=D("34.00"),
        no_data=False,
    )
    fields.update(kwargs)
    return StatementLine(**fields)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("98.5", "at or beyond excellence 98"),
        ("96.2", "at or beyond the target 95"),
        ("92", "between the threshold 90 and the target 95"),
        ("80", "short of the threshold 90"),
    ],
)
def test_a_line_says_where_its_value_stands(value, where):
    with translation.override("en"):
        words = _line(value=value).in_words()
    assert words.startswith(f"Answer rate {D(value):,.2f} (1,204 of 1,251): {where}, ")
    assert words.endswith("score 113.33 × 30% weight = 34.00 points.")


def test_lower_is_better_reads_the_other_way():
    line = _line(
        metric="asa", direction="down", value="18", threshold=D(40), target=D(20), excellence=D(10)
    )
    with translation.override("en"):
        assert "at or beyond the target 20" in line.in_words()
        line.value = D(25)
        assert "between the threshold 40 and the target 20" in line.in_words()
        line.value = D(45)
        assert "short of the threshold 40" in line.in_words()


def test_no_data_and_chinese():
    with translation.override("en"):
        assert _line(no_data=True, value="0", points=D(0)).in_words() == (
            "Answer rate: no data this month, 0.00 points."
        )
    with translation.override("zh-hans"):
        words = _line().in_words()
    assert "接通率" in words and "1,204" in words and "目标" in words


# --- one display rule: the table, the sentences, the API and the export read the same stored values ---


def test_a_line_rounds_half_up_in_words_as_in_the_table():
    """Truncating 73.735 gives 73.73, rounding it gives 73.74: the sentence rounds, as the table does."""
    line = _line(value="73.735", score=D("130.715"), points=D("36.865"), effective_weight=D(30))
    with translation.override("en"):
        words = line.in_words()
    assert words.startswith("Answer rate 73.74 (1,204 of 1,251): ")
    assert words.endswith("score 130.72 × 30% weight = 36.87 points.")


def test_a_level_is_said_with_all_its_places():
    """A threshold of 0.125 is 0.125, never 0.13 (nor 0.12)."""
    line = _line(
        metric="complaint_rate",
        direction="down",
        value="0.2",
        threshold=D("0.125"),
        target=D("0.1"),
        excellence=None,
    )
    with translation.override("en"):
        assert "short of the threshold 0.125" in line.in_words()


@pytest.fixture
def statement(people, django_capture_on_commit_callbacks):
    from incentives import services
    from incentives.models import Statement
    from tests.factories import PeriodFactory
    from tests.incentives.test_compute import _calls, _start

    _calls(people.agent_a, 193, 200)
    october = PeriodFactory(year=2026, month=10)
    run = _start(october, django_capture_on_commit_callbacks)
    services.period_approve(period=october, run=run)
    statement = Statement.objects.get(run=run, agent=people.agent_a)
    # Figures whose third decimal is a 5, as a run keeps them (10 places): where truncating and
    # rounding part.
    statement.lines.update(value=D("73.735"), score=D("130.715"), points=D("36.865"))
    Statement.objects.filter(pk=statement.pk).update(weighted_score=D("36.865"))
    return statement


def test_the_statements_table_and_sentences_show_the_same_figures(client, people, statement):
    client.force_login(people.agent_a.user)
    with translation.override("en"):
        page = client.get(f"/statements/{statement.pk}/").content.decode()
    table, words = page.split('<ul class="in-words">')
    for figure in ("73.74", "130.72", "36.87"):
        assert f"<td>{figure}</td>" in table and figure in words.split("</ul>")[0]
    for truncated in ("73.73", "130.71", "36.86"):
        assert truncated not in page


def test_the_api_gives_the_stored_values(client, people, statement):
    client.force_login(people.hr)
    body = client.get(f"/api/v1/statements/{statement.pk}/").json()
    line = body["lines"][0]
    assert (line["value"], line["score"], line["points"]) == (
        "73.7350000000",
        "130.7150000000",
        "36.8650000000",
    )
    assert body["weighted_score"] == "36.8650000000"


def test_the_teams_page_and_its_export_round_the_score_alike(client, people, statement):
    import csv
    import io

    client.force_login(people.hr)
    with translation.override("en"):
        page = client.get("/team/team-a/").content.decode()
    assert "<td>36.87</td>" in page
    export = client.get("/team/team-a/?export=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [row["weighted_score"] for row in rows if row["employee_id"] == "A1"] == ["36.87"]
