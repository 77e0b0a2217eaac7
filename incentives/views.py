"""Pages of the incentives floor: a statement, and HR's compute and approve actions."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.roles import AGENT, HR, LEAD, roles_required
from calls.spreadsheets import csv_response, xlsx_response
from incentives import selectors, services
from incentives.models import Period, Run


@roles_required(HR, LEAD, AGENT)
def statement_detail(request, pk: int):
    statement = selectors.statement_get_for_user(request.user, pk)
    return render(request, "incentives/statement_detail.html", {"statement": statement})


@require_POST
@roles_required(HR)
def period_compute(request, pk: int):
    period = get_object_or_404(Period, pk=pk)
    try:
        run = services.run_start(period=period, requested_by=request.user)
    except (services.PeriodStateError, services.RunAlreadyActive) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Run v%(number)s of %(period)s: %(status)s")
            % {"number": run.number, "period": period, "status": run.get_status_display()},
        )
    return redirect("reports:hr_overview")


@require_POST
@roles_required(HR)
def period_approve(request, pk: int, run_pk: int):
    period = get_object_or_404(Period, pk=pk)
    run = get_object_or_404(Run, pk=run_pk, period=period)
    try:
        services.period_approve(period=period, run=run, approved_by=request.user)
    except services.PeriodStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(period)s approved: agents now see run v%(number)s.")
            % {"period": period, "number": run.number},
        )
    return redirect("reports:hr_overview")


@require_POST
@roles_required(HR)
def period_close(request, pk: int):
    period = get_object_or_404(Period, pk=pk)
    try:
        services.period_close(period=period)
    except services.PeriodStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(period)s closed: its data and statements can no longer change.")
                         % {"period": period})  # fmt: skip
    return redirect("reports:hr_overview")


@roles_required(HR)
def period_payroll_csv(request, pk: int):
    """The approved payouts of a month for the payroll system, as CSV."""
    return _payroll_export(request, pk, "csv")


@roles_required(HR)
def period_payroll_xlsx(request, pk: int):
    """The approved payouts of a month for the payroll system, as XLSX."""
    return _payroll_export(request, pk, "xlsx")


def _payroll_export(request, pk: int, fmt: str):
    period = get_object_or_404(Period, pk=pk)
    try:
        rows = selectors.payroll_rows(period)
    except selectors.PayrollNotReady:
        messages.error(
            request,
            _(
                "%(period)s is %(status)s: only an approved or closed month can be exported to payroll."
            )
            % {"period": period, "status": period.get_status_display()},
        )
        return redirect("reports:hr_overview")
    # The column names stay English whatever the page's language: the payroll system maps them.
    filename = f"payroll-{period}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, selectors.PAYROLL_COLUMNS, rows)
    return xlsx_response(filename, f"payroll {period}", selectors.PAYROLL_COLUMNS, rows)
