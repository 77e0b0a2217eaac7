"""The demo contact center: two teams, twenty agents, a user per role, six months of history, and
something to do on every page from the first minute.

What it seeds, each through the services the pages call:
- the organisation, the demo plan (preset A for both teams) and the presets as drafts;
- six months of generated calls — the demo month (by default the month that has just ended) and the
  five before it — imported through the real CSV importer, each computed and approved, so charts have
  six bars and statements say how each line moved since last month; and this month's calls so far;
- a pilot: from the fourth of those months Hotline B is paid by a plan of its own (the demo plan's
  version 2 keeps Hotline A), and a draft that extends the pilot to both teams waits for the what-if;
- the demo month's performance reviews at every stage, each moved on by its lead and agent;
- a question an agent asked on a line of their statement, not answered yet, and one HR answered.
The alerts on the leads' teams are the top floor's: ``reports.demo`` raises them after this.

Idempotent: everything is keyed (usernames, employee ids, plan codes, call ids from a seeded generator),
so seeding twice leaves the same data; a month already approved is neither imported nor computed again,
a review already at its stage is left there, and a question asked already is not asked again.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group as AuthGroup
from django.db import transaction
from django.utils import timezone

from calls.generator import csv_lines, generate_calls
from calls.months import center_tz, month_first_last_day, previous_month, shift_month
from calls.roles import AGENT, HR, LEAD
from calls.services import ImportRefused, facts_import
from incentives.models import (
    ActionItem,
    Agent,
    Dispute,
    Group,
    Level,
    Period,
    Plan,
    PlanVersion,
    Region,
    Review,
    RootCause,
    Run,
    SkillMark,
    Statement,
    StatementLine,
    Team,
)
from incentives.presets import ANSWER_PRIORITY, STANDARD_TIERS, Preset
from incentives.services import (
    RunAlreadyActive,
    action_item_add,
    agent_create,
    dispute_answer,
    dispute_raise,
    period_approve,
    period_get_or_create,
    plan_create_from_preset,
    plan_version_activate,
    plan_version_create,
    presets_load,
    review_acknowledge,
    review_sign,
    root_cause_add,
    run_start,
    shared_skill_add,
    skill_mark_add,
    version_spec_from_db,
)
from incentives.services.reviews import ORDER as REVIEW_ORDER
from incentives.validation import MetricSpec

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed on screen for the demo; never a real account
TEAMS = (
    ("hotline-a", "热线一组 Hotline A", "A"),
    ("hotline-b", "热线二组 Hotline B", "B"),
)
AGENTS_PER_TEAM = 10
DEMO_PLAN_CODE = "demo-answer-priority"
# Everyone in the demo joined, and its plan took effect, on this day: before any month it seeds.
DEMO_START = dt.date(2025, 1, 1)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
# The demo month and the five before it: six bars on every chart that goes month by month.
HISTORY_MONTHS = 6
# With a broker (CELERY_BROKER_URL) a month's run is computed by the workers: wait this long for it (a
# worker computes the demo's month in well under a second).
RUN_WAIT_SECONDS = 120

# The pilot: Hotline B paid on the share of calls answered within 20 s instead of the mean wait, for the
# last PILOT_MONTHS months of the history; HR's "plans compared" page reads it against Hotline A. Its
# ladder (60 / 70 / 80%) brackets the demo's agents, who answer about three calls in four within 20 s.
PILOT_TEAM = "hotline-b"
PILOT_MONTHS = 3
_D = Decimal
PILOT = Preset(
    code="demo-pilot-service-level",
    name="试点 Pilot · 服务水平 Service level (demo)",
    description="Hotline B's pilot: the share of calls answered within 20 s in place of the mean wait, "
    "beside the answer rate and first-correct transfers; the same tiers as the demo plan.",
    metrics=(
        MetricSpec(
            "answer_rate", _D(40), _D(90), _D(95), excellence=_D(98), excellence_payout=_D(150)
        ),
        MetricSpec(
            "service_level", _D(40), _D(60), _D(70), excellence=_D(80), excellence_payout=_D(150)
        ),
        MetricSpec(
            "first_correct_transfer",
            _D(20),
            _D(80),
            _D(90),
            excellence=_D(97),
            excellence_payout=_D(130),
        ),
    ),
    tiers=STANDARD_TIERS,
    channels=("inbound",),
)
PILOT_DRAFT_NOTE = "试点推广到两个组？先用“假设分析”试算。 The pilot for both teams? Try it on the what-if page first."

# How far each agent's review of the demo month has gone, by the number in their employee id (the same
# in both teams): (stage, signed off by the lead and waiting for the agent's acknowledgement). Agent 1
# of each team — the login printed on screen — has a stage to acknowledge.
REVIEW_WALK: dict[int, tuple[str, bool]] = {
    1: (Review.Stage.CONSENSUS, True),
    2: (Review.Stage.DONE, False),
    3: (Review.Stage.DONE, False),
    4: (Review.Stage.FORWARD, False),
    5: (Review.Stage.FORWARD, False),
    6: (Review.Stage.CONSENSUS, False),
    7: (Review.Stage.CONSENSUS, False),
    8: (Review.Stage.REVIEW, True),
    # 9 and 10: not started.
}
SHARED_SKILL_AGENT = 2  # their lead puts them on the internal expert list
# What the leads write in the interviews (data, in both languages, like the demo's names).
ROOT_CAUSE_NOTE = "高峰时段接起慢。 Slow to pick up at the peaks."
ACTION_WHAT = (
    "每周一次陪听辅导，练习高峰时段的节奏。 Weekly side-by-side coaching on the peaks' pace."
)
STRENGTH = "业务知识 Product knowledge"
WEAKNESS = "高峰时段的节奏 Pace at the peaks"
SHARED_SKILL = "安抚情绪激动的客户 Calming upset callers"
# The questions on statements: agent 1 of Hotline A asks about the demo month (open); agent 2 asked
# about the month before and HR answered.
OPEN_QUESTION = (
    "A01",
    "answer_rate",
    "接通率比我记得的低：有几通电话是系统掉线，不是我没接。 "
    "My answer rate is lower than I recall: a few calls dropped in the system; I did not miss them.",
)
ANSWERED_QUESTION = (
    "A02",
    "asa",
    "我的平均应答速度为什么比上个月慢？ Why is my speed of answer slower than last month?",
)
ANSWER = (
    "已核对：这一行背后的每通电话都是您本月的通话，数值无误。 "
    "Checked: every call behind this line is one of yours this month; the value stands."
)


class DemoRefused(Exception):
    """The demo cannot be seeded as asked; the message says why and what to do."""


@dataclass
class DemoMonth:
    """One month of the history, and what this seeding did to it."""

    year: int
    month: int
    calls_created: int = 0
    calls_unchanged: int = 0
    computed: bool = False  # computed by this seeding (else it was already)
    approved: bool = False  # approved by this seeding
    approved_before: bool = False  # approved already: left as it was
    run: Run | None = None  # the approved run


@dataclass
class DemoSummary:
    year: int  # the demo month: the latest of the history
    month: int
    logins: list[tuple[str, str]] = field(default_factory=list)  # (role, username)
    months: list[DemoMonth] = field(default_factory=list)  # oldest first
    alerts_open: dict[str, int] = field(default_factory=dict)  # team → open alerts (reports.demo)
    reviews: dict[str, int] = field(default_factory=dict)  # stage → reviews of the demo month
    open_question: Dispute | None = None
    pilot_team: Team | None = None
    pilot_version: PlanVersion | None = None
    whatif_version: PlanVersion | None = None  # the draft to try, over the demo month
    period: Period | None = None  # the demo month's

    @property
    def calls_created(self) -> int:
        return sum(m.calls_created for m in self.months)

    @property
    def calls_unchanged(self) -> int:
        return sum(m.calls_unchanged for m in self.months)

    @property
    def computed(self) -> bool:
        return any(m.computed for m in self.months)

    @property
    def run(self) -> Run | None:
        return self.months[-1].run if self.months else None


# --- the organisation and the plans ---------------------------------------------------------------


def _user(username: str, *, role: str, password: str, first_name: str = "", staff: bool = False):
    """A demo login; ``password``: the demo password's hash, made once for all of them."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=username,
        defaults={"first_name": first_name, "is_staff": staff, "password": password},
    )
    user.groups.add(AuthGroup.objects.get_or_create(name=role)[0])
    return user


