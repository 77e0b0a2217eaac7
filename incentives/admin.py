"""The admin: HR's workshop for the organisation and the plans.

Plan versions are edited with inlines for metrics, tiers, gates and awards; every rule is checked by
``incentives.validation`` (the same functions the API uses) in the forms' ``clean``, so the admin refuses
exactly what the API refuses. Versions are written, activated and deleted by the services the API
calls (``plan_version_create``/``_update``/``_activate``/``_delete``), so both refuse the same things with
the same words. A version used by a computation is read-only; "make a new version" is how it changes.
An agent's team is changed by a dated move, never by editing history. Deletes go through services too
(``_DeleteThroughService``): a refusal is a message on the page, never a server error.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import construct_change_message, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from calls import errors
from calls.metrics import METRIC_CHOICES
from incentives import services
from incentives.explain import explain, worked_examples
from incentives.models import (
    ActionItem,
    Adjustment,
    Agent,
    AgreedTarget,
    Channel,
    Group,
    Level,
    Period,
    PeriodReopening,
    Placement,
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
    Region,
    Review,
    RootCause,
    Run,
    RunChunk,
    SharedSkill,
    SkillMark,
    TargetOverride,
    Team,
)
from incentives.presets import AwardSpec
from incentives.validation import (
    GateSpec,
    MetricSpec,
    TierSpec,
    VersionSpec,
    gates_problems,
    header_problems,
    metrics_problems,
    tiers_problems,
)


class _DeleteThroughService:
    """Deletes go through the service the API uses (``delete_service``), so the admin refuses what the
    API refuses, in the same words. The delete page and the bulk action first ask why not
    (``delete_refusal``: by default what still refers to the object) and say so instead of offering
    to confirm; the delete itself goes through the service, which checks again under its locks (a
    refusal then is shown by ``calls.errors.DomainErrorMiddleware``)."""

    actions = ["delete_selected"]

    def delete_service(self, obj) -> None:
        errors.delete_or_refuse(obj)

    def delete_refusal(self, obj) -> str | None:
        return errors.delete_refusal(obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        refusal = self.delete_refusal(obj) if obj is not None else None
        if refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            opts = self.model._meta
            return redirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        self.delete_service(obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():  # all of the selection or none of it
            for obj in queryset:
                self.delete_service(obj)

    @admin.action(permissions=["delete"], description=_("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request, queryset):
        refusals = [str(r) for r in map(self.delete_refusal, queryset) if r]
        for refusal in refusals:
            self.message_user(request, refusal, messages.ERROR)
        if refusals:
            return None  # back to the list: nothing is deleted
        return admin_actions.delete_selected(self, request, queryset)


@admin.register(Region)
class RegionAdmin(_DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]

    def delete_service(self, obj):
        services.region_delete(region=obj)


class GroupInline(admin.TabularInline):
    """A group some placement refers to is not deleted here: Django's inline form says which ones."""

    model = Group
    extra = 0


