from django.urls import URLPattern, URLResolver, path

from calls import apis, views

app_name = "calls"
urlpatterns = [
    path("imports/", views.import_upload, name="import"),
    path("imports/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("imports/<int:pk>/errors.csv", views.batch_errors_csv, name="batch_errors"),
    path("imports/<int:pk>/rollback/", views.batch_rollback, name="batch_rollback"),
]

# Mounted under /api/v1/ by config.urls.
api_urlpatterns: list[URLPattern | URLResolver] = [
    path("imports/", apis.ImportCreateApi.as_view(), name="api-imports"),
    path("imports/<int:pk>/", apis.ImportDetailApi.as_view(), name="api-import"),
    path(
        "imports/<int:pk>/rollback/", apis.ImportRollbackApi.as_view(), name="api-import-rollback"
    ),
    path("queues/figures/", apis.QueueFiguresApi.as_view(), name="api-queue-figures"),
]
