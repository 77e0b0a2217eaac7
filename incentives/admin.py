from django.contrib import admin

from incentives.models import Agent, Period, Plan, PlanMetric, PlanTier, Run, RunChunk, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    filter_horizontal = ["leads"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["employee_id", "name", "team", "active"]
    list_filter = ["team", "active"]
    search_fields = ["employee_id", "name"]
    raw_id_fields = ["user"]


class PlanMetricInline(admin.TabularInline):
    model = PlanMetric
    extra = 0


class PlanTierInline(admin.TabularInline):
    model = PlanTier
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "effective_from", "effective_to", "target_bonus", "currency"]
    search_fields = ["code", "name"]
    filter_horizontal = ["teams"]
    inlines = [PlanMetricInline, PlanTierInline]


class RunChunkInline(admin.TabularInline):
    model = RunChunk
    extra = 0
    can_delete = False
    readonly_fields = ["team", "status", "attempts", "statements", "problem", "finished_at"]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs are made by the compute action and kept as history: read-only here."""

    list_display = ["period", "number", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    inlines = [RunChunkInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "approved_run", "approved_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "approved_run", "approved_at", "approved_by"]
