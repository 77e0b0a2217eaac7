"""Corrections of closed months: paid (or taken back) in a later open month, saying what they correct."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from calls.errors import DomainError
from incentives.models import Adjustment, Agent, Period


class AdjustmentRefused(DomainError):
    """The adjustment breaks a rule; the message says which."""


def adjustment_create(
    *, period: Period, agent: Agent, amount: Decimal, corrects: Period, reason: str, created_by=None
) -> Adjustment:
    """Record a correction of the closed month ``corrects``, paid in ``period`` (open or computed: the
    next computation puts it on the agent's statement, after the overall cap)."""
    adjustment = Adjustment(
        period=period,
        agent=agent,
        amount=amount,
        corrects=corrects,
        reason=reason.strip(),
        created_by=created_by,
    )
    try:
        adjustment.full_clean()
    except ValidationError as exc:
        raise AdjustmentRefused(" ".join(exc.messages)) from None
    with transaction.atomic():
        _lock_open(period.pk, "adjust an open month")
        adjustment.save()
    return adjustment


def adjustment_delete_refusal(adjustment: Adjustment) -> AdjustmentRefused | None:
    """Why ``adjustment`` may not be deleted now, or None (the admin asks before its confirmation;
    ``adjustment_delete`` checks again under the period's lock)."""
    period = adjustment.period
    if period.status not in (Period.Status.OPEN, Period.Status.COMPUTED):
        return AdjustmentRefused(
            f"{period} is {period.get_status_display()}: its adjustments can no longer change."
        )
    return None


def adjustment_delete(*, adjustment: Adjustment) -> None:
    """Remove an adjustment while the month that pays it is still open; statements already computed
    keep what they paid (recompute to drop it)."""
    with transaction.atomic():
        _lock_open(adjustment.period_id, "its adjustments can no longer change")
        adjustment.delete()


def _lock_open(period_id: int, refusal: str) -> None:
    """Lock the paying month's row, refusing unless it is still open. Call inside a transaction: the
    lock orders this against approval, so an adjustment never slips into (or out of) a month approved
    meanwhile."""
    period = Period.objects.select_for_update().get(pk=period_id)
    if period.status not in (Period.Status.OPEN, Period.Status.COMPUTED):
        raise AdjustmentRefused(f"{period} is {period.get_status_display()}: {refusal}.")
