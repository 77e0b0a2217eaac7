"""Writes to plans: versions built from validated specs, activation, new versions, copies, presets.

A version used by a computation (it has statements) is never changed in place: every write below refuses
it with ``PlanLocked``; a change is a new version with its own effective date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from calls.errors import Conflict, DomainError, delete_or_refuse
from incentives.models import (
    Agent,
    Group,
    Placement,
    Plan,
    PlanAward,
    PlanGate,
    PlanMetric,
    PlanTier,
    PlanVersion,
    Team,
)
from incentives.presets import PRESETS, Preset
from incentives.selectors import scope_applies, version_applies
from incentives.validation import (
    GateSpec,
    MetricSpec,
    Problem,
    TierSpec,
    VersionSpec,
    version_problems,
)


class PlanInvalid(DomainError):
    """The plan breaks one or more rules; ``problems`` says each, where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems

    def payload(self) -> dict:
        """Each problem where it is, so a client can put it on its field."""
        return {
            "problems": [
                {
                    "section": p.section,
                    "index": p.index,
                    "field": p.field,
                    "message": p.message,
                    "text": str(p),
                }
                for p in self.problems
            ]
        }


class PlanLocked(Conflict):
    """The version was used by a computation; change it by making a new version."""


class PlanInUse(Conflict):
    """The plan or version is in force or has paid agents, so it cannot be deleted; it ends with a
    new version (or an end date) instead."""


@transaction.atomic
def plan_create(*, code: str, name: str, description: str = "") -> Plan:
    """A plan, with no version yet. A code taken already is refused on its field (a 400), whether
    ``full_clean`` sees it or another request takes it between that check and the save."""
    plan = Plan(code=code, name=name, description=description)
    plan.full_clean()
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ValidationError({"code": [plan.unique_error_message(Plan, ("code",))]}) from None
    return plan


def next_version_number(plan: Plan) -> int:
    return (plan.versions.aggregate(top=Max("number"))["top"] or 0) + 1


@transaction.atomic
def plan_version_create(
    *,
    plan: Plan,
    spec: VersionSpec,
    teams: Iterable[Team] = (),
    groups: Iterable[Group] = (),
    levels: Iterable[str] = (),
    channels: Iterable[str] = (),
    currency: str = "CNY",
    note: str = "",
    awards: Iterable = (),
) -> PlanVersion:
    """A new draft version of ``plan``, validated as a whole before anything is written."""
    problems = version_problems(spec)
    if problems:
        raise PlanInvalid(problems)
    version = PlanVersion(plan=plan, number=next_version_number(plan), currency=currency, note=note)
    _write_version(version, spec, teams, groups, levels, channels, awards)
    return version


@transaction.atomic
def plan_version_update(
    *,
    version: PlanVersion,
    spec: VersionSpec,
    teams: Iterable[Team] = (),
    groups: Iterable[Group] = (),
    levels: Iterable[str] = (),
    channels: Iterable[str] = (),
    awards: Iterable = (),
    currency: str | None = None,
    note: str | None = None,
) -> PlanVersion:
    """Replace what a version pays (and its currency and note, when given); refused once a
    computation used it. An active version is checked again for plans that would overlap. The API's
    PUT and the admin's change form both write through here."""
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    if version.locked:
        raise PlanLocked(locked_message(version))
    problems = version_problems(spec)
    if problems:
        raise PlanInvalid(problems)
    if currency is not None:
        version.currency = currency
    if note is not None:
        version.note = note
    _write_version(version, spec, teams, groups, levels, channels, awards)
    if version.status == PlanVersion.Status.ACTIVE:
        problems = _overlap_problems(version)
        if problems:
            raise PlanInvalid(problems)
    return version


def locked_message(version: PlanVersion) -> str:
    """Why a used version cannot change, in the words the API and the admin both show."""
    return (
        f"{version} has been used in a computation and cannot be changed; make a new version with an "
        "effective date instead."
    )


def plan_version_delete_refusal(version: PlanVersion) -> PlanInUse | None:
    """Why ``version`` may not be deleted, or None: a version that paid agents is history, and an
    active one is in force (it ends with a new version, or an end date)."""
    if version.locked:
        return PlanInUse(
            f"{version} has been used in a computation and cannot be deleted: the statements it paid "
            "refer to it."
        )
    if version.status == PlanVersion.Status.ACTIVE:
        return PlanInUse(
            f"{version} is active and cannot be deleted; end it with a new version or an end date "
            "instead."
        )
    return None


@transaction.atomic
def plan_version_delete(*, version: PlanVersion) -> None:
    """Delete a draft version that never paid anyone (the API's DELETE, the admin's delete and its
    bulk action). Refused with ``PlanInUse`` otherwise."""
    version = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    refusal = plan_version_delete_refusal(version)
    if refusal is not None:
        raise refusal
    delete_or_refuse(version)


