"""URL map: pages, the admin (HR), the API under /api/v1/, the OpenAPI schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView

from calls.roles import AGENT, HR, LEAD, public
from calls.urls import api_urlpatterns as calls_api
from incentives.urls import api_urlpatterns as incentives_api
from reports import views as report_views
from reports.urls import api_urlpatterns as reports_api


class SchemaView(SpectacularAPIView):
    allowed_roles = {HR, LEAD, AGENT}


urlpatterns = [
    path("", report_views.home, name="home"),
    path(
        "accounts/login/",
        public(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("i18n/setlang/", public(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("reports.urls")),
    path("", include("incentives.urls")),
    path("", include("calls.urls")),
    path("api/v1/", include(incentives_api)),
    path("api/v1/", include(calls_api)),
    path("api/v1/", include(reports_api)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
]