@admin.register(Team)
class TeamAdmin(_DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name", "region", "monthly_budget"]
    list_filter = ["region"]
    search_fields = ["code", "name"]
    filter_horizontal = ["leads"]
    inlines = [GroupInline]

    def delete_service(self, obj):
        services.team_delete(team=obj)


@admin.register(Group)
class GroupAdmin(_DeleteThroughService, admin.ModelAdmin):
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


class AgentForm(forms.ModelForm):
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
            data["move_team"] = team = group.team
        if group and team and group.team_id != team.pk:
            self.add_error("move_group", _("This group belongs to another team."))
        latest = (
            self.instance.placements.order_by("-valid_from").first() if self.instance.pk else None
        )
        if start and latest and start <= latest.valid_from:
            self.add_error("move_from", _("Must be after %(d)s, the start of the current placement: history is "
                                          "never rewritten.") % {"d": latest.valid_from})  # fmt: skip
        return data


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentForm
    list_display = ["employee_id", "name", "level", "channel", "hire_date", "leave_date"]
    list_filter = ["level", "channel", "placements__team"]
    search_fields = ["employee_id", "name"]
    raw_id_fields = ["user"]
    inlines = [PlacementInline]
    fieldsets = [
        (None, {"fields": ["employee_id", "name", "level", "channel", "base_pay", "hire_date", "leave_date",
                           "user"]}),
        (_("Move (dated)"), {"fields": ["move_team", "move_group", "move_from"]}),
    ]  # fmt: skip

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        team, start = form.cleaned_data.get("move_team"), form.cleaned_data.get("move_from")
        if team and start:
            services.agent_place(
                agent=obj, team=team, group=form.cleaned_data.get("move_group"), valid_from=start
            )


# --- plans ----------------------------------------------------------------------------------------


def _decimal_or_none(value):
    return value if value not in ("", None) else None


class _SectionFormSet(forms.BaseInlineFormSet):
    """Runs one section of ``incentives.validation`` over the rows being saved and puts each problem on
    its row and field (or above the table when it concerns the whole section)."""

    section_check = None

    def validate_unique(self):
        """Duplicates are a rule of ``incentives.validation`` (same words as the API), not Django's."""

    def spec(self, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        forms_kept = [
            form for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]  # fmt: skip
        specs = [self.spec(form.cleaned_data) for form in forms_kept]
        general = []
        for problem in type(self).section_check(specs):
            if problem.index is None:
                general.append(problem.message)
            elif problem.field and problem.field in forms_kept[problem.index].fields:
                forms_kept[problem.index].add_error(problem.field, problem.message)
            else:
                forms_kept[problem.index].add_error(None, problem.message)
        if general:
            raise ValidationError(general)


class MetricFormSet(_SectionFormSet):
    section_check = staticmethod(metrics_problems)

    def spec(self, d):
        return MetricSpec(
            metric=d["metric"], weight=d["weight"], threshold=d["threshold"], target=d["target"],
            threshold_payout=d["threshold_payout"], excellence=_decimal_or_none(d.get("excellence")),
            excellence_payout=_decimal_or_none(d.get("excellence_payout")), scope=d["scope"],
            measure=d["measure"], baseline=d.get("baseline") or "", no_data=d["no_data"],
            params=d.get("params") or {},
        )  # fmt: skip


class TierFormSet(_SectionFormSet):
    section_check = staticmethod(tiers_problems)

    def spec(self, d):
        return TierSpec(d["from_score"], d["rate"], d.get("kicker") or 0)


class GateFormSet(_SectionFormSet):
    section_check = staticmethod(gates_problems)

    def spec(self, d):
        return GateSpec(
            metric=d["metric"], comparison=d["comparison"], value=d["value"], effect=d["effect"],
            factor=_decimal_or_none(d.get("factor")), score_cap=_decimal_or_none(d.get("score_cap")),
            scope=d["scope"], params=d.get("params") or {},
        )  # fmt: skip


class _LockedInline:
    """Inlines of a version used by a computation are read-only like the version itself."""

    def has_add_permission(self, request, obj=None):
        return not (obj and obj.locked) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not (obj and obj.locked) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.locked) and super().has_delete_permission(request, obj)


class PlanMetricInline(_LockedInline, admin.StackedInline):
    model = PlanMetric
    formset = MetricFormSet
    extra = 0
    fields = [("metric", "weight", "scope", "measure", "baseline"),
              ("threshold", "threshold_payout", "target", "excellence", "excellence_payout"),
              ("no_data", "params")]  # fmt: skip


class PlanTierInline(_LockedInline, admin.TabularInline):
    model = PlanTier
    formset = TierFormSet
    extra = 0


class PlanGateInline(_LockedInline, admin.TabularInline):
    model = PlanGate
    formset = GateFormSet
    extra = 0


class PlanAwardInline(_LockedInline, admin.TabularInline):
    model = PlanAward
    extra = 0


class PlanVersionForm(forms.ModelForm):
    levels = forms.MultipleChoiceField(
        choices=Level.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every level."),
    )
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False,
                                         widget=forms.CheckboxSelectMultiple,
                                         help_text=_("None: every channel."))  # fmt: skip

    class Meta:
        model = PlanVersion
        fields = [
            "plan", "effective_from", "effective_to", "target_bonus_kind", "target_bonus",
            "target_bonus_percent", "currency", "payout_cap_kind", "payout_cap", "teams", "groups",
            "levels", "channels", "note",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        spec = VersionSpec(
            effective_from=data["effective_from"], effective_to=data.get("effective_to"),
            target_bonus_kind=data["target_bonus_kind"], target_bonus=data.get("target_bonus"),
            target_bonus_percent=data.get("target_bonus_percent"), payout_cap_kind=data["payout_cap_kind"],
            payout_cap=data.get("payout_cap"),
        )  # fmt: skip
        for problem in header_problems(spec):
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        if self.instance.pk and self.instance.status == PlanVersion.Status.ACTIVE:
            for problem in services.plans.overlap_problems_for(
                plan=self.instance.plan, exclude_pk=self.instance.pk, effective_from=data["effective_from"],
                effective_to=data.get("effective_to"), teams=data.get("teams") or [],
                groups=data.get("groups") or [], levels=data.get("levels") or [],
                channels=data.get("channels") or [],
            ):  # fmt: skip
                self.add_error(None, problem.message)
        return data


def _kept(formset) -> list:
    """The forms of an inline formset that stay (filled in, not marked for deletion)."""
    return [
        form for form in formset.forms
        if form.cleaned_data and not formset._should_delete_form(form)
    ]  # fmt: skip


@admin.register(PlanVersion)
class PlanVersionAdmin(_DeleteThroughService, admin.ModelAdmin):
    form = PlanVersionForm
    list_display = [
        "__str__",
        "status",
        "effective_from",
        "effective_to",
        "target_bonus_kind",
        "used",
    ]
    list_filter = ["status", "plan", "teams"]
    search_fields = ["plan__code", "plan__name"]
    filter_horizontal = ["teams", "groups"]
    readonly_fields = ["status", "number", "how_it_pays"]
    inlines = [PlanMetricInline, PlanTierInline, PlanGateInline, PlanAwardInline]
    actions = ["delete_selected", "activate", "new_version", "copy_as_new_plan"]
    fieldsets = [
        (None, {"fields": ["plan", "number", "status", ("effective_from", "effective_to"), "note"]}),
        (_("Bonus"), {"fields": [("target_bonus_kind", "target_bonus", "target_bonus_percent", "currency"),
                                 ("payout_cap_kind", "payout_cap")]}),
        (_("Who it applies to (empty: everyone)"), {"fields": ["teams", "groups", "levels", "channels"]}),
        (_("How this plan pays"), {"fields": ["how_it_pays"]}),
    ]  # fmt: skip

    @admin.display(boolean=True, description=_("used by a computation"))
    def used(self, obj):
        return obj.locked

    @admin.display(description=_("In words"))
    def how_it_pays(self, obj):
        if obj is None or obj.pk is None:
            return _("Save the version to see it explained.")
        spec = services.version_spec_from_db(obj)
        problems = services.plans.version_problems(spec)
        if problems:
            return format_html(
                "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((str(p),) for p in problems))
            )
        words = format_html_join(
            "", "<li>{}</li>", ((line,) for line in explain(spec, obj.currency))
        )
        examples = worked_examples(spec, obj.currency)
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f"{s:f}", f"{amount:,.2f} {obj.currency}", how) for s, amount, how in examples),
        )  # fmt: skip
        return format_html(
            "<ul>{}</ul><p><strong>{}</strong></p><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            words, _("Worked example (no gate hit)"), _("weighted score"), _("payout"), _("how"), rows,
        )  # fmt: skip

    def has_change_permission(self, request, obj=None):
        return not (obj and obj.locked) and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "plan"] if obj is not None else fields  # a version stays in its plan

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self.get_object(request, unquote(object_id))
        if version is not None and version.locked and request.method == "GET":
            # Read-only, and why: the words the API answers a change with (409).
            self.message_user(request, services.plans.locked_message(version), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Nothing here: ``save_related`` writes the version and its rows together."""

    def save_related(self, request, form, formsets, change):
        """Write the version with its metrics, tiers, gates, awards and scope through the services
        the API uses (``plan_version_create`` / ``plan_version_update``), from what the forms
        cleaned; a refusal they find beyond the forms' checks is a message on the page."""
        d = form.cleaned_data
        sections = {formset.model: formset for formset in formsets}
        spec = VersionSpec(
            effective_from=d["effective_from"], effective_to=d.get("effective_to"),
            target_bonus_kind=d["target_bonus_kind"], target_bonus=d.get("target_bonus"),
            target_bonus_percent=d.get("target_bonus_percent"), payout_cap_kind=d["payout_cap_kind"],
            payout_cap=d.get("payout_cap"),
            metrics=[sections[PlanMetric].spec(f.cleaned_data) for f in _kept(sections[PlanMetric])],
            tiers=[sections[PlanTier].spec(f.cleaned_data) for f in _kept(sections[PlanTier])],
            gates=[sections[PlanGate].spec(f.cleaned_data) for f in _kept(sections[PlanGate])],
        )  # fmt: skip
        written = {
            "spec": spec, "teams": d.get("teams") or [], "groups": d.get("groups") or [],
            "levels": d.get("levels") or [], "channels": d.get("channels") or [],
            "currency": d["currency"], "note": d.get("note", ""),
            "awards": [
                AwardSpec(f.cleaned_data["kind"], f.cleaned_data.get("count") or 1, f.cleaned_data.get("note", ""))
                for f in _kept(sections[PlanAward])
            ],
        }  # fmt: skip
        if change:
            version = services.plan_version_update(version=form.instance, **written)
        else:
            version = services.plan_version_create(plan=d["plan"], **written)
        # The admin's redirect and its own history name the version written.
        form.instance.pk, form.instance.number = version.pk, version.number

    def construct_change_message(self, request, form, formsets, add=False):
        """The service replaced the rows (the formsets saved nothing): the admin's history names the
        version's changed fields; the audit trail keeps every value."""
        return construct_change_message(form, [], add)

    def delete_service(self, obj):
        services.plan_version_delete(version=obj)

    def delete_refusal(self, obj):
        return services.plans.plan_version_delete_refusal(obj)

    @admin.action(description=_("Activate the selected versions"))
    def activate(self, request, queryset):
        for version in queryset:
            try:
                services.plan_version_activate(version=version)
            except errors.DomainError as exc:
                self.message_user(request, f"{version}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("%(v)s is active.") % {"v": version}, messages.SUCCESS)

    @admin.action(description=_("Make a new version (draft, from the first of next month)"))
    def new_version(self, request, queryset):
        today = dt.date.today()
        first_next = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        for version in queryset:
            new = services.plan_version_new(version=version, effective_from=max(first_next, version.effective_from
                                            + dt.timedelta(days=1)))  # fmt: skip
            self.message_user(
                request, _("%(v)s created as a draft.") % {"v": new}, messages.SUCCESS
            )

    @admin.action(description=_("Copy as a new plan (draft)"))
    def copy_as_new_plan(self, request, queryset):
        for version in queryset:
            code = f"{version.plan.code}-copy"
            n = 1
            while Plan.objects.filter(code=code).exists():
                n += 1
                code = f"{version.plan.code}-copy{n}"
            plan = services.plan_copy(
                version=version, code=code, name=f"{version.plan.name} (copy)"
            )
            self.message_user(request, _("%(p)s created.") % {"p": plan}, messages.SUCCESS)


class PlanVersionInline(admin.TabularInline):
    model = PlanVersion
    extra = 0
    fields = ["number", "status", "effective_from", "effective_to"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(_DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [PlanVersionInline]

    def delete_service(self, obj):
        services.plan_delete(plan=obj)

    def delete_refusal(self, obj):
        return services.plans.plan_delete_refusal(obj)


class TargetOverrideForm(forms.ModelForm):
    class Meta:
        model = TargetOverride
        fields = ["period", "metric", "team", "agent", "threshold", "target", "excellence", "note"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if (data.get("team") is None) == (data.get("agent") is None):
            raise ValidationError(_("Choose a team or an agent, exactly one of them."))
        if data["period"].status == Period.Status.CLOSED:
            raise ValidationError(_("This period is closed: its targets can no longer change."))
        problem = services.targets.target_problem(
            data["metric"], data["threshold"], data["target"], data.get("excellence")
        )
        if problem:
            raise ValidationError(problem)
        return data


class ProposeTargetsForm(forms.Form):
    team = forms.ModelChoiceField(Team.objects.all(), label=_("team"))
    metric = forms.ChoiceField(choices=METRIC_CHOICES, label=_("metric"))
    end = forms.DateField(
        label=_("history up to (not including)"), help_text=_("e.g. the 1st of this month")
    )
    weeks = forms.IntegerField(min_value=12, max_value=24, initial=12, label=_("weeks of history"))
    period = forms.ModelChoiceField(Period.objects.exclude(status=Period.Status.CLOSED), required=False,
                                    label=_("save as the team's targets for"))  # fmt: skip


@admin.register(Adjustment)
class AdjustmentAdmin(_DeleteThroughService, admin.ModelAdmin):
    """Corrections of closed months, paid in an open one. Written once: to change one, delete it (while
    its month is open) and write another, so what a statement paid always matches a row."""

    list_display = ["agent", "amount", "corrects", "period", "reason", "created_by", "created_at"]
    list_filter = ["period", "corrects"]
    search_fields = ["agent__employee_id", "agent__name", "reason"]
    autocomplete_fields = ["agent"]
    fields = ["period", "agent", "amount", "corrects", "reason"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        # A refusal (a month no longer open) is shown on the page by calls.errors' middleware.
        saved = services.adjustment_create(
            period=obj.period, agent=obj.agent, amount=obj.amount, corrects=obj.corrects,
            reason=obj.reason, created_by=request.user,
        )  # fmt: skip
        obj.pk = saved.pk

    def delete_service(self, obj):
        services.adjustment_delete(adjustment=obj)

    def delete_refusal(self, obj):
        return services.adjustments.adjustment_delete_refusal(obj)


@admin.register(TargetOverride)
class TargetOverrideAdmin(_DeleteThroughService, admin.ModelAdmin):
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
                        period=d["period"], metric_code=d["metric"], team=d["team"],
                        threshold=proposal.threshold, target=proposal.target, excellence=proposal.excellence,
                        note=f"proposed from {proposal.start} to {proposal.end}: {proposal.method}",
                        user=request.user,
                    )  # fmt: skip
            except services.TargetInvalid as exc:
                form.add_error(None, str(exc))
        context = {
            **self.admin_site.each_context(request), "title": _("Propose targets from history"),
            "form": form, "proposal": proposal, "saved": saved, "opts": self.model._meta,
        }  # fmt: skip
        return TemplateResponse(request, "admin/incentives/targetoverride/propose.html", context)

    list_display = ["period", "metric", "team", "agent", "threshold", "target", "excellence"]
    list_filter = ["period", "metric", "team"]
    search_fields = ["agent__employee_id", "agent__name"]
    raw_id_fields = ["agent"]

    def save_model(self, request, obj, form, change):
        override = services.target_override_set(
            period=obj.period, metric_code=obj.metric, threshold=obj.threshold, target=obj.target,
            excellence=obj.excellence, team=obj.team, agent=obj.agent, note=obj.note, user=request.user,
        )  # fmt: skip
        obj.pk = override.pk

    def delete_service(self, obj):
        services.target_override_delete(override=obj)

    def delete_refusal(self, obj):
        return services.targets.target_override_delete_refusal(obj)


# --- runs ----------------------------------------------------------------------------------------


class RunChunkInline(admin.TabularInline):
    model = RunChunk
    extra = 0
    can_delete = False
    readonly_fields = ["team_names", "status", "attempts", "statements", "problem", "finished_at"]
    fields = readonly_fields

    @admin.display(description=_("teams"))
    def team_names(self, chunk):
        return ", ".join(str(team) for team in chunk.teams.all())


class _ReadOnly:
    """Kept as history, written elsewhere (a run by the compute action, an interview on its pages):
    shown here, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Run)
class RunAdmin(_ReadOnly, admin.ModelAdmin):
    """Runs are made by the compute action and kept as history: read-only here."""

    list_display = ["period", "number", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    inlines = [RunChunkInline]


@admin.register(Period)
class PeriodAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "approved_run", "approved_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "approved_run", "approved_at", "approved_by"]


@admin.register(PeriodReopening)
class PeriodReopeningAdmin(_ReadOnly, admin.ModelAdmin):
    """Approved months HR reopened, with who, when and why: made on the Overview, kept as history."""

    list_display = ["period", "approved_run", "reopened_by", "reopened_at", "reason"]
    list_filter = ["period"]


class _ReadOnlyInline(_ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


class RootCauseInline(_ReadOnlyInline):
    model = RootCause


class ActionItemInline(_ReadOnlyInline):
    model = ActionItem


class SkillMarkInline(_ReadOnlyInline):
    model = SkillMark


class AgreedTargetInline(_ReadOnlyInline):
    model = AgreedTarget


class SharedSkillInline(_ReadOnlyInline):
    model = SharedSkill


@admin.register(Review)
class ReviewAdmin(_ReadOnly, admin.ModelAdmin):
    """The interviews, read-only: they are conducted on their pages (Reviews), where HR also reopens a
    completed one. The history of each is in the audit trail."""

    list_display = [
        "period",
        "agent",
        "team",
        "stage",
        "flags",
        "score_change",
        "forward_acknowledged_at",
    ]
    list_filter = ["period", "stage", "team"]
    search_fields = ["agent__employee_id", "agent__name"]
    inlines = [
        RootCauseInline,
        ActionItemInline,
        SkillMarkInline,
        AgreedTargetInline,
        SharedSkillInline,
    ]


@admin.register(SharedSkill)
class SharedSkillAdmin(admin.ModelAdmin):
    """The internal expert list: skills worth sharing, agreed in the forward stage of a review."""

    list_display = ["skill", "agent", "note", "review"]
    search_fields = ["skill", "agent__name", "agent__employee_id"]

    def has_add_permission(self, request):
        return False
