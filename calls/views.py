"""HR's import pages: upload with a preview, the batch with its progress and errors, rollback."""

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls import selectors, services
from calls.forms import ImportForm
from calls.importers.sources import FileError
from calls.models import ImportBatch
from calls.roles import HR, roles_required
from calls.spreadsheets import csv_response


@roles_required(HR)
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if "preview" in request.POST:
            try:
                preview = selectors.upload_preview(uploaded=d["file"], kind=d["kind"], mapping=d["mapping"],
                                                   is_queue_log=d["queue_log"])  # fmt: skip
            except FileError as exc:
                form.add_error("file", str(exc))
        else:
            batch = services.upload_accept(
                uploaded=d["file"], kind=d["kind"], source=d["source"], mapping=d["mapping"],
                allow_partial=d["allow_partial"], period=form.period_tuple, queue_log=d["queue_log"],
                created_by=request.user,
            )  # fmt: skip
            return redirect("calls:batch_detail", pk=batch.pk)
    batches = selectors.recent_batches()[:20]
    return render(
        request, "calls/import.html", {"form": form, "preview": preview, "batches": batches}
    )


@roles_required(HR)
def batch_detail(request, pk: int):
    batch = get_object_or_404(ImportBatch.objects.select_related("mapping", "created_by"), pk=pk)
    progress = cache.get(services.progress_key(batch.pk))
    return render(request, "calls/batch.html", {"batch": batch, "progress": progress})


@roles_required(HR)
def batch_errors_csv(request, pk: int):
    """The error report (line, column, value, reason), safe to open in a spreadsheet."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    return csv_response(
        f"import-{batch.pk}-errors.csv",
        ["line", "column", "value", "reason"],
        ([e["line"], e["column"], e["value"], e["reason"]] for e in batch.errors),
        stream=False,  # at most 1,000 lines: sent whole, with its length
    )


@require_POST
@roles_required(HR)
def batch_rollback(request, pk: int):
    batch = get_object_or_404(ImportBatch, pk=pk)
    try:
        services.batch_rollback(batch=batch)
    except services.RollbackRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Import %(n)s rolled back.") % {"n": batch.pk})
    return redirect("calls:batch_detail", pk=batch.pk)
