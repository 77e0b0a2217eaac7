from django import forms
from django.utils.translation import gettext_lazy as _

from calls.importers.facts import KINDS
from calls.models import ColumnMapping


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("file"),
        required=False,
        help_text=_("CSV (UTF-8 or GBK, any delimiter), XLSX, or an Asterisk queue_log."),
    )
    # The file previewed last, kept on the server (calls.services.preview_keep): Import needs no
    # second upload. A file chosen again replaces it.
    kept = forms.CharField(required=False, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("data"), choices=ColumnMapping.Kind.choices, initial="calls")
    mapping = forms.ModelChoiceField(
        ColumnMapping.objects.all(),
        required=False,
        label=_("saved column mapping"),
        help_text=_("Empty: the file uses the standard column names."),
    )
    source = forms.CharField(
        label=_("source"),
        max_length=50,
        required=False,
        help_text=_("The exporting system, e.g. acd (taken from the mapping if one is chosen)."),
    )
    queue_log = forms.BooleanField(label=_("this is an Asterisk queue_log"), required=False)
    period = forms.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        label=_("month (YYYY-MM)"),
        help_text=_("Optional: refuse rows outside this month."),
    )
    allow_partial = forms.BooleanField(
        label=_("import the valid rows even if others have errors"), required=False
    )

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("kept"):
            self.add_error("file", _("Choose the file to import."))
        if not data.get("mapping") and not data.get("source"):
            raise forms.ValidationError(_("Choose a saved column mapping or name the source."))
        if data.get("kind") not in KINDS:
            raise forms.ValidationError(_("Unknown kind of data."))
        return data

    @property
    def period_tuple(self):
        value = self.cleaned_data.get("period")
        return tuple(int(part) for part in value.split("-")) if value else None
