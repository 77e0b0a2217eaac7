"""What every admin page of the incentives floor shares: deletes through the services, read-only
history, and asking a service whether it would refuse a write before the form is saved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calls import errors


class _DryRun(Exception):
    """Raised to roll back a write made only to learn whether the service would refuse it."""


def service_refusal(write: Callable[[], object]) -> ValidationError | None:
    """Run ``write`` (a service call) in a savepoint that is always rolled back, and say why it was
    refused, or None: a form's ``clean`` puts the service's own words on the form, so the admin
    refuses exactly what the API refuses and in the same words, without a second copy of the rules.
    The real write happens in ``save_model``, which goes through the same service."""
    try:
        with transaction.atomic():
            write()
            raise _DryRun
    except _DryRun:
        return None
    except errors.DomainError as exc:
        return ValidationError(str(exc))
    except ValidationError as exc:  # a service's full_clean
        return exc


class DeleteThroughService:
    """Deletes go through the service the API uses (``delete_service``), so the admin refuses what the
    API refuses, in the same words. The delete page and the bulk action first ask why not
    (``delete_refusal``: by default what still refers to the object) and say so instead of offering
    to confirm; the delete itself goes through the service, which checks again under its locks (a
    refusal then is shown by ``calls.errors.DomainErrorMiddleware``)."""

    actions: Sequence[Any] | None = ["delete_selected"]

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


class ReadOnly:
    """Kept as history, written elsewhere (a run by the compute action, an interview on its pages):
    shown here, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceCheckedForm(forms.ModelForm):
    """A form whose save goes through a service (``service_write``, which ``save_model`` calls). Once
    its fields are clean, the service is asked first, in a rolled-back savepoint, and its refusal is
    the form's, in its words (the API's), so HR corrects the form instead of losing it; the model's own
    checks, which the service runs too, follow only when the service would accept."""

    def service_write(self, data: dict) -> object:  # pragma: no cover - overridden
        raise NotImplementedError

    def _post_clean(self):
        if not self._errors:
            refusal = service_refusal(lambda: self.service_write(self.cleaned_data))
            if refusal is not None:
                on_fields = set(getattr(refusal, "error_dict", {})) <= {
                    *self.fields,
                    NON_FIELD_ERRORS,
                }
                self.add_error(None, refusal if on_fields else ValidationError(refusal.messages))
                return
        super()._post_clean()
