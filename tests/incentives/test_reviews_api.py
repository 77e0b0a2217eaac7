"""The performance interview in the API: each persona sees only the reviews that are theirs, the three
stages walked over HTTP up to next month's targets, steps out of turn refused with the reason, HR's
reopening on the record, the actions a lead follows up, and HR's progress by team."""

import datetime as dt
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incentives import services
from incentives.models import ActionItem, Period, Review, TargetOverride
from tests.factories import PeriodFactory
from tests.incentives.test_compute import _calls, _start

SEP = dt.datetime(2026, 9, 15, 2, 0, tzinfo=dt.UTC)


def _in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


@pytest.fixture
def october(people, django_capture_on_commit_callbacks):
    """October approved: A1 below the answer-rate threshold (flagged), A2 and B1 above it."""
    _calls(people.agent_a, 85, 100)  # 85% < 90%: the line scores 0 → flagged below_threshold
    _calls(people.agent_a2, 95, 100)  # 95%: 100 points
    _calls(people.agent_b, 92, 100)  # 92%: 70 points
    period = PeriodFactory(year=2026, month=10)
    services.period_approve(
        period=period, run=_start(period, django_capture_on_commit_callbacks), approved_by=people.hr
    )
    return period


def _review(agent, period) -> Review:
    return Review.objects.get(agent=agent, period=period)


def _url(review: Review, step: str = "") -> str:
    return f"/api/v1/reviews/{review.pk}/{step}"


def _as(client, user):
    client.force_login(user)
    return client


def _post(client, url: str, body: dict | None = None):
    return client.post(url, body or {}, content_type="application/json")


def _refused(response, words: str) -> None:
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"], response.json()


def _to_consensus(people, review: Review) -> None:
    lead = people.lead_a
    services.root_cause_add(review=review, user=lead, metric="answer_rate", category="staffing")
    services.review_sign(review=review, user=lead)
    services.review_acknowledge(review=review, user=review.agent.user)


def _walk(people, review: Review) -> Review:
    """Through the three stages with the services, keeping this month's ladder (A2: not flagged)."""
    lead, agent_user = people.lead_a, review.agent.user
    _to_consensus(people, review)
    services.action_item_add(
        review=review,
        user=lead,
        what="Shadow a senior agent",
        owner=agent_user,
        due=_in_days(14),
        kind="coaching",
    )
    services.review_sign(review=review, user=lead)
    services.review_acknowledge(review=review, user=agent_user)
    services.review_sign(review=review, user=lead)
    return services.review_acknowledge(review=review, user=agent_user)


# --- who sees what -------------------------------------------------------------------------------


def test_each_persona_lists_only_the_reviews_that_are_theirs(client, people, october):
    def listed(user, query=""):
        response = _as(client, user).get(f"/api/v1/reviews/{query}")
        assert response.status_code == 200
        return [row["employee_id"] for row in response.json()["results"]]

    assert listed(people.agent_a.user) == ["A1"]
    assert listed(people.agent_b.user, f"?period={october.pk}") == ["B1"]
    assert listed(people.lead_a) == ["A1", "A2"]  # flagged first: A1 is below a threshold
    # Another team is not one a lead may filter by: a 400 naming the filter, nothing listed.
    other = _as(client, people.lead_a).get(f"/api/v1/reviews/?team={people.team_b.pk}")
    assert other.status_code == 400 and "team" in other.json()
    assert listed(people.hr) == ["A1", "A2", "B1"]
    assert listed(people.hr, f"?team={people.team_b.pk}") == ["B1"]
    assert listed(people.hr, "?stage=review") == ["A1", "A2", "B1"]
    assert listed(people.hr, "?stage=consensus") == []
    row = _as(client, people.hr).get("/api/v1/reviews/").json()["results"][0]
    assert row["flags"] == ["below_threshold"] and row["period_label"] == "2026-10"
    assert row["team_code"] == "team-a" and row["stage"] == "review"


