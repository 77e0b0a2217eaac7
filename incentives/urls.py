from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import SimpleRouter

from incentives import apis, views

app_name = "incentives"
urlpatterns = [
    path("statements/", views.statement_list, name="statement_list"),
    path("hr/api-access/", views.api_access, name="api_access"),
    path("hr/api-access/<int:user_id>/revoke/", views.api_access_revoke, name="api_access_revoke"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("periods/<int:pk>/compute/", views.period_compute, name="period_compute"),
    path("months/<int:year>-<int:month>/compute/", views.month_compute, name="month_compute"),
    path(
        "periods/<int:pk>/runs/<int:run_pk>/approve/", views.period_approve, name="period_approve"
    ),
    path("periods/<int:pk>/close/", views.period_close, name="period_close"),
    path("periods/<int:pk>/reopen/", views.period_reopen, name="period_reopen"),
    path("questions/", views.disputes, name="disputes"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("periods/<int:pk>/payroll.csv", views.period_payroll_csv, name="period_payroll_csv"),
    path("periods/<int:pk>/payroll.xlsx", views.period_payroll_xlsx, name="period_payroll_xlsx"),
]

router = SimpleRouter()
router.register("regions", apis.RegionViewSet, basename="api-region")
router.register("teams", apis.TeamViewSet, basename="api-team")
router.register("groups", apis.GroupViewSet, basename="api-group")
router.register("agents", apis.AgentViewSet, basename="api-agent")
router.register("plans", apis.PlanViewSet, basename="api-plan")
router.register("plan-versions", apis.PlanVersionViewSet, basename="api-plan-version")
router.register("targets", apis.TargetOverrideViewSet, basename="api-target")
router.register("adjustments", apis.AdjustmentViewSet, basename="api-adjustment")
router.register("reviews", apis.ReviewViewSet, basename="api-review")

# Mounted under /api/v1/ by config.urls.
api_urlpatterns: list[URLPattern | URLResolver] = [
    path("", include(router.urls)),
    path("metrics/", apis.MetricCatalogueApi.as_view(), name="api-metrics"),
    path("plan-problems/", apis.PlanProblemsApi.as_view(), name="api-plan-problems"),
    path("target-proposals/", apis.TargetProposalApi.as_view(), name="api-target-proposals"),
    path("statements/", apis.StatementListApi.as_view(), name="api-statements"),
    path("statements/<int:pk>/", apis.StatementDetailApi.as_view(), name="api-statement"),
    path("periods/", apis.PeriodListApi.as_view(), name="api-periods"),
    path("periods/<int:pk>/runs/", apis.RunStartApi.as_view(), name="api-period-runs"),
    path("periods/<int:pk>/payroll/", apis.PeriodPayrollApi.as_view(), name="api-period-payroll"),
    path("runs/<int:pk>/", apis.RunDetailApi.as_view(), name="api-run"),
    path("review-actions/due/", apis.ReviewActionsDueApi.as_view(), name="api-review-actions-due"),
    path(
        "review-actions/<int:pk>/done/",
        apis.ReviewActionDoneApi.as_view(),
        name="api-review-action-done",
    ),
    path("review-progress/", apis.ReviewProgressApi.as_view(), name="api-review-progress"),
]