def plan_delete_refusal(
    plan: Plan, versions: Iterable[PlanVersion] | None = None
) -> PlanInUse | None:
    """Why ``plan`` may not be deleted, or None: not while one of its versions paid agents or is
    active (deleting the plan would delete them)."""
    for version in plan.versions.all() if versions is None else versions:
        if version.locked:
            return PlanInUse(f"{plan} has paid agents ({version}); it cannot be deleted.")
        if version.status == PlanVersion.Status.ACTIVE:
            return PlanInUse(
                f"{plan} has an active version ({version}) and cannot be deleted; give that version "
                "an end date instead."
            )
    return None


@transaction.atomic
def plan_delete(*, plan: Plan) -> None:
    """Delete a plan whose versions are all drafts that never paid anyone (the API and the admin).
    Refused with ``PlanInUse`` otherwise."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    versions = list(PlanVersion.objects.select_for_update().filter(plan=plan))
    refusal = plan_delete_refusal(plan, versions)
    if refusal is not None:
        raise refusal
    delete_or_refuse(plan)


def _write_version(version, spec: VersionSpec, teams, groups, levels, channels, awards) -> None:
    """Write a version and replace its rows. Call inside a transaction, after validation."""
    version.effective_from = spec.effective_from
    version.effective_to = spec.effective_to
    version.target_bonus_kind = spec.target_bonus_kind
    version.target_bonus = spec.target_bonus if spec.target_bonus_kind == "fixed" else None
    version.target_bonus_percent = (
        spec.target_bonus_percent if spec.target_bonus_kind == "percent" else None
    )
    version.payout_cap_kind = spec.payout_cap_kind
    version.payout_cap = spec.payout_cap if spec.payout_cap_kind != "none" else None
    version.levels = sorted(set(levels))
    version.channels = sorted(set(channels))
    version.full_clean(exclude=["plan"])
    version.save()
    version.teams.set(list(teams))
    version.groups.set(list(groups))
    version.metrics.all().delete()
    version.tiers.all().delete()
    version.gates.all().delete()
    version.awards.all().delete()
    rows: list[PlanMetric | PlanTier | PlanGate | PlanAward] = [
        *(PlanMetric(version=version, **vars(metric)) for metric in spec.metrics),
        *(PlanTier(version=version, **vars(tier)) for tier in spec.tiers),
        *(PlanGate(version=version, **vars(gate)) for gate in spec.gates),
        *(
            PlanAward(version=version, kind=award.kind, count=award.count, note=award.note)
            for award in awards
        ),
    ]
    for row in rows:  # one at a time: each checked as it is saved, in the spec's order
        row.full_clean(exclude=["version"])
        row.save()


def version_spec_from_db(version: PlanVersion) -> VersionSpec:
    """The version as validation and scoring see it."""
    return VersionSpec(
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        target_bonus_kind=version.target_bonus_kind,
        target_bonus=version.target_bonus,
        target_bonus_percent=version.target_bonus_percent,
        payout_cap_kind=version.payout_cap_kind,
        payout_cap=version.payout_cap,
        metrics=[
            MetricSpec(
                metric=m.metric,
                weight=m.weight,
                threshold=m.threshold,
                target=m.target,
                threshold_payout=m.threshold_payout,
                excellence=m.excellence,
                excellence_payout=m.excellence_payout,
                scope=m.scope,
                measure=m.measure,
                baseline=m.baseline,
                no_data=m.no_data,
                params=dict(m.params),
            )
            for m in version.metrics.all()
        ],
        tiers=[TierSpec(t.from_score, t.rate, t.kicker) for t in version.tiers.all()],
        gates=[
            GateSpec(
                metric=g.metric,
                comparison=g.comparison,
                value=g.value,
                effect=g.effect,
                factor=g.factor,
                score_cap=g.score_cap,
                scope=g.scope,
                params=dict(g.params),
            )
            for g in version.gates.all()
        ],
    )


@transaction.atomic
def plan_version_activate(*, version: PlanVersion) -> PlanVersion:
    """Put a draft version in force from its effective date.

    The version replaces the plan's previous active version from that date: the previous one ends the
    day before (a used version may end, never change what it paid). Refused if it is invalid, if it
    starts on or before the version it replaces, or if any agent would then have two plans on a day.
    """
    version = PlanVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == PlanVersion.Status.ACTIVE:
        return version
    problems = version_problems(version_spec_from_db(version))
    if problems:
        raise PlanInvalid(problems)
    previous = (
        PlanVersion.objects.select_for_update()
        .filter(plan=version.plan, status=PlanVersion.Status.ACTIVE)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=version.effective_from))
    )
    for old in previous:
        if old.effective_from >= version.effective_from:
            raise PlanInvalid(
                [
                    Problem(
                        "version",
                        None,
                        "effective_from",
                        (
                            f"starts on {version.effective_from}, not after {old} (from {old.effective_from}) which "
                            "it would replace"
                        ),
                    )
                ]
            )
        old.effective_to = version.effective_from - dt.timedelta(days=1)
        old.save(update_fields=["effective_to"])
    version.status = PlanVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    problems = _overlap_problems(version)
    if problems:
        raise PlanInvalid(problems)  # rolls back the activation and the closing of the previous one
    return version


def _overlap_problems(version: PlanVersion) -> list[Problem]:
    return overlap_problems_for(
        plan=version.plan,
        exclude_pk=version.pk,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        teams=version.teams.all(),
        groups=version.groups.all(),
        levels=version.levels,
        channels=version.channels,
    )


def overlap_problems_for(
    *,
    plan: Plan,
    exclude_pk: int | None,
    effective_from: dt.date,
    effective_to: dt.date | None,
    teams: Iterable[Team],
    groups: Iterable[Group],
    levels: Iterable[str],
    channels: Iterable[str],
    limit: int = 10,
) -> list[Problem]:
    """No two plans effective for the same agent on the same day. Exact: a scope depends on the agent
    (level, channel) and their placement, so every placement overlapping both date ranges is checked
    against both scopes. Other versions of the same plan are not compared: activation ends them."""
    team_ids, group_ids = {t.pk for t in teams}, {g.pk for g in groups}
    mine_levels, mine_channels = list(levels), list(channels)
    others = (
        PlanVersion.objects.filter(status=PlanVersion.Status.ACTIVE)
        .exclude(plan=plan)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=effective_from))
        .prefetch_related("teams", "groups")
        .select_related("plan")
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if effective_to is not None:
        others = others.filter(effective_from__lte=effective_to)
    problems: list[Problem] = []
    for other in others:
        start = max(effective_from, other.effective_from)
        ends = [d for d in (effective_to, other.effective_to) if d is not None]
        end = min(ends) if ends else None
        placements = list(
            Placement.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
        )
        if end is not None:
            placements = [p for p in placements if p.valid_from <= end]
        agents = Agent.objects.in_bulk({p.agent_id for p in placements})
        clashes = sorted(
            {
                agents[p.agent_id].employee_id
                for p in placements
                if scope_applies(
                    agent=agents[p.agent_id],
                    placement=p,
                    team_ids=team_ids,
                    group_ids=group_ids,
                    levels=mine_levels,
                    channels=mine_channels,
                )
                and version_applies(other, agents[p.agent_id], p)
            }
        )
        if clashes:
            shown = ", ".join(clashes[:limit]) + (" …" if len(clashes) > limit else "")
            problems.append(
                Problem(
                    "version",
                    None,
                    None,
                    (
                        f"{other} is also in force from {start} for {len(clashes)} of the same agents ({shown}): "
                        "no agent may have two plans on the same day"
                    ),
                )
            )
    return problems


@transaction.atomic
def plan_version_new(
    *, version: PlanVersion, effective_from: dt.date, note: str = ""
) -> PlanVersion:
    """A draft copy of ``version`` taking effect on ``effective_from``: how a plan in use is changed."""
    spec = version_spec_from_db(version)
    spec.effective_from, spec.effective_to = effective_from, None
    return plan_version_create(
        plan=version.plan,
        spec=spec,
        teams=version.teams.all(),
        groups=version.groups.all(),
        levels=version.levels,
        channels=version.channels,
        currency=version.currency,
        note=note,
        awards=list(version.awards.all()),
    )


@transaction.atomic
@transaction.atomic
def plan_copy(
    *, version: PlanVersion, code: str, name: str, effective_from: dt.date | None = None
) -> Plan:
    """A new plan whose first (draft) version copies ``version``: how HR starts from a preset."""
    plan = plan_create(code=code, name=name, description=version.plan.description)
    spec = version_spec_from_db(version)
    if effective_from is not None:
        spec.effective_from, spec.effective_to = effective_from, None
    plan_version_create(
        plan=plan,
        spec=spec,
        teams=version.teams.all(),
        groups=version.groups.all(),
        levels=version.levels,
        channels=version.channels,
        currency=version.currency,
        awards=list(version.awards.all()),
    )
    return plan


@transaction.atomic
def plan_create_from_preset(
    *,
    preset: Preset,
    code: str,
    effective_from: dt.date,
    teams: Iterable[Team] = (),
    name: str | None = None,
    activate: bool = False,
) -> PlanVersion:
    """A plan from a preset, for ``teams`` (none: a template with no one in scope)."""
    plan = plan_create(code=code, name=name or preset.name, description=preset.description)
    version = plan_version_create(
        plan=plan,
        spec=preset.spec(effective_from),
        teams=teams,
        channels=preset.channels,
        awards=preset.awards,
    )
    if activate:
        version = plan_version_activate(version=version)
    return version


def presets_load(*, effective_from: dt.date) -> list[PlanVersion]:
    """Every preset as a draft plan HR copies and edits; presets already loaded are left as they are."""
    loaded = []
    for preset in PRESETS.values():
        if Plan.objects.filter(code=preset.code).exists():
            continue
        loaded.append(
            plan_create_from_preset(preset=preset, code=preset.code, effective_from=effective_from)
        )
    return loaded
