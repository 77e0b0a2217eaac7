"""The organisation: regions, teams and groups (deleted through the services, which refuse what
something still refers to), and agents (added and moved through ``agent_create`` / ``agent_place``)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incentives import services
from incentives.admin.common import DeleteThroughService, ServiceCheckedForm
from incentives.models import Agent, Group, Placement, Region, Team


@admin.register(Region)
class RegionAdmin(DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]

    def delete_service(self, obj):
        services.region_delete(region=obj)


class GroupInline(admin.TabularInline):
    """A group some placement refers to is not deleted here: Django's inline form says which ones."""

    model = Group
    extra = 0


@admin.register(Team)
class TeamAdmin(DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name", "region", "monthly_budget"]
    list_filter = ["region"]
    search_fields = ["code", "name"]
    filter_horizontal = ["leads"]
    inlines = [GroupInline]

    def delete_service(self, obj):
        services.team_delete(team=obj)


@admin.register(Group)
class GroupAdmin(DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name", "team"]
    list_filter = ["team"]
    search_fields = ["code", "name"]

    def delete_service(self, obj):
        services.group_delete(group=obj)


class PlacementInline(admin.TabularInline):
    """History: read-only. A move is made with the 'move to' fields of the agent form."""

    model = Placement
    extra = 0
    can_delete = False
    readonly_fields = ["team", "group", "valid_from", "valid_to"]

    def has_add_permission(self, request, obj=None):
        return False


class AgentForm(ServiceCheckedForm):
    """An agent, and a dated move. A new agent is written by ``agent_create`` and a move by
    ``agent_place`` (the API's), which refuse a group of another team or a move that would rewrite
    history, in the words this form shows."""

    move_team = forms.ModelChoiceField(Team.objects.all(), required=False, label=_("move to team"))
    move_group = forms.ModelChoiceField(
        Group.objects.all(), required=False, label=_("move to group")
    )
    move_from = forms.DateField(
        required=False, label=_("from"), help_text=_("The first day in the new team.")
    )

    class Meta:
        model = Agent
        fields = [
            "employee_id",
            "name",
            "level",
            "channel",
            "base_pay",
            "hire_date",
            "leave_date",
            "user",
        ]

    def clean(self):
        data = super().clean()
        team, group, start = data.get("move_team"), data.get("move_group"), data.get("move_from")
        if self.instance.pk is None and not (team and start):
            raise ValidationError(_("A new agent needs a team and the date they start in it."))
        if (team or group) and not start:
            self.add_error("move_from", _("A move needs the date it takes effect."))
        if group and not team:
            data["move_team"] = group.team
        return data

    def service_write(self, data):
        if self.instance.pk is None:
            return services.agent_create(**agent_create_kwargs(data))
        if data.get("move_team") and data.get("move_from"):
            return services.agent_place(
                agent=self.instance,
                team=data["move_team"],
                group=data.get("move_group"),
                valid_from=data["move_from"],
            )
        return None


def agent_create_kwargs(data: dict) -> dict:
    """What the add form gives ``agent_create``: the agent, and where they start."""
    return {
        "employee_id": data["employee_id"],
        "name": data["name"],
        "level": data["level"],
        "channel": data["channel"],
        "base_pay": data.get("base_pay"),
        "hire_date": data.get("hire_date"),
        "user": data.get("user"),
        "team": data["move_team"],
        "group": data.get("move_group"),
        "placed_from": data["move_from"],
    }


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """An agent is added by ``agent_create`` and moved by ``agent_place``, as in the API; their fields
    are edited as the API's PATCH edits them. Not deleted here (nor by the API): an agent who leaves
    gets a leave date, and their calls and statements keep referring to them."""

    form = AgentForm
    list_display = ["employee_id", "name", "level", "channel", "hire_date", "leave_date"]
    list_filter = ["level", "channel", "placements__team"]
    search_fields = ["employee_id", "name"]
    raw_id_fields = ["user"]
    inlines = [PlacementInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "employee_id",
                    "name",
                    "level",
                    "channel",
                    "base_pay",
                    "hire_date",
                    "leave_date",
                    "user",
                ]
            },
        ),
        (_("Move (dated)"), {"fields": ["move_team", "move_group", "move_from"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # A new agent: no leave date yet (``agent_create`` takes none), and where they start.
        return [
            (
                None,
                {
                    "fields": [
                        "employee_id",
                        "name",
                        "level",
                        "channel",
                        "base_pay",
                        "hire_date",
                        "user",
                    ]
                },
            ),
            (_("Team (from)"), {"fields": ["move_team", "move_group", "move_from"]}),
        ]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        d = form.cleaned_data
        if not change:
            obj.pk = services.agent_create(**agent_create_kwargs(d)).pk
            return
        super().save_model(request, obj, form, change)
        if d.get("move_team") and d.get("move_from"):
            services.agent_place(
                agent=obj, team=d["move_team"], group=d.get("move_group"), valid_from=d["move_from"]
            )
