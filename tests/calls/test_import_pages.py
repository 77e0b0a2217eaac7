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


def test_the_result_says_the_days_covered_and_offers_to_compute_each_month(
    hr, django_capture_on_commit_callbacks
):
    from incentives.models import Period, Run

    text = GOOD + "c9,A1,general,inbound,13800000009,2026-11-02 10:00:00,,7,0,0,0,0,abandoned,0\n"
    with django_capture_on_commit_callbacks(execute=True):
        hr.post(
            "/imports/",
            {"file": _upload(text=text), "kind": "calls", "source": "acd", "import": "1"},
        )
    batch = ImportBatch.objects.get()
    assert (batch.first_day, batch.last_day) == (dt.date(2026, 10, 5), dt.date(2026, 11, 2))
    assert batch.months == [
        {"year": 2026, "month": 10, "rows": 3},
        {"year": 2026, "month": 11, "rows": 1},
    ]
    page = hr.get(f"/imports/{batch.pk}/").content.decode()
    assert "New or changed rows from Oct. 5, 2026 to Nov. 2, 2026." in page
    assert 'action="/months/2026-10/compute/"' in page and "Compute 2026-10" in page
    assert "3 rows in this month" in page and "1 row in this month" in page
    # HR's overview lists both months, which have no period yet, with the same button.
    overview = hr.get("/hr/").content.decode()
    assert "Months with imported data, not computed yet" in overview
    assert overview.index("Compute 2026-11") < overview.index("Compute 2026-10")
    assert hr.get("/months/2026-10/compute/").status_code == 405  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post("/months/2026-10/compute/")
    assert response.status_code == 302 and response["Location"] == "/hr/"
    october = Period.objects.get(year=2026, month=10)
    assert Run.objects.get(period=october).status == Run.Status.DONE
    overview = hr.get("/hr/").content.decode()
    assert "Compute 2026-10" not in overview.split('id="new-months"')[1].split("</section>")[0]
    assert "Compute 2026-11" in overview
    assert hr.post("/months/2026-13/compute/").status_code == 404


def test_the_preview_keeps_the_file_for_the_import(
    hr, settings, tmp_path, django_capture_on_commit_callbacks
):
    import re

    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path  # this test's previews only
    page = hr.post(
        "/imports/",
        {"file": _upload(), "kind": "calls", "source": "acd", "preview": "1"},
    ).content.decode()
    assert "oct.csv is kept: press Import to import it" in page
    token = re.search(r'name="kept" value="([^"]+)"', page).group(1)
    _folders, kept = default_storage.listdir("imports/previews")
    assert len(kept) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = hr.post(
            "/imports/", {"kept": token, "kind": "calls", "source": "acd", "import": "1"}
        )
    batch = ImportBatch.objects.get()
    assert response["Location"] == f"/imports/{batch.pk}/"
    assert (batch.filename, batch.status, batch.rows_created) == ("oct.csv", "applied", 3)
    assert default_storage.listdir("imports/previews")[1] == []  # imported: no copy left behind
    # The token is spent, and a forged one names no file.
    for spent in (token, token[:-3] + "xyz"):
        again = hr.post(
            "/imports/", {"kept": spent, "kind": "calls", "source": "acd", "import": "1"}
        )
        assert again.status_code == 200
        assert (
            "The previewed file is no longer kept: choose the file again." in again.content.decode()
        )
    nothing = hr.post("/imports/", {"kind": "calls", "source": "acd", "import": "1"})
    assert "Choose the file to import." in nothing.content.decode()
    assert ImportBatch.objects.count() == 1


def test_previews_never_imported_are_deleted_after_a_day(hr, settings, tmp_path):
    from django.core.files.storage import default_storage
    from django.utils import timezone

    from calls.services import previews_sweep

    settings.MEDIA_ROOT = tmp_path  # this test's previews only
    hr.post("/imports/", {"file": _upload(), "kind": "calls", "source": "acd", "preview": "1"})
    assert previews_sweep(now=timezone.now()) == 0
    assert previews_sweep(now=timezone.now() + dt.timedelta(days=1, minutes=1)) == 1
    assert default_storage.listdir("imports/previews")[1] == []


def test_a_running_import_shows_its_step_and_rows(hr, people):
    from django.core.cache import cache

    from calls.services import progress_key

    batch = ImportBatch.objects.create(
        source="acd", filename="oct.csv", status=ImportBatch.Status.RUNNING, kind="calls"
    )
    cache.set(progress_key(batch.pk), {"phase": "validating", "rows": 881713})
    try:
        part = hr.get(f"/imports/{batch.pk}/?part=status").content.decode()
    finally:
        cache.delete(progress_key(batch.pk))
    assert part.startswith('<section class="card" id="import-status" data-final="0"')
    assert '<progress max="3" value="2"' in part and "Step 2 of 3: checking 881,713 rows" in part
    page = hr.get(f"/imports/{batch.pk}/").content.decode()
    assert "js/poll.js" in page and 'data-poll="#import-status"' in page
    batch.status = ImportBatch.Status.PENDING
    batch.save()
    part = hr.get(f"/imports/{batch.pk}/?part=status").content.decode()
    assert "Waiting for a worker to take the file." in part


@pytest.mark.django_db(transaction=True)
@override_settings(CELERY_TASK_ALWAYS_EAGER=True, EMBEDDED_TASKS_IN_THREAD=True)
def test_without_a_broker_the_upload_returns_and_the_import_runs_in_a_thread(client, people):
    """The embedded default: the page does not wait for the import, which a thread of the web process
    runs after commit; the batch page then shows its result."""
    import time

    client.force_login(people.hr)
    rows = generate_calls(
        employee_ids=["A1", "A2", "B1"],
        first_day=dt.date(2026, 10, 1),
        days=5,
        calls_per_agent_day=40,
        seed=3,
    )
    upload = SimpleUploadedFile("oct.csv", "".join(csv_lines(rows)).encode())
    response = client.post(
        "/imports/", {"file": upload, "kind": "calls", "source": "acd", "import": "1"}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{batch.pk}/"
    deadline = time.monotonic() + 60
    while ImportBatch.objects.get().status in ("pending", "running"):
        assert time.monotonic() < deadline, "the import thread did not finish in a minute"
        time.sleep(0.2)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED and batch.rows_created == Call.objects.count()
    part = client.get(f"/imports/{batch.pk}/?part=status").content.decode()
    assert 'data-final="1"' in part and "Compute 2026-10" in part
