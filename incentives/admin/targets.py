"""Targets and adjustments: per-period overrides (and proposals from history), corrections of closed
months. Both are written and deleted through their services (``target_override_set``/``_delete``,
``adjustment_create``/``_delete``), which the forms ask first, so a refusal is the API's, in its words,
on the form."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from calls.metrics import METRIC_CHOICES
from incentives import services
from incentives.admin.common import DeleteThroughService, ServiceCheckedForm
from incentives.models import Adjustment, Period, TargetOverride, Team


class TargetOverrideForm(ServiceCheckedForm):
    """Checked by ``target_override_set`` itself (a closed month, a team or an agent, the metric's
    ladder), which also writes it: the API's refusals, in its words."""

    class Meta:
        model = TargetOverride
        fields = ["period", "metric", "team", "agent", "threshold", "target", "excellence", "note"]

    def service_write(self, data):
        return services.target_override_set(
            period=data["period"],
            metric_code=data["metric"],
            threshold=data["threshold"],
            target=data["target"],
            excellence=data.get("excellence"),
            team=data.get("team"),
            agent=data.get("agent"),
            note=data.get("note", ""),
        )


class AdjustmentForm(ServiceCheckedForm):
    """Checked by ``adjustment_create`` (the month it is paid in must be open), which also writes it."""

    class Meta:
        model = Adjustment
        fields = ["period", "agent", "amount", "corrects", "reason"]

    def service_write(self, data):
        return services.adjustment_create(
            period=data["period"],
            agent=data["agent"],
            amount=data["amount"],
            corrects=data["corrects"],
            reason=data["reason"],
        )


class ProposeTargetsForm(forms.Form):
    team = forms.ModelChoiceField(Team.objects.all(), label=_("team"))
    metric = forms.ChoiceField(choices=METRIC_CHOICES, label=_("metric"))
    end = forms.DateField(
        label=_("history up to (not including)"), help_text=_("e.g. the 1st of this month")
    )
    weeks = forms.IntegerField(min_value=12, max_value=24, initial=12, label=_("weeks of history"))
    period = forms.ModelChoiceField(
        Period.objects.exclude(status=Period.Status.CLOSED),
        required=False,
        label=_("save as the team's targets for"),
    )


@admin.register(Adjustment)
class AdjustmentAdmin(DeleteThroughService, admin.ModelAdmin):
    """Corrections of closed months, paid in an open one. Written once: to change one, delete it (while
    its month is open) and write another, so what a statement paid always matches a row."""

    list_display = ["agent", "amount", "corrects", "period", "reason", "created_by", "created_at"]
    list_filter = ["period", "corrects"]
    search_fields = ["agent__employee_id", "agent__name", "reason"]
    autocomplete_fields = ["agent"]
    form = AdjustmentForm

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # The form asked the service first; a refusal it meets now (the month closed meanwhile) is
        # shown on the page by calls.errors' middleware.
        saved = services.adjustment_create(
            period=obj.period,
            agent=obj.agent,
            amount=obj.amount,
            corrects=obj.corrects,
            reason=obj.reason,
            created_by=request.user,
        )
        obj.pk = saved.pk

    def delete_service(self, obj):
        services.adjustment_delete(adjustment=obj)

    def delete_refusal(self, obj):
        return services.adjustments.adjustment_delete_refusal(obj)


@admin.register(TargetOverride)
class TargetOverrideAdmin(DeleteThroughService, admin.ModelAdmin):
    """Overrides per team or agent and period, and the "propose targets from history" page."""

    form = TargetOverrideForm
    change_list_template = "admin/incentives/targetoverride/change_list.html"

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "propose/",
                self.admin_site.admin_view(self.propose_view),
                name="incentives_target_propose",
            ),
            *super().get_urls(),
        ]

    def propose_view(self, request):
        """Propose threshold / target / excellence from history; HR saves it as is, or edits it after."""
        from django.template.response import TemplateResponse

        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProposeTargetsForm(request.POST or None)
        proposal = saved = None
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                proposal = services.targets_propose(
                    team=d["team"], metric_code=d["metric"], end=d["end"], weeks=d["weeks"]
                )
                if d["period"] is not None and "save" in request.POST:
                    saved = services.target_override_set(
                        period=d["period"],
                        metric_code=d["metric"],
                        team=d["team"],
                        threshold=proposal.threshold,
                        target=proposal.target,
                        excellence=proposal.excellence,
                        note=f"proposed from {proposal.start} to {proposal.end}: {proposal.method}",
                        user=request.user,
                    )
            except services.TargetInvalid as exc:
                form.add_error(None, str(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Propose targets from history"),
            "form": form,
            "proposal": proposal,
            "saved": saved,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/incentives/targetoverride/propose.html", context)

    list_display = ["period", "metric", "team", "agent", "threshold", "target", "excellence"]
    list_filter = ["period", "metric", "team"]
    search_fields = ["agent__employee_id", "agent__name"]
    raw_id_fields = ["agent"]

    def save_model(self, request, obj, form, change):
        override = services.target_override_set(
            period=obj.period,
            metric_code=obj.metric,
            threshold=obj.threshold,
            target=obj.target,
            excellence=obj.excellence,
            team=obj.team,
            agent=obj.agent,
            note=obj.note,
            user=request.user,
        )
        obj.pk = override.pk

    def delete_service(self, obj):
        services.target_override_delete(override=obj)

    def delete_refusal(self, obj):
        return services.targets.target_override_delete_refusal(obj)
