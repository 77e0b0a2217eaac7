from django.urls import path

from incentives import apis, views

app_name = "incentives"
urlpatterns = [
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("periods/<int:pk>/compute/", views.period_compute, name="period_compute"),
    path(
        "periods/<int:pk>/runs/<int:run_pk>/approve/", views.period_approve, name="period_approve"
    ),
]

# Mounted under /api/v1/ by config.urls.
api_urlpatterns = [
    path("statements/", apis.StatementListApi.as_view(), name="api-statements"),
    path("statements/<int:pk>/", apis.StatementDetailApi.as_view(), name="api-statement"),
    path("periods/", apis.PeriodListApi.as_view(), name="api-periods"),
    path("periods/<int:pk>/runs/", apis.RunStartApi.as_view(), name="api-period-runs"),
    path("runs/<int:pk>/", apis.RunDetailApi.as_view(), name="api-run"),
]
