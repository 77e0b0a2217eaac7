"""Choices for HR's comparison and simulation pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incentives.models import Period, PlanVersion, Run


class RunsCompareForm(forms.Form):
    before = forms.ModelChoiceField(Run.objects.none(), label=_("Before"))
    after = forms.ModelChoiceField(Run.objects.none(), label=_("After"))

    def __init__(self, period: Period, *args, **kwargs):
        super().__init__(*args, **kwargs)
        done = (
            period.runs.filter(status=Run.Status.DONE).select_related("period").order_by("-number")
        )
        for name in ("before", "after"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = done

    def clean(self):
        data = super().clean()
        if data.get("before") and data.get("before") == data.get("after"):
            raise forms.ValidationError(_("Choose two different runs."))
        return data


class WhatIfForm(forms.Form):
    version = forms.ModelChoiceField(
        PlanVersion.objects.select_related("plan")
        .prefetch_related("teams", "groups", "metrics", "tiers", "gates")
        .order_by("plan__code", "-number"),
        label=_("Plan version"),
        help_text=_(
            "Any version, in force or not: a draft is how a new plan is tried before it pays."
        ),
    )
    period = forms.ModelChoiceField(
        Period.objects.filter(runs__status=Run.Status.DONE).distinct().order_by("-year", "-month"),
        label=_("Over the data of"),
    )

    def __init__(self, *args, **kwargs):
        """Ready to run: the newest draft (what HR is trying out) over the latest month with a
        finished run, until HR chooses otherwise."""
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            draft = PlanVersion.objects.filter(status=PlanVersion.Status.DRAFT).order_by("-pk")
            self.initial.setdefault("version", draft.values_list("pk", flat=True).first())
            period = self.fields["period"]
            assert isinstance(period, forms.ModelChoiceField)
            self.initial.setdefault("period", period.queryset.values_list("pk", flat=True).first())


class PlanComparisonForm(forms.Form):
    period = forms.ModelChoiceField(
        Period.objects.filter(runs__status=Run.Status.DONE).distinct().order_by("-year", "-month"),
        label=_("Month"),
        required=False,
        empty_label=_("the latest month with a finished run"),
        help_text=_("The approved run of the month, or its latest finished run before approval."),
    )