@transaction.atomic
def _organisation() -> tuple[list[Agent], list[tuple[str, str]]]:
    # One hash of the demo password for every login: a slow hash (PBKDF2) made for each of the 23 was
    # half the seeding's time (6 s of 12). One salt for all costs nothing here: the password is printed.
    password = make_password(DEMO_PASSWORD)
    logins = [(HR, "hr")]
    hr = _user("hr", role=HR, password=password, first_name="人力资源 HR", staff=True)
    if not hr.is_superuser:
        hr.is_superuser = True  # the demo's HR user administers everything in the admin
        hr.save(update_fields=["is_superuser"])
    region, _ = Region.objects.get_or_create(code="east", defaults={"name": "华东 East"})
    agents = []
    for team_index, (code, name, letter) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(code=code, defaults={"name": name, "region": region})
        groups = [
            Group.objects.get_or_create(
                team=team, code=f"{code}-g{n}", defaults={"name": f"{letter}{n} 组"}
            )[0]
            for n in (1, 2)
        ]
        lead = _user(
            f"lead_{letter.lower()}", role=LEAD, password=password, first_name=f"主管 Lead {letter}"
        )
        team.leads.add(lead)
        logins.append((LEAD, lead.username))
        for number in range(1, AGENTS_PER_TEAM + 1):
            employee_id = f"{letter}{number:02d}"
            index = team_index * AGENTS_PER_TEAM + number - 1
            person = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
            user = _user(employee_id.lower(), role=AGENT, password=password, first_name=person)
            agent = Agent.objects.filter(employee_id=employee_id).first()
            if agent is None:
                agent = agent_create(
                    employee_id=employee_id,
                    name=person,
                    team=team,
                    group=groups[(number - 1) // 5],
                    placed_from=DEMO_START,
                    hire_date=DEMO_START,
                    user=user,
                    level=Level.SENIOR if number <= 3 else Level.JUNIOR,
                    base_pay=Decimal("6000.00") + Decimal(number * 100),
                )
            agents.append(agent)
            if number == 1:
                logins.append((AGENT, user.username))
    if not Plan.objects.filter(code=DEMO_PLAN_CODE).exists():
        plan_create_from_preset(
            preset=ANSWER_PRIORITY,
            code=DEMO_PLAN_CODE,
            name=f"{ANSWER_PRIORITY.name} (demo)",
            teams=list(Team.objects.filter(code__in=[code for code, _n, _l in TEAMS])),
            effective_from=DEMO_START,
            activate=True,
        )
    presets_load(effective_from=DEMO_START)
    return agents, logins


@transaction.atomic
def _pilot(*, starts: dt.date, draft_from: dt.date) -> tuple[PlanVersion, PlanVersion]:
    """Hotline B on a plan of its own from ``starts``: the demo plan's next version keeps the other
    teams (activating it ends the version in force for both the day before), the pilot's first version
    takes Hotline B, and a draft second version extends the pilot to every team from ``draft_from``, for
    the what-if page. Returns (the pilot's version in force, the draft); set up once."""
    pilot = Plan.objects.filter(code=PILOT.code).first()
    if pilot is not None:
        versions = pilot.versions.order_by("number")
        active = versions.filter(status=PlanVersion.Status.ACTIVE).last() or versions.first()
        draft = versions.filter(status=PlanVersion.Status.DRAFT).last() or active
        assert active is not None and draft is not None  # a plan set up here has both
        return active, draft
    teams = list(Team.objects.filter(code__in=[code for code, _n, _l in TEAMS]).order_by("code"))
    pilot_team = next(team for team in teams if team.code == PILOT_TEAM)
    current = (
        PlanVersion.objects.filter(plan__code=DEMO_PLAN_CODE, status=PlanVersion.Status.ACTIVE)
        .order_by("-number")
        .first()
    )
    if current is not None and current.effective_from < starts:
        spec = version_spec_from_db(current)
        spec.effective_from, spec.effective_to = starts, None
        others = plan_version_create(
            plan=current.plan,
            spec=spec,
            teams=[team for team in teams if team != pilot_team],
            levels=current.levels,
            channels=current.channels,
            currency=current.currency,
            note=f"{pilot_team.name} → {PILOT.name}",
            awards=list(current.awards.all()),
        )
        plan_version_activate(version=others)
    active = plan_create_from_preset(
        preset=PILOT,
        code=PILOT.code,
        name=PILOT.name,
        teams=[pilot_team],
        effective_from=starts,
        activate=True,
    )
    spec = version_spec_from_db(active)
    spec.effective_from, spec.effective_to = draft_from, None
    draft = plan_version_create(
        plan=active.plan,
        spec=spec,
        teams=teams,
        channels=active.channels,
        currency=active.currency,
        note=PILOT_DRAFT_NOTE,
    )
    return active, draft


# --- the months ---------------------------------------------------------------------------------------


def _import_calls(rows, *, filename: str) -> tuple[int, int]:
    """Generated calls through the real CSV importer; (created, unchanged)."""
    with tempfile.TemporaryFile() as stream:
        for line in csv_lines(rows):
            stream.write(line.encode("utf-8"))
        batch = facts_import(stream=stream, filename=filename, kind="calls", source="demo-acd")
    if batch.errors:
        raise ImportRefused(f"The demo's own calls did not import: {batch.errors[:3]}")
    return batch.rows_created, batch.rows_unchanged


def _month_calls(agents: list[Agent], year: int, month: int, days: int):
    first_day = dt.date(year, month, 1)
    return generate_calls(
        employee_ids=[agent.employee_id for agent in agents],
        first_day=first_day,
        days=days,
        calls_per_agent_day=40,
        seed=year * 100 + month,
        prefix=f"DEMO{year}{month:02d}",
    )


def _this_month_so_far(agents) -> None:
    """The current month's calls up to now, so that the dashboards' today and this week and the
    agents' month so far have something to show (the same generator; calls after now are left out)."""
    now = timezone.localtime(timezone.now(), center_tz())
    first_day = now.date().replace(day=1)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    generated = _month_calls(agents, now.year, now.month, now.day)
    rows = [row for row in generated if row["entered_at"] <= stamp]
    if not rows:  # the first minutes of a month: nothing yet
        return
    _import_calls(rows, filename=f"demo-{first_day:%Y-%m}-so-far.csv")


def _finished(run: Run) -> Run:
    """The run once its chunks are done: at once in the embedded default (they ran at commit); with a
    broker, when the workers have finished them."""
    deadline = time.monotonic() + RUN_WAIT_SECONDS
    while run.status in (Run.Status.PENDING, Run.Status.RUNNING):
        if time.monotonic() > deadline:
            raise DemoRefused(
                f"Run v{run.number} of {run.period} is not finished after {RUN_WAIT_SECONDS} s: with "
                "CELERY_BROKER_URL set, a Celery worker computes it; start one, or unset it."
            )
        time.sleep(0.5)
        run.refresh_from_db()
    if run.status != Run.Status.DONE:
        raise DemoRefused(f"Run v{run.number} of {run.period} failed: {run.error}")
    return run


def _month(agents: list[Agent], year: int, month: int) -> DemoMonth:
    """One month of the history: its calls imported, computed and approved, each step once. A month
    approved already is left as it is (its facts are locked, and its calls are the demo's)."""
    done = DemoMonth(year=year, month=month)
    period = period_get_or_create(year=year, month=month)
    if period.status in (Period.Status.APPROVED, Period.Status.CLOSED):
        done.run, done.approved_before = period.approved_run, True
        return done
    first_day, last_day = month_first_last_day(year, month)
    done.calls_created, done.calls_unchanged = _import_calls(
        _month_calls(agents, year, month, (last_day - first_day).days + 1),
        filename=f"demo-{year}-{month:02d}.csv",
    )
    run = period.runs.filter(status=Run.Status.DONE).order_by("-number").first()
    if run is None:
        try:
            run = run_start(period=period)
            done.computed = True
        except RunAlreadyActive as exc:  # one still under way (with a broker): wait for it
            run = exc.run
        run = _finished(run)
    period.refresh_from_db()
    if period.status == Period.Status.COMPUTED:
        period_approve(period=period, run=run)
        done.approved = True
    done.run = run
    return done


# --- what the month's pages show: reviews, questions ------------------------------------------------


def _stage_content(review: Review, *, lead, share: bool) -> None:
    """What the lead writes in the current stage before signing it off (only what is missing)."""
    if review.stage == Review.Stage.REVIEW and not review.root_causes.exists():
        lines = [line for line in review.statement.lines.all() if not line.no_data]
        worst = min(lines, key=lambda line: line.score) if lines else None
        root_cause_add(
            review=review,
            user=lead,
            metric=worst.metric if worst else "answer_rate",
            category=RootCause.Category.SKILL,
            note=ROOT_CAUSE_NOTE,
        )
    elif review.stage == Review.Stage.CONSENSUS:
        if not review.actions.exists():
            action_item_add(
                review=review,
                user=lead,
                what=ACTION_WHAT,
                owner=review.agent.user,
                due=timezone.localdate() + dt.timedelta(days=14),
                kind=ActionItem.Kind.COACHING,
                metric="answer_rate",
            )
        sides = set(review.skills.values_list("side", flat=True))
        for side, skill in (
            (SkillMark.Side.STRENGTH, STRENGTH),
            (SkillMark.Side.WEAKNESS, WEAKNESS),
        ):
            if side not in sides:
                skill_mark_add(review=review, user=lead, skill=skill, side=side)
    elif review.stage == Review.Stage.FORWARD and share and not review.shared_skills.exists():
        shared_skill_add(review=review, user=lead, skill=SHARED_SKILL)


def _review_walk(review: Review, *, lead, to: str, signed: bool, share: bool) -> None:
    """Move a review on through the services, as its lead and its agent would, until it is at stage
    ``to`` — signed off by the lead and waiting for the agent when ``signed``. A review already there,
    or further, is left as it is. The proposed targets are agreed as proposed."""
    target = REVIEW_ORDER.index(to)
    while review.stage != Review.Stage.DONE:
        at = REVIEW_ORDER.index(review.stage)
        if at > target or (at == target and not signed):
            return
        if getattr(review, f"{review.stage}_signed_at") is None:
            _stage_content(review, lead=lead, share=share)
            review = review_sign(review=review, user=lead)
        if at == target:
            return
        review = review_acknowledge(review=review, user=review.agent.user)


def _reviews(period: Period) -> dict[str, int]:
    """The demo month's reviews walked to their stages (``REVIEW_WALK``); the reviews per stage."""
    reviews = (
        Review.objects.filter(period=period)
        .select_related("agent__user", "team", "statement")
        .prefetch_related("team__leads")
        .order_by("agent__employee_id")
    )
    for review in reviews:
        walk = REVIEW_WALK.get(int(review.agent.employee_id[1:]))
        lead = next(iter(review.team.leads.all()), None)
        if walk is None or lead is None or review.agent.user is None:
            continue
        stage, signed = walk
        share = int(review.agent.employee_id[1:]) == SHARED_SKILL_AGENT
        _review_walk(review, lead=lead, to=stage, signed=signed, share=share)
    counts = dict.fromkeys(REVIEW_ORDER, 0)
    for stage in Review.objects.filter(period=period).values_list("stage", flat=True):
        counts[stage] += 1
    return counts


def _question(period: Period, asked: tuple[str, str, str], *, answer: str = "") -> Dispute | None:
    """An agent's question on a line of their approved statement of ``period`` (asked once), answered
    by HR when ``answer`` is given."""
    employee_id, metric, question = asked
    statement = Statement.objects.filter(
        run=period.approved_run, agent__employee_id=employee_id
    ).first()
    if statement is None or statement.agent.user is None:
        return None
    agent_user = statement.agent.user
    dispute = Dispute.objects.filter(statement=statement, raised_by=agent_user).first()
    if dispute is None:
        line = StatementLine.objects.filter(statement=statement, metric=metric).first()
        if line is None:
            return None
        dispute = dispute_raise(line=line, user=agent_user, question=question)
    if answer and dispute.answered_at is None:
        hr = get_user_model().objects.get(username="hr")
        dispute = dispute_answer(dispute=dispute, user=hr, answer=answer)
    return dispute


# --- the whole demo -----------------------------------------------------------------------------------


def demo_seed(*, year: int | None = None, month: int | None = None) -> DemoSummary:
    """Seed the demo center with six months of history ending with the demo month (by default the month
    that has just ended), and what the first minute should show: the pilot and its draft, reviews at
    every stage, an open question (the alerts: ``reports.demo.demo_seed_all``). See the module's
    docstring."""
    if year is None or month is None:
        year, month = previous_month()
    history = [shift_month(year, month, -back) for back in range(HISTORY_MONTHS - 1, -1, -1)]
    if dt.date(*history[0], 1) < DEMO_START:
        earliest = dt.date(*shift_month(DEMO_START.year, DEMO_START.month, HISTORY_MONTHS - 1), 1)
        raise DemoRefused(
            f"The demo's six months start on {DEMO_START} at the earliest: choose {earliest:%Y-%m} "
            "or a later month."
        )
    agents, logins = _organisation()
    summary = DemoSummary(year=year, month=month, logins=logins)
    pilot_starts = dt.date(*history[-PILOT_MONTHS], 1)
    draft_from = dt.date(*shift_month(year, month, 1), 1)
    summary.pilot_version, summary.whatif_version = _pilot(
        starts=pilot_starts, draft_from=draft_from
    )
    summary.pilot_team = Team.objects.get(code=PILOT_TEAM)

    for y, m in history:
        summary.months.append(_month(agents, y, m))
    _this_month_so_far(agents)

    period = Period.objects.get(year=year, month=month)
    summary.period = period
    summary.reviews = _reviews(period)
    summary.open_question = _question(period, OPEN_QUESTION)
    before = Period.objects.get(year=history[-2][0], month=history[-2][1])
    _question(before, ANSWERED_QUESTION, answer=ANSWER)
    return summary