def test_one_review_opens_for_its_agent_lead_and_hr_and_is_a_404_for_anyone_else(
    client, people, october
):
    a1, b1 = _review(people.agent_a, october), _review(people.agent_b, october)
    for user in (people.agent_a.user, people.lead_a, people.hr):
        detail = _as(client, user).get(_url(a1))
        assert detail.status_code == 200 and detail.json()["employee_id"] == "A1"
    for user in (people.agent_a2.user, people.agent_b.user):
        _as(client, user)
        assert client.get(_url(a1)).status_code == 404
        # A step on a review one may not see is a 404 too, whatever the body.
        assert _post(client, _url(a1, "sign/")).status_code == 404
        assert _post(client, _url(a1, "root-causes/"), {"metric": "x"}).status_code == 404
    assert _as(client, people.lead_a).get(_url(b1)).status_code == 404
    assert _post(client, _url(b1, "sign/")).status_code == 404
    _as(client, people.nobody)
    for url in ("/api/v1/reviews/", _url(a1), "/api/v1/review-actions/due/"):
        assert client.get(url).status_code == 403, url
    assert _post(client, _url(a1, "sign/")).status_code == 403
    client.logout()
    assert client.get("/api/v1/reviews/").status_code == 403


def test_the_list_is_newest_month_first_and_flagged_first_within_a_month(
    client, people, october, django_capture_on_commit_callbacks
):
    _calls(people.agent_a2, 95, 100, when=SEP)  # A1 has no September calls: no data, not flagged
    september = PeriodFactory(year=2026, month=9)
    services.period_approve(
        period=september, run=_start(september, django_capture_on_commit_callbacks)
    )
    rows = _as(client, people.lead_a).get("/api/v1/reviews/").json()["results"]
    assert [(r["period_label"], r["employee_id"]) for r in rows] == [
        ("2026-10", "A1"),
        ("2026-10", "A2"),
        ("2026-09", "A1"),
        ("2026-09", "A2"),
    ]
    rows = client.get(f"/api/v1/reviews/?period={september.pk}&limit=1").json()
    assert rows["count"] == 2 and [r["employee_id"] for r in rows["results"]] == ["A1"]


# --- the three stages ----------------------------------------------------------------------------


def test_the_three_stages_walked_through_the_api_become_next_months_targets(
    client, people, october
):
    review = _review(people.agent_a, october)
    lead, agent = people.lead_a, people.agent_a.user

    # Review (复盘): a root cause, the lead's sign-off, the agent's acknowledgement.
    _as(client, lead)
    cause = _post(
        client,
        _url(review, "root-causes/"),
        {"metric": "answer_rate", "category": "staffing", "note": "flu week"},
    )
    assert cause.status_code == 201 and cause.json()["category"] == "staffing"
    signed = _post(client, _url(review, "sign/")).json()
    assert signed["stage"] == "review" and signed["review_signed_at"] is not None
    moved = _post(_as(client, agent), _url(review, "acknowledge/")).json()
    assert moved["stage"] == "consensus" and moved["review_acknowledged_at"] is not None

    # Consensus (共识): an action with an owner and a date; A1 is below a threshold, so the skills map.
    _as(client, lead)
    action = _post(
        client,
        _url(review, "actions/"),
        {
            "what": "Script practice for the opening",
            "owner": agent.pk,
            "due": str(_in_days(14)),
            "kind": "script",
            "metric": "answer_rate",
        },
    )
    assert action.status_code == 201, action.json()
    assert (action.json()["owner_name"], action.json()["employee_id"]) == ("a1", "A1")
    _refused(_post(client, _url(review, "sign/")), "map at least one strength and one weakness")
    for skill, side in (("Product knowledge", "strength"), ("Pace at peak hours", "weakness")):
        mark = _post(client, _url(review, "skills/"), {"skill": skill, "side": side})
        assert mark.status_code == 201
    assert _post(client, _url(review, "sign/")).status_code == 200
    forward = _post(_as(client, agent), _url(review, "acknowledge/")).json()
    assert forward["stage"] == "forward"
    # The proposal to start from: this month's ladder (A1's 85% is no better than the 95% target).
    proposed = [
        (t["metric"], t["proposed_threshold"], t["proposed_target"], t["proposed_excellence"])
        for t in forward["agreed_targets"]
    ]
    assert proposed == [("answer_rate", "90.0000", "95.0000", "98.0000")]

    # Forward (前瞻): agree next month's ladder, a skill worth sharing.
    _as(client, lead)
    agreed = _post(
        client,
        _url(review, "targets/"),
        {"metric": "answer_rate", "threshold": "86", "target": "91", "excellence": "96"},
    )
    assert agreed.status_code == 200 and agreed.json()["target"] == "91.0000"
    shared = _post(client, _url(review, "shared-skills/"), {"skill": "Elderly customers"})
    assert shared.status_code == 201 and shared.json()["agent"] == people.agent_a.pk
    assert _post(client, _url(review, "sign/")).status_code == 200
    done = _post(_as(client, agent), _url(review, "acknowledge/"))
    assert done.status_code == 200 and done.json()["stage"] == "done"

    november = Period.objects.get(year=2026, month=11)
    override = TargetOverride.objects.get(
        period=november, agent=people.agent_a, metric="answer_rate"
    )
    assert (override.threshold, override.target, override.excellence) == (D(86), D(91), D(96))
    detail = client.get(_url(review)).json()
    assert detail["target_period"] == november.pk and detail["flags"] == ["below_threshold"]
    for stage in ("review", "consensus", "forward"):
        signed_at = parse_datetime(detail[f"{stage}_signed_at"])
        assert signed_at <= parse_datetime(detail[f"{stage}_acknowledged_at"])
    assert [c["note"] for c in detail["root_causes"]] == ["flu week"]
    assert [a["what"] for a in detail["actions"]] == ["Script practice for the opening"]
    assert {(s["skill"], s["side"]) for s in detail["skills"]} == {
        ("Product knowledge", "strength"),
        ("Pace at peak hours", "weakness"),
    }
    assert [(t["threshold"], t["target"], t["excellence"]) for t in detail["agreed_targets"]] == [
        ("86.0000", "91.0000", "96.0000")
    ]
    assert [s["skill"] for s in detail["shared_skills"]] == ["Elderly customers"]


