"""HR's import pages: upload with a preview, the batch with its progress and errors, rollback."""

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from calls import selectors, services
from calls.errors import refusal_of, refusal_shown
from calls.filters import ImportBatchFilter
from calls.forms import ImportForm
from calls.importers.sources import FileError
from calls.listing import listing
from calls.models import ImportBatch
from calls.roles import HR, roles_required
from calls.spreadsheets import csv_response, table_export


@roles_required(HR)
def import_upload(request):
    """Upload a file: Preview shows its first rows as they will be read and keeps the file, so that
    Import needs no second upload; Import hands it to a worker and goes to its page at once."""
    form = ImportForm(request.POST or None, request.FILES or None)
    preview, kept_name = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            uploaded = d["file"] or services.preview_take(d["kept"])
        except FileError as exc:
            form.add_error("file", str(exc))
        else:
            if "preview" in request.POST:
                preview, form, kept_name = _preview(request, form, uploaded)
            else:
                batch = services.upload_accept(
                    uploaded=uploaded,
                    kind=d["kind"],
                    source=d["source"],
                    mapping=d["mapping"],
                    allow_partial=d["allow_partial"],
                    period=form.period_tuple,
                    queue_log=d["queue_log"],
                    created_by=request.user,
                )
                if not d["file"]:
                    services.preview_forget(uploaded)
                return redirect("calls:batch_detail", pk=batch.pk)
    batches = listing(request, ImportBatchFilter, selectors.recent_batches())
    exported = table_export(
        request,
        "imports",
        ["import", "created_at", "file", "source", "kind", "status", "rows", "rejected"],
        (
            [
                b.pk,
                b.created_at,
                b.filename,
                b.source,
                b.kind,
                b.status,
                b.rows_total,
                b.rows_rejected,
            ]
            for b in batches.all_rows
        ),
    )
    if exported is not None:
        return exported
    return render(
        request,
        "calls/import.html",
        {"form": form, "preview": preview, "kept_name": kept_name, "listing": batches},
    )


def _preview(request, form: ImportForm, uploaded):
    """The preview of an upload, and the form again holding the file kept for the import."""
    d = form.cleaned_data
    token = services.preview_keep(uploaded) if d["file"] else d["kept"]
    uploaded.seek(0)
    try:
        preview = selectors.upload_preview(
            uploaded=uploaded, kind=d["kind"], mapping=d["mapping"], is_queue_log=d["queue_log"]
        )
    except FileError as exc:
        form.add_error("file", str(exc))
        return None, form, ""
    finally:
        if not d["file"]:
            uploaded.close()
    data = request.POST.copy()
    data["kept"] = token
    return preview, ImportForm(data), uploaded.name


@roles_required(HR)
def batch_detail(request, pk: int):
    """An import: its progress while a worker imports it (``?part=status`` is the part the page
    polls), then its result: rows by outcome, the days it covered, the months to compute, its errors."""
    batch = get_object_or_404(ImportBatch.objects.select_related("mapping", "created_by"), pk=pk)
    context = {
        "batch": batch,
        "step": selectors.import_step(batch, cache.get(services.progress_key(batch.pk))),
    }
    if request.GET.get("part") == "status":
        return render(request, "calls/_batch_status.html", context)
    return render(request, "calls/batch.html", {**context, "file": selectors.batch_file(batch)})


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


@roles_required(HR)
def batch_rollback(request, pk: int):
    """Roll an import back: a GET (or a POST without ``confirm=yes``) shows what the rollback would
    delete and restore, or why it is refused, and changes nothing; the confirmation's POST does it."""
    batch = get_object_or_404(ImportBatch, pk=pk)
    back = redirect("calls:batch_detail", pk=batch.pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        with refusal_shown(request):
            services.batch_rollback(batch=batch)
            messages.success(request, _("Import %(n)s rolled back.") % {"n": batch.pk})
        return back
    refusal = refusal_of(lambda: services.batch_rollback_check(batch=batch))
    preview = selectors.batch_rollback_preview(batch)
    return render(
        request,
        "confirm.html",
        {
            "title": _("Roll back import %(n)s (%(file)s)?")
            % {"n": batch.pk, "file": batch.filename},
            "lines": _rollback_said(batch, preview),
            "refusal": refusal,
            "cancel": back.url,
            "button": _("Roll back import %(n)s") % {"n": batch.pk},
            "action": reverse("calls:batch_rollback", args=[batch.pk]),
        },
    )


def _rollback_said(batch: ImportBatch, preview) -> list[str]:
    """The confirmation's sentences: "Rolling back import 12 deletes 4,210 calls (4,000 of 2026-10,
    210 of 2026-11) and restores 12 it changed to their values before it." """
    months = ", ".join(
        _("%(count)s of %(month)s") % {"count": intcomma(count), "month": month}
        for month, count in preview.deleted
    )
    lines = []
    if preview.deleted_total:
        lines.append(
            _("Rolling back import %(n)s deletes %(count)s %(what)s it created (%(months)s).")
            % {
                "n": batch.pk,
                "count": intcomma(preview.deleted_total),
                "what": preview.what,
                "months": months,
            }
        )
    if preview.restored:
        lines.append(
            _("It restores %(count)s %(what)s it changed to their values before it.")
            % {
                "count": intcomma(preview.restored),
                "what": preview.what,
            }
        )
    if not preview.deleted_total and not preview.restored:
        lines.append(_("It created and changed nothing: only its status changes."))
    lines += [
        _(
            "Metrics, alerts and the next computation no longer count what it brought; runs computed "
            "already keep their figures until their month is computed again."
        ),
        _("This cannot be undone: importing the file again brings its rows back."),
    ]
    return lines
