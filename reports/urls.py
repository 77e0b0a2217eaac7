from django.urls import URLPattern, URLResolver, path

from reports import apis, views

app_name = "reports"
urlpatterns = [
    path("hr/", views.hr_overview, name="hr_overview"),
    path("team/", views.team, name="team"),
    path("team/<slug:code>/", views.team, name="team_detail"),
    path("team/<slug:code>/dashboard/", views.team_dashboard, name="team_dashboard"),
    path("team/<slug:code>/agents/<int:agent_id>/calls/", views.agent_calls, name="agent_calls"),
    path("me/", views.agent_home, name="agent_home"),
    path("me/lines/<int:line_id>/calls/", views.agent_line_calls, name="agent_line_calls"),
    path(
        "me/lines/<int:line_id>/question/",
        views.agent_line_question,
        name="agent_line_question",
    ),
    path(
        "hr/periods/<int:pk>/runs/<int:run_pk>/review/",
        views.approval_review,
        name="approval_review",
    ),
    path("hr/periods/<int:pk>/compare/", views.runs_compare, name="runs_compare"),
    path("hr/what-if/", views.whatif, name="whatif"),
    path("hr/plans/", views.plan_comparison, name="plan_comparison"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("runs/<int:pk>/review/", apis.ApprovalReviewApi.as_view(), name="api-run-review"),
    path("runs/<int:pk>/compare/", apis.RunCompareApi.as_view(), name="api-run-compare"),
    path("what-if/", apis.WhatIfApi.as_view(), name="api-what-if"),
]
