"""Pages of the incentives floor: a statement, and HR's compute and approve actions."""

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from calls.errors import DomainError, refusal_shown
from calls.listing import listing
from calls.roles import AGENT, HR, LEAD, roles_required, user_roles
from calls.spreadsheets import csv_response, table_export, xlsx_response
from incentives import forms, selectors, services
from incentives.filters import DisputeFilter, ReviewFilter, StatementFilter
from incentives.models import ActionItem, Dispute, Period, Run


@roles_required(HR, LEAD, AGENT)
def statement_detail(request, pk: int):
    """A statement, its questions and their answers; its agent may question a line (POST)."""
    statement = selectors.statement_get_for_user(request.user, pk)
    if request.method == "POST":
        line = get_object_or_404(statement.lines.all(), pk=request.POST.get("line"))
        with refusal_shown(request):
            services.dispute_raise(
                line=line, user=request.user, question=request.POST.get("question", "")
            )
            messages.success(
                request, _("Your question is sent to HR; the answer will appear here.")
            )
        return redirect("incentives:statement_detail", pk=statement.pk)
    return render(
        request,
        "incentives/statement_detail.html",
        {
            "statement": statement,
            "disputes": statement.disputes.select_related("line", "answered_by").order_by(
                "created_at"
            ),
            "can_question": statement.agent.user_id == request.user.pk
            and statement.run.period.approved_run_id == statement.run_id,
        },
    )


@roles_required(HR, LEAD, AGENT)
def statement_list(request):
    """The approved statements the user may see (HR every one, a lead their teams', an agent their
    own), by month, team and tier reached; an agent looked up by name or employee id."""
    statements = listing(
        request, StatementFilter, selectors.approved_statements_visible_to(request.user)
    )
    exported = table_export(
        request,
        "statements",
        [
            "period",
            "employee_id",
            "agent",
            "team",
            "weighted_score",
            "tier_rate",
            "amount",
            "currency",
        ],
        (
            [
                str(s.run.period),
                s.agent.employee_id,
                s.agent.name,
                s.team.code,
                s.weighted_score,
                s.tier_rate if s.tier_from is not None else None,
                s.amount,
                s.currency,
            ]
            for s in statements.all_rows
        ),
    )
    if exported is not None:
        return exported
    return render(request, "incentives/statement_list.html", {"listing": statements})


@roles_required(HR)
def disputes(request):
    """HR: the questions agents asked on their statements, open ones first, each answered here."""
    if request.method == "POST":
        dispute = get_object_or_404(Dispute, pk=request.POST.get("dispute"))
        with refusal_shown(request):
            services.dispute_answer(
                dispute=dispute,
                user=request.user,
                answer=request.POST.get("answer", ""),
                correction=request.POST.get("correction", ""),
            )
        return redirect(request.get_full_path())  # the same filters and page
    questions = listing(
        request,
        DisputeFilter,
        Dispute.objects.select_related("statement__agent", "statement__run__period", "line"),
        per_page=25,
    )
    exported = table_export(
        request,
        "questions",
        [
            "employee_id",
            "agent",
            "period",
            "metric",
            "asked_at",
            "question",
            "answered_at",
            "answer",
            "correction",
        ],
        (
            [
                d.statement.agent.employee_id,
                d.statement.agent.name,
                str(d.statement.run.period),
                d.line.metric if d.line else "",
                d.created_at,
                d.question,
                d.answered_at,
                d.answer,
                d.correction,
            ]
            for d in questions.all_rows
        ),
    )
    if exported is not None:
        return exported
    return render(request, "incentives/disputes.html", {"listing": questions})


def _confirmed(request) -> bool:
    """An irreversible action runs only on a POST of its confirmation page (``confirm=yes``); a GET, or
    a POST without it, shows that page and changes nothing."""
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def _money(amount, currency: str) -> str:
    from incentives.templatetags.money import money

    return money(amount, currency)


def _approved_said(action) -> str:
    a = action.approved
    return _("run v%(n)s (%(agents)s agents, total %(total)s)") % {
        "n": a.run.number,
        "agents": intcomma(a.agents),
        "total": _money(a.total, a.currency),
    }


