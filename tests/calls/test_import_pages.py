"""The three entry points: the upload page (with a preview), the API, the command (in test_import_csv);
each goes through a Celery task; HR only."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from calls.generator import csv_lines, generate_calls
from calls.models import Call, ColumnMapping, ImportBatch, RingAttempt
from tests.calls.test_import_csv import GOOD
from tests.calls.test_queue_log import QUEUE_LOG


@pytest.fixture
def hr(client, people):
    client.force_login(people.hr)
    return client


def _upload(name="oct.csv", text=GOOD):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_page_previews_the_first_rows_under_the_mapping(hr):
    ColumnMapping.objects.create(
        name="vendor",
        kind="calls",
        source="vendor",
        columns={"call_id": "流水号"},
        value_maps={"direction": {"来电": "inbound"}},
        date_format="%d/%m/%Y %H:%M:%S",
    )
    text = GOOD.replace("call_id", "流水号").replace(",inbound,", ",来电,", 1)
    text = text.replace("2026-10-05 09:00:00", "05/10/2026 09:00:00", 1)
    mapping = ColumnMapping.objects.get(name="vendor")
    page = hr.post(
        "/imports/",
        {"file": _upload(text=text), "kind": "calls", "mapping": mapping.pk, "preview": "1"},
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Preview" in html
    assert "流水号" in html and "c1" in html and "138 0000 0001" in html
    # Values as the import reads them: through the value map, the date in the mapping's format.
    assert "来电" not in html and "05/10/2026" not in html and "2026-10-05 09:00:00" in html
    assert not ImportBatch.objects.exists() and not Call.objects.exists()


def test_the_page_imports_through_a_task_and_shows_the_batch(
    hr, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(
            "/imports/", {"file": _upload(), "kind": "calls", "source": "acd", "import": "1"}
        )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    assert batch.status == ImportBatch.Status.APPLIED and batch.rows_created == 3
    page = hr.get(f"/imports/{batch.pk}/").content.decode()
    assert "Applied" in page and "Roll back this import" in page


def test_a_rejected_file_shows_its_errors_and_a_safe_report(hr, django_capture_on_commit_callbacks):
    bad = GOOD + "c4,=HYPERLINK(1),general,inbound,1,2026-10-05 09:20:00,,5,0,0,0,0,,0\n"
    with django_capture_on_commit_callbacks(execute=True):
        hr.post(
            "/imports/",
            {"file": _upload(text=bad), "kind": "calls", "source": "acd", "import": "1"},
        )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.REJECTED and not Call.objects.exists()
    assert "unknown agent" in hr.get(f"/imports/{batch.pk}/").content.decode()
    report = hr.get(f"/imports/{batch.pk}/errors.csv").content.decode("utf-8-sig").splitlines()
    assert report[0] == "line,column,value,reason"
    assert report[1] == "5,agent_id,'=HYPERLINK(1),unknown agent: no agent has this employee id"


def test_the_page_rolls_back_after_its_confirmation_says_what_changes(
    hr, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        hr.post("/imports/", {"file": _upload(), "kind": "calls", "source": "acd", "import": "1"})
    batch = ImportBatch.objects.get()
    # The batch page's button leads to the confirmation, which says what the rollback deletes.
    assert (
        f'href="/imports/{batch.pk}/rollback/"' in hr.get(f"/imports/{batch.pk}/").content.decode()
    )
    page = hr.get(f"/imports/{batch.pk}/rollback/").content.decode()
    assert f"Rolling back import {batch.pk} deletes 3 calls it created (3 of 2026-10)." in page
    assert 'name="confirm" value="yes"' in page
    # Without the confirmation (a plain POST, as the old one-click button sent): nothing changes.
    unconfirmed = hr.post(f"/imports/{batch.pk}/rollback/")
    assert unconfirmed.status_code == 200 and "deletes 3 calls" in unconfirmed.content.decode()
    assert Call.objects.count() == 3
    assert ImportBatch.objects.get().status == ImportBatch.Status.APPLIED
    hr.post(f"/imports/{batch.pk}/rollback/", {"confirm": "yes"})
    assert not Call.objects.exists()
    assert ImportBatch.objects.get().status == ImportBatch.Status.ROLLED_BACK


def test_a_queue_log_through_the_page(hr, people, django_capture_on_commit_callbacks):
    from tests.factories import AgentFactory

    AgentFactory(employee_id="1001")
    AgentFactory(employee_id="1002")
    with django_capture_on_commit_callbacks(execute=True):
        hr.post(
            "/imports/",
            {
                "file": _upload("queue_log", QUEUE_LOG),
                "kind": "calls",
                "source": "pbx",
                "queue_log": "on",
                "import": "1",
            },
        )
    # Three calls offered to the queue; the ring-no-answer is an attempt on 1002, not a call.
    assert Call.objects.filter(source="pbx").count() == 3
    assert RingAttempt.objects.get(source="pbx").agent.employee_id == "1002"
    assert ImportBatch.objects.filter(kind="worktime", status="applied").exists()


def test_a_queue_log_is_recognised_without_its_box(hr, people, django_capture_on_commit_callbacks):
    from tests.factories import AgentFactory

    AgentFactory(employee_id="1001")
    AgentFactory(employee_id="1002")
    with django_capture_on_commit_callbacks(execute=True):
        hr.post(
            "/imports/",
            {
                "file": _upload("queue_log", QUEUE_LOG),
                "kind": "calls",
                "source": "pbx",
                "import": "1",
            },
        )
    batch = ImportBatch.objects.filter(kind="calls").get()
    assert batch.status == ImportBatch.Status.APPLIED and batch.queue_log
    assert "still talking" in hr.get(f"/imports/{batch.pk}/").content.decode()


def test_the_api_imports_and_reports(hr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(
            "/api/v1/imports/", {"file": _upload(), "kind": "calls", "source": "acd"}
        )
    assert response.status_code == 202
    batch_id = response.json()["id"]
    detail = hr.get(f"/api/v1/imports/{batch_id}/").json()
    assert (detail["status"], detail["rows_created"]) == ("applied", 3)
    assert hr.post(f"/api/v1/imports/{batch_id}/rollback/").json()["status"] == "rolled_back"
    refused = hr.post(f"/api/v1/imports/{batch_id}/rollback/")
    assert refused.status_code == 409 and "only an applied import" in refused.json()["detail"]


def test_imports_are_hr_only(client, people):
    for persona in (people.lead_a, people.agent_a.user):
        client.force_login(persona)
        assert client.get("/imports/").status_code == 403
        assert (
            client.post("/api/v1/imports/", {"file": _upload(), "source": "acd"}).status_code == 403
        )


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=10_000, DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_a_file_far_larger_than_the_memory_settings(hr, people, django_capture_on_commit_callbacks):
    """Django spools an upload over FILE_UPLOAD_MAX_MEMORY_SIZE to disk; the import streams it from there."""
    rows = generate_calls(
        employee_ids=["A1", "A2", "B1"],
        first_day=dt.date(2026, 10, 1),
        days=10,
        calls_per_agent_day=40,
        seed=5,
    )
    data = "".join(csv_lines(rows)).encode()
    assert len(data) > 10 * 10_000
    upload = SimpleUploadedFile("big.csv", data, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        hr.post("/imports/", {"file": upload, "kind": "calls", "source": "acd", "import": "1"})
    batch = ImportBatch.objects.get()
    assert (
        batch.status == ImportBatch.Status.APPLIED
        and batch.rows_created == Call.objects.count() > 1000
    )
