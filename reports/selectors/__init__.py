"""Reads for the reports' pages, one module per page they serve; each aggregated in the database, a
fixed number of queries per page. They return plain data (dataclasses, named tuples, querysets): the
HTML is written by the templates and the tags of ``reports/templatetags/``.

- ``approval``: HR's overview of runs, the review before approval, two runs compared, what-if, the
  scores and plans compared across months;
- ``dashboard``: the lead's team page and dashboard (window, trends, alerts, reviews, calls);
- ``recognitions``: the leaderboards, an agent's recognitions and rank;
- ``agent``: the agent's month so far, and the questions and calls behind their statement's lines;
- ``top_fifth``: a team's top 20% against the rest, metric by metric (the lead's dashboard).

The names below are those the views, APIs and tests imported from the single module this package
replaces; new code imports from the module that serves its page.
"""

from reports.selectors.agent import MonthSoFar, SoFarLine, month_so_far
from reports.selectors.approval import (
    LARGEST_CHANGES,
    SCORE_BANDS,
    Change,
    Difference,
    PlanComparison,
    PlanRow,
    Review,
    ScoreMonth,
    TeamTotal,
    WhatIf,
    approval_review,
    band_label,
    paying_run,
    plan_comparison,
    run_problems,
    runs_compare,
    score_distribution,
    score_months,
    team_totals,
    whatif,
)
from reports.selectors.dashboard import (
    BELOW,
    MARKS,
    OK,
    TREND_DAYS,
    WINDOWS,
    Cell,
    Dashboard,
    DashboardRow,
    TeamReviews,
    Trend,
    agent_calls,
    latest_approved_period,
    team_alerts,
    team_dashboard,
    team_reviews,
    team_statements,
    window_bounds,
)
from reports.selectors.recognitions import (
    Ranked,
    Recognition,
    best_of_month,
    quarter_top,
    recognitions,
    team_rank,
)

__all__ = [
    "BELOW",
    "LARGEST_CHANGES",
    "MARKS",
    "OK",
    "SCORE_BANDS",
    "TREND_DAYS",
    "WINDOWS",
    "Cell",
    "Change",
    "Dashboard",
    "DashboardRow",
    "Difference",
    "MonthSoFar",
    "PlanComparison",
    "PlanRow",
    "Ranked",
    "Recognition",
    "Review",
    "ScoreMonth",
    "SoFarLine",
    "TeamReviews",
    "TeamTotal",
    "Trend",
    "WhatIf",
    "agent_calls",
    "approval_review",
    "band_label",
    "best_of_month",
    "latest_approved_period",
    "month_so_far",
    "paying_run",
    "plan_comparison",
    "quarter_top",
    "recognitions",
    "run_problems",
    "runs_compare",
    "score_distribution",
    "score_months",
    "team_alerts",
    "team_dashboard",
    "team_rank",
    "team_reviews",
    "team_statements",
    "team_totals",
    "whatif",
    "window_bounds",
]