@roles_required(HR)
def period_compute(request, pk: int):
    """Compute a month (a new run version beside the others). Computing an approved month again asks
    for confirmation first, saying that its approved run stays what agents see."""
    period = get_object_or_404(Period, pk=pk)
    if request.method == "POST" and (
        period.status != Period.Status.APPROVED or _confirmed(request)
    ):
        return _compute(request, period)
    action = selectors.period_action(period)
    lines = [
        _(
            "A new run v%(n)s of %(period)s is computed from its data, plans, targets and adjustments as "
            "they are now; the earlier runs are kept."
        )
        % {"n": action.next_number, "period": period},
    ]
    if period.status == Period.Status.APPROVED:
        lines.append(
            _(
                "The approved %(run)s stays what agents see and what the payroll export holds until you "
                "approve another run."
            )
            % {"run": _approved_said(action)}
        )
    return _confirmation(
        request,
        period,
        title=_("Compute %(period)s again?") % {"period": period},
        lines=lines,
        button=_("Compute run v%(n)s") % {"n": action.next_number},
        action=reverse("incentives:period_compute", args=[period.pk]),
        refusal=services.run_start_refusal(period),
    )


@roles_required(HR)
@require_POST
def month_compute(request, year: int, month: int):
    """Compute a month that has data but may have no period yet (HR's overview and an import's page
    offer it): the period is opened, then computed like any other."""
    if not 1 <= month <= 12:
        raise Http404
    period = services.period_get_or_create(year=year, month=month)
    if period.status == Period.Status.APPROVED:  # computing again asks first: its page says why
        return redirect("incentives:period_compute", pk=period.pk)
    return _compute(request, period)


def _compute(request, period: Period):
    with refusal_shown(request):
        run = services.run_start(period=period, requested_by=request.user)
        messages.success(
            request,
            _("Run v%(number)s of %(period)s: %(status)s")
            % {"number": run.number, "period": period, "status": run.get_status_display()},
        )
    return redirect("reports:hr_overview")


def _confirmation(
    request, period, *, title, lines, button, action, refusal="", form=None, status=200
):
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "lines": lines,
            "button": button,
            "action": action,
            "refusal": refusal,
            "form": form,
            "cancel": reverse("reports:hr_overview"),
            "period": period,
        },
        status=status,
    )


@roles_required(HR)
def period_approve(request, pk: int, run_pk: int):
    """Approve a run: asks for confirmation first, saying what agents will see, what the approval
    replaces and that the month's data is locked."""
    period = get_object_or_404(Period, pk=pk)
    run = get_object_or_404(Run, pk=run_pk, period=period)
    if _confirmed(request):
        with refusal_shown(request):
            services.period_approve(period=period, run=run, approved_by=request.user)
            messages.success(
                request,
                _("%(period)s approved: agents now see run v%(number)s.")
                % {"period": period, "number": run.number},
            )
        return redirect("reports:hr_overview")
    action = selectors.period_action(period, run)
    lines = []
    if action.run is not None:
        lines.append(
            _(
                "Agents see their statements of run v%(n)s: %(agents)s agents, total payout %(total)s."
            )
            % {
                "n": run.number,
                "agents": intcomma(action.run.agents),
                "total": _money(action.run.total, action.run.currency),
            }
        )
    if action.approved is not None and action.approved.run != run:
        lines.append(
            ngettext(
                "It replaces the approved %(run)s: %(changed)s agent's payout changes.",
                "It replaces the approved %(run)s: %(changed)s agents' payouts change.",
                action.changed_agents,
            )
            % {"run": _approved_said(action), "changed": intcomma(action.changed_agents)}
        )
    lines += [
        _(
            "The month's data is locked: no import may add, change or roll back its facts until HR "
            "reopens the month with a reason."
        ),
        _("Its payroll export is run v%(n)s's, and the performance reviews open for every agent.")
        % {"n": run.number},
    ]
    refusal = services.period_approve_refusal(period, run)
    return _confirmation(
        request,
        period,
        title=_("Approve run v%(n)s of %(period)s?") % {"n": run.number, "period": period},
        lines=lines,
        button=_("Approve run v%(n)s") % {"n": run.number},
        action=reverse("incentives:period_approve", args=[period.pk, run.pk]),
        refusal=refusal,
    )


