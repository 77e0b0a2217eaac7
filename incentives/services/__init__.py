"""Everything that writes, one module per subject; import from here: ``services.run_start(...)``.

Public services check state and rules, then call private functions that mutate, whose docstrings say
what they assume.
"""

from incentives.services import adjustments, disputes, organisation, plans, reviews, runs, targets
from incentives.services.adjustments import (
    AdjustmentRefused,
    adjustment_create,
    adjustment_delete,
)
from incentives.services.disputes import DisputeRefused, dispute_answer, dispute_raise
from incentives.services.organisation import (
    OrganisationError,
    agent_create,
    agent_place,
)
from incentives.services.plans import (
    PlanInvalid,
    PlanLocked,
    plan_copy,
    plan_create,
    plan_create_from_preset,
    plan_version_activate,
    plan_version_create,
    plan_version_new,
    plan_version_update,
    presets_load,
    version_spec_from_db,
)
from incentives.services.reviews import (
    ReviewRefused,
    action_item_add,
    action_item_done,
    review_acknowledge,
    review_reopen,
    review_sign,
    reviews_open,
    root_cause_add,
    shared_skill_add,
    skill_mark_add,
    target_agree,
)
from incentives.services.runs import (
    PeriodStateError,
    RunAlreadyActive,
    period_approve,
    period_close,
    period_compute_previous_month,
    period_get_or_create,
    period_reopen,
    run_chunk_execute,
    run_chunk_fail,
    run_start,
    score_agents,
)
from incentives.services.targets import (
    TargetInvalid,
    TargetProposal,
    target_override_set,
    targets_propose,
)

__all__ = [
    "AdjustmentRefused",
    "DisputeRefused",
    "OrganisationError",
    "PeriodStateError",
    "PlanInvalid",
    "PlanLocked",
    "ReviewRefused",
    "RunAlreadyActive",
    "TargetInvalid",
    "TargetProposal",
    "action_item_add",
    "action_item_done",
    "adjustment_create",
    "adjustment_delete",
    "adjustments",
    "agent_create",
    "agent_place",
    "dispute_answer",
    "dispute_raise",
    "disputes",
    "organisation",
    "period_approve",
    "period_close",
    "period_compute_previous_month",
    "period_get_or_create",
    "period_reopen",
    "plan_copy",
    "plan_create",
    "plan_create_from_preset",
    "plan_version_activate",
    "plan_version_create",
    "plan_version_new",
    "plan_version_update",
    "plans",
    "presets_load",
    "review_acknowledge",
    "review_reopen",
    "review_sign",
    "reviews",
    "reviews_open",
    "root_cause_add",
    "run_chunk_execute",
    "run_chunk_fail",
    "run_start",
    "runs",
    "score_agents",
    "shared_skill_add",
    "skill_mark_add",
    "target_agree",
    "target_override_set",
    "targets",
    "targets_propose",
    "version_spec_from_db",
]
