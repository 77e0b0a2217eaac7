"""An agent's question on a line of their statement, and HR's answer: the thread is kept with the
statement, whatever its outcome."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from calls.errors import DomainError
from calls.roles import HR, user_roles
from incentives.models import Dispute, StatementLine


class DisputeRefused(DomainError):
    """The question or the answer is not allowed; the message says why."""


def dispute_raise(*, line: StatementLine, user, question: str) -> Dispute:
    """The agent whose approved statement it is asks about one of its lines."""
    statement = line.statement
    if statement.agent.user_id != user.pk:
        raise DisputeRefused("Only the agent whose statement it is can question its lines.")
    if statement.run.period.approved_run_id != statement.run_id:
        raise DisputeRefused("Only an approved statement can be questioned.")
    if not question.strip():
        raise DisputeRefused("Say what you question about this line.")
    return Dispute.objects.create(
        statement=statement, line=line, raised_by=user, question=question.strip()
    )


@transaction.atomic
def dispute_answer(*, dispute: Dispute, user, answer: str, correction: str = "") -> Dispute:
    """HR answers once, saying what was corrected (a new run, an adjustment) or leaving it empty."""
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if HR not in user_roles(user):
        raise DisputeRefused("Only HR answers a question on a statement.")
    if dispute.answered_at is not None:
        raise DisputeRefused("This question is answered already.")
    if not answer.strip():
        raise DisputeRefused("Write the answer.")
    dispute.answer, dispute.correction = answer.strip(), correction.strip()[:300]
    dispute.answered_by, dispute.answered_at = user, timezone.now()
    dispute.save(update_fields=["answer", "correction", "answered_by", "answered_at"])
    return dispute