def test_steps_out_of_turn_are_refused_with_the_reason(client, people, october):
    review = _review(people.agent_a2, october)
    _as(client, people.agent_a2.user)
    _refused(_post(client, _url(review, "sign/")), "Only a lead of Team A conducts")
    _refused(_post(client, _url(review, "acknowledge/")), "has not signed off the Review")
    _as(client, people.lead_a)
    _refused(_post(client, _url(review, "sign/")), "at least one root cause")
    _refused(_post(client, _url(review, "acknowledge/")), "Only Agent A2 (A2) acknowledges")
    cause = {"metric": "answer_rate", "category": "skill"}
    assert _post(client, _url(review, "root-causes/"), cause).status_code == 201
    assert _post(client, _url(review, "sign/")).status_code == 200
    _refused(_post(client, _url(review, "root-causes/"), cause), "can no longer change")
    _refused(_post(client, _url(review, "sign/")), "already signed off")
    _post(_as(client, people.agent_a2.user), _url(review, "acknowledge/"))

    _as(client, people.lead_a)  # now at consensus
    _refused(
        _post(client, _url(review, "root-causes/"), cause),
        "belongs to the Review (复盘) stage; the review is at Consensus (共识)",
    )
    action = {"what": "Coaching", "owner": people.agent_a2.user.pk, "kind": "coaching"}
    _refused(
        _post(client, _url(review, "actions/"), {**action, "due": str(_in_days(-1))}),
        "is in the past",
    )
    stranger = {**action, "owner": people.agent_b.user.pk, "due": str(_in_days(7))}
    _refused(_post(client, _url(review, "actions/"), stranger), "The owner of an action is")
    target = {"metric": "answer_rate", "threshold": "86", "target": "91", "excellence": None}
    _refused(_post(client, _url(review, "targets/"), target), "belongs to the Forward")
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "review", "reason": "x"}),
        "Only HR can reopen",
    )
    bad = _post(client, _url(review, "skills/"), {"skill": "Tone", "side": "sideways"})
    assert bad.status_code == 400 and "side" in bad.json()

    _as(client, people.hr)  # HR reads every review but conducts none
    _refused(_post(client, _url(review, "sign/")), "Only a lead of Team A conducts")
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "review", "reason": "x"}),
        "still in progress",
    )
    assert _review(people.agent_a2, october).stage == Review.Stage.CONSENSUS


