"""URL map: pages, the admin (HR), the API under /api/v1/, the OpenAPI schema."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from calls.roles import AGENT, HR, LEAD, public
from calls.urls import api_urlpatterns as calls_api
from incentives.urls import api_urlpatterns as incentives_api
from reports import views as report_views
from reports.urls import api_urlpatterns as reports_api

# The admin is HR's configuration room: it carries the product's name, not Django's.
admin.site.site_header = _("Contact-center incentives · configuration")
admin.site.site_title = _("Contact-center incentives")
admin.site.index_title = _("Organisation, plans and schedules")
admin.site.site_url = "/"


class SchemaView(SpectacularAPIView):
    allowed_roles = {HR, LEAD, AGENT}


class SwaggerView(SpectacularSwaggerView):
    allowed_roles = {HR, LEAD, AGENT}


class RedocView(SpectacularRedocView):
    allowed_roles = {HR, LEAD, AGENT}


# The API's lists, by the name its root gives them: what a client starts from.
API_LISTS = {
    "regions": "api-region-list",
    "teams": "api-team-list",
    "groups": "api-group-list",
    "agents": "api-agent-list",
    "plans": "api-plan-list",
    "plan-versions": "api-plan-version-list",
    "targets": "api-target-list",
    "adjustments": "api-adjustment-list",
    "reviews": "api-review-list",
    "metrics": "api-metrics",
    "plan-problems": "api-plan-problems",
    "target-proposals": "api-target-proposals",
    "statements": "api-statements",
    "periods": "api-periods",
    "review-actions-due": "api-review-actions-due",
    "review-progress": "api-review-progress",
    "imports": "api-imports",
    "queue-figures": "api-queue-figures",
    "what-if": "api-what-if",
}


class ApiRoot(APIView):
    """The API's root: a link to each list, to the schema and to its documentation pages. What a
    caller may read in each is decided by the list itself, by the caller's role."""

    allowed_roles = {HR, LEAD, AGENT}

    @extend_schema(
        operation_id="api_root",
        responses={
            200: OpenApiResponse(
                response={
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "uri"},
                },
                description="The URL of each list, of the schema and of the documentation pages, by name.",
            )
        },
    )
    def get(self, request):
        links = {name: reverse(url, request=request) for name, url in API_LISTS.items()}
        for name, url in (("schema", "api-schema"), ("docs", "api-docs"), ("redoc", "api-redoc")):
            links[name] = reverse(url, request=request)
        return Response(links)


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
    path("api/v1/", ApiRoot.as_view(), name="api-root"),
    path("api/v1/", include(incentives_api)),
    path("api/v1/", include(calls_api)),
    path("api/v1/", include(reports_api)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
