"""The admin and the API agree on every rule: what one refuses, the other refuses with the same words.
The plan page explains the plan; a used version is read-only in both; HR's changes are audited."""

import dataclasses
import datetime as dt
from decimal import Decimal as D

import pytest
from auditlog.models import LogEntry
from django.utils.html import escape

from incentives import services
from incentives.models import Plan, PlanVersion
from incentives.presets import PRESETS
from incentives.validation import GateSpec, TierSpec
from tests.factories import ANSWER_ONLY, PeriodFactory

BASE = ANSWER_ONLY.spec(dt.date(2027, 1, 1))


def _with(**changes):
    spec = dataclasses.replace(
        BASE,
        metrics=[dataclasses.replace(m) for m in BASE.metrics],
        tiers=list(BASE.tiers),
        gates=list(BASE.gates),
    )
    for key, value in changes.items():
        if key.startswith("metric_"):
            spec.metrics[0] = dataclasses.replace(spec.metrics[0], **{key[len("metric_") :]: value})
        else:
            setattr(spec, key, value)
    return spec


INVALID = {
    "weights": (_with(metric_weight=D(90)), "the weights add up to 90%, not 100%"),
    "order": (_with(metric_target=D(89)), "must be above the threshold (90)"),
    "tiers overlap": (_with(tiers=[*BASE.tiers, TierSpec(D(60), D(1))]), "tiers may not overlap"),
    "gate range": (
        _with(gates=[GateSpec("csat", "lt", D(7), "void")]),
        "7 is outside the range of CSAT",
    ),
    "cap": (_with(payout_cap=D(90)), "a cap in % of the target bonus must be at least 100%"),
    "threshold payout": (
        _with(metric_threshold_payout=D(120)),
        "the payout at the threshold must be from 0 to 100%",
    ),
}


def _api_payload(spec, plan_code):
    def clean(d):
        return {
            k: (str(v) if isinstance(v, D | dt.date) else v) for k, v in d.items() if v is not None
        }

    return {
        **clean(
            {
                "plan": plan_code,
                "effective_from": spec.effective_from,
                "effective_to": spec.effective_to,
                "target_bonus_kind": spec.target_bonus_kind,
                "target_bonus": spec.target_bonus,
                "target_bonus_percent": spec.target_bonus_percent,
                "payout_cap_kind": spec.payout_cap_kind,
                "payout_cap": spec.payout_cap,
            }
        ),
        "metrics": [clean(vars(m)) for m in spec.metrics],
        "tiers": [clean(vars(t)) for t in spec.tiers],
        "gates": [clean(vars(g)) for g in spec.gates],
    }