@roles_required(HR)
def period_close(request, pk: int):
    """Close an approved month, for good: asks for confirmation first."""
    period = get_object_or_404(Period, pk=pk)
    if _confirmed(request):
        with refusal_shown(request):
            services.period_close(period=period)
            messages.success(
                request,
                _("%(period)s closed: its data and statements can no longer change.")
                % {"period": period},
            )
        return redirect("reports:hr_overview")
    action = selectors.period_action(period)
    lines = []
    if action.approved is not None:
        lines.append(
            _("Its statements, the approved %(run)s, are final: they can no longer change.")
            % {"run": _approved_said(action)}
        )
    lines += [
        _(
            "No import may add, change or roll back its facts ever again, and it cannot be reopened: "
            "corrections go into a later month as adjustments."
        ),
        _("This cannot be undone."),
    ]
    refusal = services.period_close_refusal(period)
    return _confirmation(
        request,
        period,
        title=_("Close %(period)s?") % {"period": period},
        lines=lines,
        button=_("Close %(period)s for good") % {"period": period},
        action=reverse("incentives:period_close", args=[period.pk]),
        refusal=refusal,
    )


@roles_required(HR)
def period_reopen(request, pk: int):
    """Reopen an approved month with a reason: asks for confirmation first, saying what reopening
    changes; the reason is required and kept."""
    period = get_object_or_404(Period, pk=pk)
    form = forms.PeriodReopenForm(request.POST if _confirmed(request) else None)
    if _confirmed(request) and form.is_valid():
        with refusal_shown(request):
            services.period_reopen(
                period=period, reason=form.cleaned_data["reason"], by=request.user
            )
            messages.success(
                request,
                _("%(period)s reopened: its data may change; approve a new run to lock it again.")
                % {"period": period},
            )
        return redirect("reports:hr_overview")
    action = selectors.period_action(period)
    lines = [
        _(
            "Imports and rollbacks may add, change and delete its facts again, and it can be computed and "
            "approved anew."
        ),
    ]
    if action.approved is not None:
        lines.append(
            _(
                "Until a new run is approved, agents keep seeing the approved %(run)s; its payroll export is "
                "withheld, since its amounts may change."
            )
            % {"run": _approved_said(action)}
        )
    lines.append(
        _(
            "The month shows “data changed since approval”, and the review before the next approval "
            "compares the new run with the approved one."
        )
    )
    lines.append(_("Your reason is kept with your name and the time."))
    refusal = services.period_reopen_refusal(period)
    return _confirmation(
        request,
        period,
        title=_("Reopen %(period)s?") % {"period": period},
        lines=lines,
        button=_("Reopen %(period)s") % {"period": period},
        action=reverse("incentives:period_reopen", args=[period.pk]),
        refusal=refusal,
        form=form,
    )


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
    except selectors.PayrollNotReady as refused:
        messages.error(request, str(refused))
        return redirect("reports:hr_overview")
    # The column names stay English whatever the page's language: the payroll system maps them.
    filename = f"payroll-{period}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, selectors.PAYROLL_COLUMNS, rows)
    return xlsx_response(filename, f"payroll {period}", selectors.PAYROLL_COLUMNS, rows)


# --- the performance interview ---------------------------------------------------------------------


@roles_required(HR, LEAD, AGENT)
def review_list(request):
    """Leads: their teams' reviews of a month, flagged first, and the actions due. Agents: their own
    reviews. HR: the progress across teams and every review."""
    # The latest month with reviews until another (or "any month") is chosen.
    data = request.GET.copy()
    if "period" not in data:
        latest = Period.objects.filter(reviews__isnull=False).order_by("-year", "-month").first()
        data["period"] = str(latest.pk) if latest else ""
    reviews = listing(
        request,
        ReviewFilter,
        selectors.reviews_visible_to(request.user),
        data=data,
        arrange=selectors.flagged_first,
    )
    chosen = reviews.filters.form.cleaned_data.get("period")
    exported = table_export(
        request,
        f"reviews-{chosen}" if chosen else "reviews",
        ["employee_id", "agent", "team", "flags", "score_change", "stage"],
        (
            [
                r.agent.employee_id,
                r.agent.name,
                r.team.code,
                " ".join(r.flags),
                r.score_change,
                r.stage,
            ]
            for r in reviews.all_rows
        ),
    )
    if exported is not None:
        return exported
    roles = user_roles(request.user)
    return render(
        request,
        "incentives/review_list.html",
        {
            "period": chosen,
            "listing": reviews,
            "due": selectors.actions_due(request.user) if roles & {HR, LEAD} else [],
            "progress": selectors.reviews_progress(chosen) if HR in roles and chosen else [],
            "today": selectors.today(),
            "experts": selectors.experts(),
        },
    )


