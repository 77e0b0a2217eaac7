"""Late corrections: an adjustment in an open month names the closed month it corrects; fingerprints and
the code version make two runs comparable."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from incentives import services
from incentives.models import Adjustment, Run, Statement
from tests.factories import PeriodFactory
from tests.incentives.test_compute import OCT, _calls, _start


def _closed(month):
    period = PeriodFactory(year=2026, month=month)
    run = Run.objects.create(period=period, number=1, status=Run.Status.DONE)
    period.status, period.approved_run = "closed", run
    period.save()
    return period


@pytest.fixture
def october(people):
    _calls(people.agent_a, 193, 200)  # 1,700.00 (see test_compute)
    return PeriodFactory(year=2026, month=10)


def test_an_adjustment_is_paid_after_the_cap_and_names_what_it_corrects(
    people, october, django_capture_on_commit_callbacks
):
    september = _closed(9)
    services.adjustment_create(
        period=october,
        agent=people.agent_a,
        amount=Decimal("-120.50"),
        corrects=september,
        reason="September's complaint was imported late",
    )
    run = _start(october, django_capture_on_commit_callbacks)
    a1 = Statement.objects.get(run=run, agent=people.agent_a)
    assert a1.adjustments == Decimal("-120.50") and a1.amount == Decimal("1579.50")
    line = a1.adjustment_lines.get()
    assert (line.corrects, line.amount) == ("2026-09", Decimal("-120.50"))
    assert "imported late" in line.reason
    a2 = Statement.objects.get(run=run, agent=people.agent_a2)
    assert a2.adjustments == 0 and not a2.adjustment_lines.exists()


def test_a_reason_with_tabs_line_breaks_and_backslashes_is_kept_as_written(
    people, october, django_capture_on_commit_callbacks
):
    """Statements reach PostgreSQL as COPY text the run writes itself: what HR typed must come back
    exactly, whatever COPY's format gives a meaning to."""
    reason = "Late complaint\tticket C:\\cases\\41\nsecond line\r\\N"
    services.adjustment_create(
        period=october,
        agent=people.agent_a,
        amount=Decimal("10.00"),
        corrects=_closed(9),
        reason=reason,
    )
    run = _start(october, django_capture_on_commit_callbacks)
    line = Statement.objects.get(run=run, agent=people.agent_a).adjustment_lines.get()
    assert line.reason == reason


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("not closed", "not closed: recompute it"),
        ("later month", "must come before"),
        ("zero", "zero changes nothing"),
        ("approved month pays", "adjustments are paid in an open month"),
    ],
)
def test_adjustments_that_break_a_rule_are_refused_with_the_reason(people, case, words):
    september, october = _closed(9), PeriodFactory(year=2026, month=10)
    november = PeriodFactory(year=2026, month=11)
    kwargs = dict(
        period=october, agent=people.agent_a, amount=Decimal(10), corrects=september, reason="x"
    )
    if case == "not closed":
        kwargs["corrects"] = november
        kwargs["period"] = PeriodFactory(year=2026, month=12)
    elif case == "later month":
        _close(november)
        kwargs["corrects"] = november
    elif case == "zero":
        kwargs["amount"] = Decimal(0)
    else:
        _close(october, status="approved")
    with pytest.raises(services.AdjustmentRefused, match=words):
        services.adjustment_create(**kwargs)
    assert not Adjustment.objects.exists()


def _close(period, status="closed"):
    run = Run.objects.create(period=period, number=1, status=Run.Status.DONE)
    period.status, period.approved_run = status, run
    period.save()


def test_an_adjustment_cannot_be_removed_once_its_month_is_approved(people):
    september, october = _closed(9), PeriodFactory(year=2026, month=10)
    adjustment = services.adjustment_create(
        period=october, agent=people.agent_a, amount=Decimal(5), corrects=september, reason="x"
    )
    _close(october, status="approved")
    with pytest.raises(services.AdjustmentRefused, match="can no longer change"):
        services.adjustment_delete(adjustment=adjustment)
    assert Adjustment.objects.count() == 1


def test_the_model_says_the_same_in_the_admin(people):
    september, october = _closed(9), PeriodFactory(year=2026, month=10)
    adjustment = Adjustment(
        period=september, agent=people.agent_a, amount=0, corrects=october, reason="x"
    )
    with pytest.raises(ValidationError) as refused:
        adjustment.full_clean()
    assert set(refused.value.message_dict) == {"amount", "period", "corrects"}


def test_fingerprints_change_with_the_facts_and_runs_record_the_code(
    people, october, django_capture_on_commit_callbacks, monkeypatch
):
    from config import version

    version.code_version.cache_clear()
    monkeypatch.setenv("CODE_VERSION", "release-7")
    first = _start(october, django_capture_on_commit_callbacks)
    second = _start(october, django_capture_on_commit_callbacks)
    _calls(
        people.agent_a, 0, 1, when=OCT + dt.timedelta(days=1)
    )  # one more (unanswered) call for A1
    third = _start(october, django_capture_on_commit_callbacks)
    version.code_version.cache_clear()
    assert {first.code_version, third.code_version} == {"release-7"}

    def prints(run):
        return dict(
            Statement.objects.filter(run=run).values_list("agent__employee_id", "facts_fingerprint")
        )

    assert prints(first) == prints(second)
    assert len(prints(first)["A1"]) == 64
    assert prints(third)["A1"] != prints(first)["A1"] and prints(third)["A2"] == prints(first)["A2"]
