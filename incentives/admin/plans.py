"""Plans and their versions.

Plan versions are edited with inlines for metrics, tiers, gates and awards; every rule is checked by
``incentives.validation`` (the same functions the API uses) in the forms' ``clean``, so the admin refuses
exactly what the API refuses. Versions are written, activated and deleted by the services the API
calls (``plan_version_create``/``_update``/``_activate``/``_delete``), so both refuse the same things with
the same words: an active version, or one a computation used, is not deleted (``plan_version_delete``
and its ``plan_version_delete_refusal``). A version used by a computation is read-only; "make a new
version" is how it changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message, unquote
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from calls import errors
from incentives import services
from incentives.admin.common import DeleteThroughService
from incentives.explain import explain, worked_examples
from incentives.models import (
    Channel,
    Level,
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
)
from incentives.presets import AwardSpec
from incentives.validation import (
    GateSpec,
    MetricSpec,
    Problem,
    TierSpec,
    VersionSpec,
    gates_problems,
    header_problems,
    metrics_problems,
    tiers_problems,
)


def _decimal_or_none(value):
    return value if value not in ("", None) else None


class _SectionFormSet(forms.BaseInlineFormSet):
    """Runs one section of ``incentives.validation`` over the rows being saved and puts each problem on
    its row and field (or above the table when it concerns the whole section)."""

    section_check: Callable[[list], list[Problem]]  # one section of incentives.validation

    def validate_unique(self):
        """Duplicates are a rule of ``incentives.validation`` (same words as the API), not Django's."""

    def spec(self, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        forms_kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
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
            metric=d["metric"],
            weight=d["weight"],
            threshold=d["threshold"],
            target=d["target"],
            threshold_payout=d["threshold_payout"],
            excellence=_decimal_or_none(d.get("excellence")),
            excellence_payout=_decimal_or_none(d.get("excellence_payout")),
            scope=d["scope"],
            measure=d["measure"],
            baseline=d.get("baseline") or "",
            no_data=d["no_data"],
            params=d.get("params") or {},
        )


class TierFormSet(_SectionFormSet):
    section_check = staticmethod(tiers_problems)

    def spec(self, d):
        return TierSpec(d["from_score"], d["rate"], d.get("kicker") or 0)


class GateFormSet(_SectionFormSet):
    section_check = staticmethod(gates_problems)

    def spec(self, d):
        return GateSpec(
            metric=d["metric"],
            comparison=d["comparison"],
            value=d["value"],
            effect=d["effect"],
            factor=_decimal_or_none(d.get("factor")),
            score_cap=_decimal_or_none(d.get("score_cap")),
            scope=d["scope"],
            params=d.get("params") or {},
        )


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
    fields = [
        ("metric", "weight", "scope", "measure", "baseline"),
        ("threshold", "threshold_payout", "target", "excellence", "excellence_payout"),
        ("no_data", "params"),
    ]


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
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: every channel."),
    )

    class Meta:
        model = PlanVersion
        fields = [
            "plan",
            "effective_from",
            "effective_to",
            "target_bonus_kind",
            "target_bonus",
            "target_bonus_percent",
            "currency",
            "payout_cap_kind",
            "payout_cap",
            "teams",
            "groups",
            "levels",
            "channels",
            "note",
        ]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        spec = VersionSpec(
            effective_from=data["effective_from"],
            effective_to=data.get("effective_to"),
            target_bonus_kind=data["target_bonus_kind"],
            target_bonus=data.get("target_bonus"),
            target_bonus_percent=data.get("target_bonus_percent"),
            payout_cap_kind=data["payout_cap_kind"],
            payout_cap=data.get("payout_cap"),
        )
        for problem in header_problems(spec):
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        if self.instance.pk and self.instance.status == PlanVersion.Status.ACTIVE:
            for problem in services.plans.overlap_problems_for(
                plan=self.instance.plan,
                exclude_pk=self.instance.pk,
                effective_from=data["effective_from"],
                effective_to=data.get("effective_to"),
                teams=data.get("teams") or [],
                groups=data.get("groups") or [],
                levels=data.get("levels") or [],
                channels=data.get("channels") or [],
            ):
                self.add_error(None, problem.message)
        return data


def _kept(formset) -> list:
    """The forms of an inline formset that stay (filled in, not marked for deletion)."""
    return [
        form
        for form in formset.forms
        if form.cleaned_data and not formset._should_delete_form(form)
    ]


@admin.register(PlanVersion)
class PlanVersionAdmin(DeleteThroughService, admin.ModelAdmin):
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
        (
            None,
            {"fields": ["plan", "number", "status", ("effective_from", "effective_to"), "note"]},
        ),
        (
            _("Bonus"),
            {
                "fields": [
                    ("target_bonus_kind", "target_bonus", "target_bonus_percent", "currency"),
                    ("payout_cap_kind", "payout_cap"),
                ]
            },
        ),
        (
            _("Who it applies to (empty: everyone)"),
            {"fields": ["teams", "groups", "levels", "channels"]},
        ),
        (_("How this plan pays"), {"fields": ["how_it_pays"]}),
    ]

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
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f"{s:f}", f"{amount:,.2f} {obj.currency}", how) for s, amount, how in examples),
        )
        return format_html(
            "<ul>{}</ul><p><strong>{}</strong></p><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            words,
            _("Worked example (no gate hit)"),
            _("weighted score"),
            _("payout"),
            _("how"),
            rows,
        )

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
            effective_from=d["effective_from"],
            effective_to=d.get("effective_to"),
            target_bonus_kind=d["target_bonus_kind"],
            target_bonus=d.get("target_bonus"),
            target_bonus_percent=d.get("target_bonus_percent"),
            payout_cap_kind=d["payout_cap_kind"],
            payout_cap=d.get("payout_cap"),
            metrics=[
                sections[PlanMetric].spec(f.cleaned_data) for f in _kept(sections[PlanMetric])
            ],
            tiers=[sections[PlanTier].spec(f.cleaned_data) for f in _kept(sections[PlanTier])],
            gates=[sections[PlanGate].spec(f.cleaned_data) for f in _kept(sections[PlanGate])],
        )
        written = {
            "spec": spec,
            "teams": d.get("teams") or [],
            "groups": d.get("groups") or [],
            "levels": d.get("levels") or [],
            "channels": d.get("channels") or [],
            "currency": d["currency"],
            "note": d.get("note", ""),
            "awards": [
                AwardSpec(
                    f.cleaned_data["kind"],
                    f.cleaned_data.get("count") or 1,
                    f.cleaned_data.get("note", ""),
                )
                for f in _kept(sections[PlanAward])
            ],
        }
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
            new = services.plan_version_new(
                version=version,
                effective_from=max(first_next, version.effective_from + dt.timedelta(days=1)),
            )
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
    fields = ("number", "status", "effective_from", "effective_to")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(DeleteThroughService, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [PlanVersionInline]

    def save_model(self, request, obj, form, change):
        """A new plan through ``plan_create``; its code and name are edited as the API edits them."""
        if change:
            super().save_model(request, obj, form, change)
        else:
            obj.pk = services.plan_create(
                code=obj.code, name=obj.name, description=obj.description
            ).pk

    def delete_service(self, obj):
        services.plan_delete(plan=obj)

    def delete_refusal(self, obj):
        return services.plans.plan_delete_refusal(obj)
