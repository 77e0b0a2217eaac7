"""Months and their computations: runs are history, a month's life cycle is written on the Overview."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from incentives import services
from incentives.admin.common import ReadOnly
from incentives.models import Period, PeriodReopening, Run, RunChunk


class RunChunkInline(admin.TabularInline):
    model = RunChunk
    extra = 0
    can_delete = False
    readonly_fields = ["team_names", "status", "attempts", "statements", "problem", "finished_at"]
    fields = tuple(readonly_fields)

    @admin.display(description=_("teams"))
    def team_names(self, chunk):
        return ", ".join(str(team) for team in chunk.teams.all())


@admin.register(Run)
class RunAdmin(ReadOnly, admin.ModelAdmin):
    """Runs are made by the compute action and kept as history: read-only here."""

    list_display = ["period", "number", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    inlines = [RunChunkInline]


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    """A month is opened here through ``period_get_or_create`` (the service computing a month uses);
    it is computed, approved, closed and reopened on the Overview, through the services that check its
    state. So nothing of a month is changed or deleted here: a changed year or month would move its
    runs and statements to another month, and a status set by hand would skip the locks on its data."""

    list_display = ["__str__", "status", "approved_run", "approved_at"]
    list_filter = ["status"]
    fields = ["year", "month", "status", "approved_run", "approved_at", "approved_by"]
    readonly_fields = ["status", "approved_run", "approved_at", "approved_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        period = services.period_get_or_create(year=obj.year, month=obj.month)
        obj.pk = period.pk


@admin.register(PeriodReopening)
class PeriodReopeningAdmin(ReadOnly, admin.ModelAdmin):
    """Approved months HR reopened, with who, when and why: made on the Overview, kept as history."""

    list_display = ["period", "approved_run", "reopened_by", "reopened_at", "reason"]
    list_filter = ["period"]