@roles_required(HR, LEAD, AGENT)
def review_detail(request, pk: int):
    """One interview: the data on the table, the current stage's forms, sign-off and acknowledgement.
    Every POST goes through a service, which refuses what the stage or the person does not allow."""
    review = selectors.review_get_for_user(request.user, pk)
    if request.method == "POST":
        step = request.POST.get("step", "")
        with refusal_shown(request):
            _review_step(request, review, step)
        return redirect("incentives:review_detail", pk=review.pk)
    review = selectors.review_get_for_user(request.user, pk)
    context = selectors.review_context(review)
    is_lead = review.team.leads.filter(pk=request.user.pk).exists()
    return render(
        request,
        "incentives/review_detail.html",
        {
            "review": review,
            "context": context,
            "statement": context.statement,
            "can_lead": is_lead,
            "can_acknowledge": review.agent.user_id == request.user.pk,
            "can_reopen": HR in user_roles(request.user),
            "root_cause_form": forms.RootCauseForm(review),
            "action_form": forms.ActionItemForm(review),
            "skill_form": forms.SkillMarkForm(),
            "shared_skill_form": forms.SharedSkillForm(),
            "reopen_form": forms.ReopenForm(),
        },
    )


class _Invalid(DomainError):
    """A step's form is incomplete or wrong; the message lists what, field by field."""


def _valid(form) -> dict:
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        raise _Invalid(_("Not saved — %(problems)s") % {"problems": problems})
    return form.cleaned_data


def _review_step(request, review, step: str) -> None:
    user, data = request.user, request.POST
    if step == "sign":
        services.review_sign(review=review, user=user)
        messages.success(request, _("Signed off: waiting for the agent's acknowledgement."))
    elif step == "acknowledge":
        services.review_acknowledge(review=review, user=user)
        messages.success(request, _("Acknowledged."))
    elif step == "reopen":
        d = _valid(forms.ReopenForm(data))
        services.review_reopen(review=review, user=user, stage=d["stage"], reason=d["reason"])
    elif step == "root_cause":
        d = _valid(forms.RootCauseForm(review, data))
        services.root_cause_add(review=review, user=user, **d)
    elif step == "action":
        d = _valid(forms.ActionItemForm(review, data))
        services.action_item_add(review=review, user=user, **d)
    elif step == "skill":
        services.skill_mark_add(review=review, user=user, **_valid(forms.SkillMarkForm(data)))
    elif step == "target":
        services.target_agree(review=review, user=user, **_valid(forms.TargetForm(data)))
    elif step == "shared_skill":
        services.shared_skill_add(review=review, user=user, **_valid(forms.SharedSkillForm(data)))
    elif step == "done":
        item = get_object_or_404(
            ActionItem, pk=data.get("item"), review__in=selectors.reviews_visible_to(user)
        )
        services.action_item_done(item=item, user=user)
    else:
        raise _Invalid(_("Unknown step."))


@roles_required(HR)
def api_access(request):
    """HR's service accounts: each token's account, role and teams; a new account for a system, its
    key shown once."""
    form = forms.ServiceAccountForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user, key = services.service_account_create(
                name=d["name"], role=d["role"], teams=d["teams"]
            )
        except services.AccountRefused as exc:
            form.add_error(exc.field, str(exc))
        else:
            created = {"user": user, "key": key}
            form = forms.ServiceAccountForm()
    return render(
        request,
        "incentives/api_access.html",
        {"form": form, "created": created, "tokens": selectors.service_accounts()},
    )


@roles_required(HR)
def api_access_revoke(request, user_id: int):
    """Revoke an account's token, after a confirmation saying what stops."""
    token = get_object_or_404(selectors.service_accounts(), user_id=user_id)
    if _confirmed(request):
        services.service_account_revoke(user=token.user)
        messages.success(
            request, _("%(name)s's token is revoked.") % {"name": token.user.get_username()}
        )
        return redirect("incentives:api_access")
    return render(
        request,
        "confirm.html",
        {
            "title": _("Revoke %(name)s's token?") % {"name": token.user.get_username()},
            "lines": [
                _("Its next call to the API is refused; a system using it stops at once."),
                _(
                    "The account is switched off: a new account is needed to give that system access again."
                ),
            ],
            "button": _("Revoke the token"),
            "action": reverse("incentives:api_access_revoke", args=[user_id]),
            "cancel": reverse("incentives:api_access"),
        },
    )
