"""Forms of the performance interview's pages: one per thing the lead writes down."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from calls.roles import HR, LEAD
from incentives.models import ActionItem, Review, RootCause, SkillMark, Team


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _metric_choices(review: Review) -> list[tuple[str, str]]:
    """The metrics of the agent's statement: what the interview is about."""
    return [(line.metric, line.get_metric_display()) for line in review.statement.lines.all()]


class RootCauseForm(forms.Form):
    metric = forms.ChoiceField(label=_("metric"))
    category = forms.ChoiceField(label=_("category"), choices=RootCause.Category.choices)
    note = forms.CharField(
        label=_("notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, review: Review, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _choice_field(self, "metric").choices = _metric_choices(review)


class ActionItemForm(forms.Form):
    what = forms.CharField(label=_("what"), max_length=300)
    owner = forms.ModelChoiceField(get_user_model().objects.none(), label=_("owner"))
    due = forms.DateField(label=_("due"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("kind"), choices=ActionItem.Kind.choices)
    metric = forms.ChoiceField(label=_("metric it should move"), required=False)

    def __init__(self, review: Review, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = [u.pk for u in review.team.leads.all()]
        if review.agent.user_id:
            people.append(review.agent.user_id)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = get_user_model().objects.filter(pk__in=people)
        owner.initial = review.agent.user_id
        _choice_field(self, "metric").choices = [("", "—"), *_metric_choices(review)]


class SkillMarkForm(forms.Form):
    skill = forms.CharField(label=_("skill"), max_length=100)
    side = forms.ChoiceField(label=_("strength or weakness"), choices=SkillMark.Side.choices)
    note = forms.CharField(label=_("notes"), max_length=300, required=False)


class TargetForm(forms.Form):
    metric = forms.CharField(widget=forms.HiddenInput)
    threshold = forms.DecimalField(label=_("threshold"), max_digits=14, decimal_places=4)
    target = forms.DecimalField(label=_("target"), max_digits=14, decimal_places=4)
    excellence = forms.DecimalField(
        label=_("excellence"), max_digits=14, decimal_places=4, required=False
    )


class SharedSkillForm(forms.Form):
    skill = forms.CharField(label=_("skill worth sharing"), max_length=100)
    note = forms.CharField(label=_("notes"), max_length=300, required=False)


class ReopenForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("reopen at"), choices=[c for c in Review.Stage.choices if c[0] != Review.Stage.DONE]
    )
    reason = forms.CharField(label=_("why"), max_length=300)


class PeriodReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the month reopened?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with your name and the time, e.g. “import 12 held September's calls”."),
    )


class ServiceAccountForm(forms.Form):
    """A system's account for the API (``services.service_account_create``)."""

    name = forms.CharField(
        label=_("account name"),
        max_length=150,
        help_text=_("The system it is for, e.g. payroll-system or bi-dashboard."),
    )
    role = forms.ChoiceField(
        label=_("role"),
        choices=[
            (HR, _("HR: every month's payroll, imports, everything HR reads")),
            (LEAD, _("Team lead: the chosen teams")),
        ],
        help_text=_("The account reads and writes exactly what this role allows a person."),
    )
    teams = forms.ModelMultipleChoiceField(
        Team.objects.order_by("code"),
        label=_("teams (a team lead's account)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