def test_a_target_out_of_order_is_refused_and_excellence_must_be_said(client, people, october):
    review = _review(people.agent_a2, october)
    _to_consensus(people, review)
    services.action_item_add(
        review=review,
        user=people.lead_a,
        what="Coaching",
        owner=people.lead_a,
        due=_in_days(7),
        kind="coaching",
    )
    services.review_sign(review=review, user=people.lead_a)
    services.review_acknowledge(review=review, user=people.agent_a2.user)
    _as(client, people.lead_a)
    url = _url(review, "targets/")
    _refused(
        _post(
            client,
            url,
            {"metric": "answer_rate", "threshold": "95", "target": "90", "excellence": None},
        ),
        "must be above the threshold",
    )
    _refused(
        _post(
            client, url, {"metric": "asa", "threshold": "40", "target": "20", "excellence": None}
        ),
        "is not measured on Agent A2",
    )
    forgot = _post(client, url, {"metric": "answer_rate", "threshold": "88", "target": "93"})
    assert forgot.status_code == 400 and "excellence" in forgot.json()
    flat = _post(
        client,
        url,
        {"metric": "answer_rate", "threshold": "88", "target": "93", "excellence": None},
    )
    assert flat.status_code == 200 and flat.json()["excellence"] is None


def test_a_completed_review_is_read_only_and_hr_reopens_it_on_the_record(client, people, october):
    review = _walk(people, _review(people.agent_a2, october))
    _as(client, people.lead_a)
    for step, body in (
        ("root-causes/", {"metric": "answer_rate", "category": "skill"}),
        ("shared-skills/", {"skill": "Calm"}),
        ("sign/", None),
    ):
        _refused(_post(client, _url(review, step), body), "completed and read-only")
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "forward", "reason": "typo"}),
        "Only HR can reopen",
    )
    _as(client, people.agent_a2.user)
    _refused(_post(client, _url(review, "acknowledge/")), "completed and read-only")
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "forward", "reason": "typo"}),
        "Only HR can reopen",
    )

    _as(client, people.hr)
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "forward", "reason": "  "}), "Say why"
    )
    _refused(
        _post(client, _url(review, "reopen/"), {"stage": "done", "reason": "why not"}),
        "not a stage of the review",
    )
    too_long = _post(client, _url(review, "reopen/"), {"stage": "forward", "reason": "x" * 301})
    assert too_long.status_code == 400 and "reason" in too_long.json()
    reopened = _post(
        client, _url(review, "reopen/"), {"stage": "forward", "reason": "target set too low"}
    )
    assert reopened.status_code == 200
    body = reopened.json()
    assert body["stage"] == "forward" and body["reopen_reason"] == "target set too low"
    assert body["forward_signed_at"] is None and body["consensus_signed_at"] is not None
    entry = LogEntry.objects.get_for_object(review).filter(changes__icontains="too low").get()
    assert entry.actor == people.hr and entry.changes_dict["stage"] == ["done", "forward"]

    # The lead agrees a new ladder; completing again replaces next month's override.
    _as(client, people.lead_a)
    target = {"metric": "answer_rate", "threshold": "92", "target": "96", "excellence": "99"}
    assert _post(client, _url(review, "targets/"), target).status_code == 200
    assert _post(client, _url(review, "sign/")).status_code == 200
    assert _post(_as(client, people.agent_a2.user), _url(review, "acknowledge/")).status_code == 200
    override = TargetOverride.objects.get(
        agent=people.agent_a2, period__year=2026, period__month=11
    )
    assert (override.threshold, override.target, override.excellence) == (D(92), D(96), D(99))


# --- follow-through and progress -----------------------------------------------------------------


