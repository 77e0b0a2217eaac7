from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("hr/", views.hr_overview, name="hr_overview"),
    path("team/", views.team, name="team"),
    path("team/<slug:code>/", views.team, name="team_detail"),
    path("me/", views.agent_home, name="agent_home"),
]
