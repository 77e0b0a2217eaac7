"""Each statement line said in words, in the metric's direction and the reader's language."""

from decimal import Decimal as D

import pytest
from django.utils import translation

from incentives.models import StatementLine


def _line(metric="answer_rate", direction="up", value="96.2", **kwargs):
    fields = dict(
        metric=metric, direction=direction, value=D(value), numerator=D(1204), denominator=D(1251),
        threshold=D(90), threshold_payout=D(50), target=D(95), excellence=D(98),
        excellence_payout=D(150), weight=D(30), effective_weight=D(30), score=D("113.33"),
        points=D("34.00"), no_data=False,
    )  # fmt: skip
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
    line = _line(metric="asa", direction="down", value="18", threshold=D(40), target=D(20),
                 excellence=D(10))  # fmt: skip
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