def test_a_lead_follows_up_the_actions_due_and_the_owner_marks_them_done(client, people, october):
    review = _review(people.agent_a, october)
    _to_consensus(people, review)
    soon = services.action_item_add(
        review=review,
        user=people.lead_a,
        what="Script practice",
        owner=people.agent_a.user,
        due=_in_days(3),
        kind="script",
    )
    later = services.action_item_add(
        review=review,
        user=people.lead_a,
        what="Listen to calls",
        owner=people.lead_a,
        due=_in_days(30),
        kind="coaching",
    )

    def due(user, query=""):
        response = _as(client, user).get(f"/api/v1/review-actions/due/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert due(people.lead_a) == [soon.pk]
    assert due(people.lead_a, "?within_days=30") == [soon.pk, later.pk]
    assert due(people.hr) == [soon.pk]
    row = client.get("/api/v1/review-actions/due/").json()["results"][0]
    assert (row["employee_id"], row["period"], row["owner_name"]) == ("A1", "2026-10", "a1")
    assert client.get("/api/v1/review-actions/due/?within_days=-1").status_code == 400
    for user in (people.agent_a.user, people.nobody):
        assert _as(client, user).get("/api/v1/review-actions/due/").status_code == 403

    done_url = f"/api/v1/review-actions/{soon.pk}/done/"
    for user in (people.agent_a2.user, people.agent_b.user):  # cannot see A1's review
        assert _post(_as(client, user), done_url).status_code == 404
    _refused(_post(_as(client, people.hr), done_url), "Only a1 or a lead of Team A marks")
    marked = _post(_as(client, people.agent_a.user), done_url)
    assert marked.status_code == 200 and marked.json()["done_at"] is not None
    later_url = f"/api/v1/review-actions/{later.pk}/done/"
    assert _post(_as(client, people.lead_a), later_url).status_code == 200
    assert due(people.lead_a, "?within_days=30") == []
    assert ActionItem.objects.filter(done_at__isnull=True).count() == 0


def test_hr_sees_how_far_each_teams_reviews_are_and_the_overdue_actions(client, people, october):
    a1 = _review(people.agent_a, october)
    _to_consensus(people, a1)
    item = services.action_item_add(
        review=a1,
        user=people.lead_a,
        what="Script practice",
        owner=people.agent_a.user,
        due=_in_days(1),
        kind="script",
    )
    ActionItem.objects.filter(pk=item.pk).update(due=_in_days(-2))  # two days later, still open
    _walk(people, _review(people.agent_a2, october))

    response = _as(client, people.hr).get(f"/api/v1/review-progress/?period={october.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["period"], body["period_label"]) == (october.pk, "2026-10")
    teams = {row["team_code"]: row for row in body["teams"]}
    assert list(teams) == ["team-a", "team-b"]
    assert teams["team-a"]["stages"] == {"review": 0, "consensus": 1, "forward": 0, "done": 1}
    assert teams["team-a"]["overdue"] == 1 and teams["team-a"]["team"] == people.team_a.pk
    assert teams["team-b"]["stages"] == {"review": 1, "consensus": 0, "forward": 0, "done": 0}
    assert teams["team-b"]["overdue"] == 0
    empty = client.get(f"/api/v1/review-progress/?period={PeriodFactory(month=12).pk}").json()
    assert empty["teams"] == []
    assert client.get("/api/v1/review-progress/").status_code == 400
    assert client.get("/api/v1/review-progress/?period=999999").status_code == 400
    for user in (people.lead_a, people.agent_a.user, people.nobody):
        url = f"/api/v1/review-progress/?period={october.pk}"
        assert _as(client, user).get(url).status_code == 403


def test_a_review_and_the_list_cost_the_same_queries_however_much_they_hold(
    client, people, october
):
    review = _review(people.agent_a, october)
    _to_consensus(people, review)
    _as(client, people.lead_a)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    def add_action():
        services.action_item_add(
            review=review,
            user=people.lead_a,
            what="Coaching",
            owner=people.agent_a.user,
            due=_in_days(7),
            kind="coaching",
        )

    add_action()
    one = (queries(_url(review)), queries("/api/v1/reviews/"))
    for _ in range(4):
        add_action()
    services.skill_mark_add(review=review, user=people.lead_a, skill="Tone", side="strength")
    assert (queries(_url(review)), queries("/api/v1/reviews/")) == one