def _admin_payload(spec, plan):
    data = {
        "plan": plan.pk,
        "effective_from": spec.effective_from,
        "effective_to": spec.effective_to or "",
        "target_bonus_kind": spec.target_bonus_kind,
        "target_bonus": spec.target_bonus or "",
        "target_bonus_percent": spec.target_bonus_percent or "",
        "currency": "CNY",
        "payout_cap_kind": spec.payout_cap_kind,
        "payout_cap": spec.payout_cap or "",
        "note": "",
    }
    for prefix, rows in (
        ("metrics", spec.metrics),
        ("tiers", spec.tiers),
        ("gates", spec.gates),
        ("awards", []),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": len(rows),
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
        for index, row in enumerate(rows):
            for key, value in vars(row).items():
                if key == "params":
                    value = "{}"
                data[f"{prefix}-{index}-{key}"] = "" if value is None else value
    return data


@pytest.fixture
def hr_client(client, people):
    client.force_login(people.hr)
    return client


@pytest.mark.parametrize("case", INVALID)
def test_the_admin_and_the_api_refuse_the_same_plan_with_the_same_words(hr_client, people, case):
    spec, words = INVALID[case]
    plan = Plan.objects.create(code="p", name="P")
    api = hr_client.post(
        "/api/v1/plan-versions/", _api_payload(spec, "p"), content_type="application/json"
    )
    assert api.status_code == 400
    assert any(words in problem["message"] for problem in api.json()["problems"]), api.json()
    admin = hr_client.post("/admin/incentives/planversion/add/", _admin_payload(spec, plan))
    assert admin.status_code == 200  # the form again, with the errors
    assert escape(words) in admin.content.decode()
    assert not PlanVersion.objects.filter(plan=plan).exists()


def test_the_admin_and_the_api_accept_a_valid_plan(hr_client, people):
    plan = Plan.objects.create(code="p", name="P")
    api = hr_client.post(
        "/api/v1/plan-versions/", _api_payload(BASE, "p"), content_type="application/json"
    )
    assert api.status_code == 201, api.json()
    admin = hr_client.post("/admin/incentives/planversion/add/", _admin_payload(BASE, plan))
    assert admin.status_code == 302, admin.content.decode()[:3000]
    assert list(plan.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    for version in plan.versions.all():
        assert services.version_spec_from_db(version).metrics == BASE.metrics


def test_a_used_version_is_read_only_in_the_admin_and_409_in_the_api(
    hr_client, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.run_start(period=PeriodFactory(year=2026, month=10))
    version = people.plan
    api = hr_client.put(
        f"/api/v1/plan-versions/{version.pk}/",
        _api_payload(BASE, version.plan.code),
        content_type="application/json",
    )
    assert api.status_code == 409 and "make a new version" in api.json()["detail"]
    page = hr_client.get(f"/admin/incentives/planversion/{version.pk}/change/").content.decode()
    assert 'name="effective_from"' not in page  # shown, not editable
    posted = hr_client.post(
        f"/admin/incentives/planversion/{version.pk}/change/", _admin_payload(BASE, version.plan)
    )
    assert posted.status_code == 403
    new = hr_client.post(
        f"/api/v1/plan-versions/{version.pk}/new-version/", {"effective_from": "2026-11-01"}
    )
    assert new.status_code == 201 and new.json()["number"] == 2 and new.json()["status"] == "draft"


def test_the_plan_page_says_how_the_plan_pays(hr_client, people):
    version = services.plan_create_from_preset(
        preset=PRESETS["preset-outbound-compliance"], code="out", effective_from=dt.date(2027, 1, 1)
    )
    page = hr_client.get(f"/admin/incentives/planversion/{version.pk}/change/").content.decode()
    assert "Effective talk ratio, weight 30% (higher is better)" in page
    assert "Gate: if Complaint rate &gt; 0.5, the bonus is void." in page
    assert (
        "From a weighted score of 100: target bonus × 1.2 × score ÷ 100 + a step bonus of 200.00 CNY."
        in page
    )
    explained = hr_client.get(f"/api/v1/plan-versions/{version.pk}/explain/").json()
    payouts = {row["weighted_score"]: row["payout"] for row in explained["examples"]}
    # 60 -> 1000 x 1.0 x 0.60; 85 -> x 1.2 x 0.85; 100 -> x 1.2 + 200; 120 -> 1640, under the 2000 cap.
    assert payouts == {"60": "600.00", "85": "1020.00", "100": "1400.00", "120": "1640.00"}


def test_plans_and_targets_are_hr_only_in_the_api(client, people):
    for persona in (people.lead_a, people.agent_a.user):
        client.force_login(persona)
        for url in (
            "/api/v1/plans/",
            "/api/v1/plan-versions/",
            "/api/v1/targets/",
            "/api/v1/plan-problems/",
        ):
            assert client.get(url).status_code == 403, (persona, url)
    client.force_login(people.agent_a.user)
    assert client.get("/api/v1/metrics/").status_code == 200
    agents = client.get("/api/v1/agents/").json()["results"]
    assert [a["employee_id"] for a in agents] == ["A1"]
    assert client.post("/api/v1/agents/", {}).status_code == 403
    client.force_login(people.lead_a)
    assert sorted(a["employee_id"] for a in client.get("/api/v1/agents/").json()["results"]) == [
        "A1",
        "A2",
    ]
    assert client.get(f"/api/v1/agents/{people.agent_b.pk}/").status_code == 404


def test_the_api_moves_an_agent_with_a_date(hr_client, people):
    response = hr_client.post(
        f"/api/v1/agents/{people.agent_a.pk}/move/",
        {"team": people.team_b.pk, "valid_from": "2026-11-01"},
    )
    assert response.status_code == 200
    refused = hr_client.post(
        f"/api/v1/agents/{people.agent_a.pk}/move/",
        {"team": people.team_a.pk, "valid_from": "2026-10-01"},
    )
    assert refused.status_code == 400 and "must be dated after" in refused.json()["detail"]


def test_the_metric_catalogue_in_the_api(hr_client, people):
    catalogue = {m["code"]: m for m in hr_client.get("/api/v1/metrics/").json()}
    assert len(catalogue) == 25
    assert (
        catalogue["answer_rate"]["name_zh"] == "接通率" and catalogue["asa"]["direction"] == "down"
    )
    assert catalogue["service_level"]["params"][0]["default"] == 20
    # A queue's figures for plans: the queue is a parameter (a queue's code, empty for all).
    queue = catalogue["queue_service_level"]["params"][1]
    assert (queue["code"], queue["kind"], queue["default"]) == ("queue", "queue", "")


def test_hr_changes_are_audited_with_who_and_before_and_after(hr_client, people):
    response = hr_client.post(
        "/api/v1/targets/",
        {
            "period": PeriodFactory(year=2026, month=11).pk,
            "metric": "asa",
            "team": people.team_a.pk,
            "threshold": "40",
            "target": "20",
        },
    )
    assert response.status_code == 201, response.json()
    entry = LogEntry.objects.get(content_type__model="targetoverride")
    assert entry.actor == people.hr and entry.action == LogEntry.Action.CREATE
    before, after = entry.changes_dict["target"]
    assert before == "None" and D(after) == 20
    hr_client.post(
        f"/admin/incentives/agent/{people.agent_a.pk}/change/",
        {
            "employee_id": "A1",
            "name": "Agent A1 renamed",
            "level": "senior",
            "channel": "inbound",
            "placements-TOTAL_FORMS": 1,
            "placements-INITIAL_FORMS": 1,
            "placements-MIN_NUM_FORMS": 0,
            "placements-MAX_NUM_FORMS": 1000,
            "placements-0-id": people.agent_a.placements.get().pk,
            "placements-0-agent": people.agent_a.pk,
        },
    )
    change = LogEntry.objects.filter(
        content_type__model="agent", object_id=people.agent_a.pk
    ).latest("timestamp")
    assert change.actor == people.hr
    assert change.changes_dict["name"] == ["Agent A1", "Agent A1 renamed"]
    assert change.changes_dict["level"] == ["junior", "senior"]
    # HR reads the trail in the admin.
    assert hr_client.get("/admin/auditlog/logentry/").status_code == 200


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_hr_builds_each_preset_from_scratch_in_the_admin(hr_client, people, code):
    preset = PRESETS[code]
    spec = preset.spec(dt.date(2027, 1, 1))
    plan = Plan.objects.create(code="scratch", name=preset.name)
    response = hr_client.post("/admin/incentives/planversion/add/", _admin_payload(spec, plan))
    assert response.status_code == 302, response.content.decode()[-3000:]
    built = services.version_spec_from_db(plan.versions.get())
    assert built == spec  # every metric, tier and gate as the preset has it


def test_the_presets_load_with_one_command_and_validate(db, capsys):
    from django.core.management import call_command

    call_command("load_presets", "--effective-from", "2027-01-01")
    assert "5 presets loaded." in capsys.readouterr().out
    call_command("load_presets", "--effective-from", "2027-01-01")
    assert "0 presets loaded." in capsys.readouterr().out
    for code, preset in PRESETS.items():
        version = Plan.objects.get(code=code).versions.get()
        assert version.status == PlanVersion.Status.DRAFT
        assert services.plans.version_problems(services.version_spec_from_db(version)) == []
        assert version.metrics.count() == len(preset.metrics)


def test_the_agent_api_says_where_each_agent_sits_today(hr_client, people):
    rows = {row["employee_id"]: row for row in hr_client.get("/api/v1/agents/").json()["results"]}
    assert (rows["A1"]["team"], rows["B1"]["team"]) == (people.team_a.pk, people.team_b.pk)
    moved = hr_client.post(
        f"/api/v1/agents/{people.agent_a.pk}/move/",
        {"team": people.team_b.pk, "valid_from": "2020-06-01"},
    ).json()
    assert moved["team"] == people.team_b.pk


def test_the_api_filters(hr_client, people):
    in_a = hr_client.get(f"/api/v1/agents/?team={people.team_a.pk}").json()["results"]
    assert sorted(row["employee_id"] for row in in_a) == ["A1", "A2"]
    draft = services.plan_version_new(version=people.plan, effective_from=dt.date(2030, 1, 1))
    active = hr_client.get("/api/v1/plan-versions/?active_on=2026-10-31").json()["results"]
    assert [row["id"] for row in active] == [people.plan.pk]
    drafts = hr_client.get("/api/v1/plan-versions/?status=draft").json()["results"]
    assert [row["id"] for row in drafts] == [draft.pk]
