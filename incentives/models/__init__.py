"""Organisation, plans, periods, runs and statements.

Invariants that must always hold are database constraints, so no code path can break them; rules that
span rows (weights adding up to 100, no two plans for one agent) are checked by ``incentives.validation``
before any write; writes go through ``incentives.services``. Money is Decimal, never float.

One module per subject, every name re-exported here: ``from incentives.models import Statement`` is the
way in, whichever module declares it.
"""

# isort: off
# In the order of the one file they were (organisation, plans, periods and runs, statements, targets,
# reviews), not the alphabet's: Django registers models as they are imported, and that order is the
# order of new content types and permissions, and of the models in dumps.
from incentives.models.decimals import MEASURED, MONEY, SCORE, SCORED, VALUE
from incentives.models.organisation import Agent, Channel, Group, Level, Placement, Region, Team
from incentives.models.plans import (
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
    Scope,
)
from incentives.models.periods import Period, PeriodReopening, Run, RunChunk
from incentives.models.statements import (
    Adjustment,
    Statement,
    StatementAdjustment,
    StatementGate,
    StatementLine,
)
from incentives.models.targets import TargetOverride
from incentives.models.reviews import (
    ActionItem,
    AgreedTarget,
    Dispute,
    Review,
    RootCause,
    SharedSkill,
    SkillMark,
)

# isort: on

__all__ = [
    "MEASURED",
    "MONEY",
    "SCORE",
    "SCORED",
    "VALUE",
    "ActionItem",
    "Adjustment",
    "Agent",
    "AgreedTarget",
    "Channel",
    "Dispute",
    "Group",
    "Level",
    "Period",
    "PeriodReopening",
    "Placement",
    "Plan",
    "PlanAward",
    "PlanGate",
    "PlanMetric",
    "PlanTier",
    "PlanVersion",
    "Region",
    "Review",
    "RootCause",
    "Run",
    "RunChunk",
    "Scope",
    "SharedSkill",
    "SkillMark",
    "Statement",
    "StatementAdjustment",
    "StatementGate",
    "StatementLine",
    "TargetOverride",
    "Team",
]
