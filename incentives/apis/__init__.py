"""The API of the incentives floor, one module per part of it. Every view names the roles it admits
(``allowed_roles``, and ``write_roles`` for writes); objects are scoped by ``incentives.selectors``;
writes go through ``incentives.services`` with the same validation as the admin. A service's refusal is
answered by the one exception handler (``calls.errors.api_exception_handler``): 400 or 409 with its
message.

- ``statements``: statements, periods and runs.
- ``organisation``: regions, teams, groups and agents.
- ``plans``: the metric catalogue, plans and their versions, targets, proposals, adjustments.
- ``reviews``: the performance interview, its actions and its progress.
"""

from .organisation import (
    AgentFilter,
    AgentViewSet,
    GroupViewSet,
    RegionViewSet,
    TeamIdFilter,
    TeamViewSet,
)
from .plans import (
    AdjustmentViewSet,
    MetricCatalogueApi,
    PlanProblemsApi,
    PlanVersionFilter,
    PlanVersionViewSet,
    PlanViewSet,
    TargetOverrideViewSet,
    TargetProposalApi,
)
from .reviews import (
    ReviewActionDoneApi,
    ReviewActionsDueApi,
    ReviewFilter,
    ReviewProgressApi,
    ReviewViewSet,
)
from .statements import (
    PeriodListApi,
    PeriodPayrollApi,
    RunDetailApi,
    RunStartApi,
    StatementDetailApi,
    StatementListApi,
)

__all__ = [
    "AdjustmentViewSet",
    "AgentFilter",
    "AgentViewSet",
    "GroupViewSet",
    "MetricCatalogueApi",
    "PeriodListApi",
    "PeriodPayrollApi",
    "PlanProblemsApi",
    "PlanVersionFilter",
    "PlanVersionViewSet",
    "PlanViewSet",
    "RegionViewSet",
    "ReviewActionDoneApi",
    "ReviewActionsDueApi",
    "ReviewFilter",
    "ReviewProgressApi",
    "ReviewViewSet",
    "RunDetailApi",
    "RunStartApi",
    "StatementDetailApi",
    "StatementListApi",
    "TargetOverrideViewSet",
    "TargetProposalApi",
    "TeamIdFilter",
    "TeamViewSet",
]
