"""Retention: an uploaded file is deleted once its import is final (applied, rejected, failed, rolled
back), never while a worker may still read it; with IMPORT_FILE_RETENTION_DAYS it is kept that long with
every customer number replaced by its key, then deleted. The error report never holds a number in
clear. Real files, in the test settings' temporary MEDIA_ROOT."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from calls import services
from calls.models import Call, ColumnMapping, ImportBatch
from calls.privacy import customer_key, customer_mask
from tests.calls.test_import_csv import GOOD
from tests.calls.test_queue_log import QUEUE_LOG
from tests.factories import AgentFactory

NUMBERS = ("13800000001", "138 0000 0001", "13800000002", "13800000003")


@pytest.fixture
def hr(client, people):
    client.force_login(people.hr)
    return client


def _upload(hr, capture, name: str, data: bytes | str, **fields) -> tuple[ImportBatch, Path]:
    """Upload through the page; returns the batch once its import is over, and where its file was
    while the import waited for a worker (which must not touch it)."""
    content = data.encode() if isinstance(data, str) else data
    with capture(execute=False) as callbacks:
        hr.post(
            "/imports/",
            {
                "file": SimpleUploadedFile(name, content),
                "kind": "calls",
                "source": "acd",
                "import": "1",
                **fields,
            },
        )
    batch = ImportBatch.objects.order_by("-pk").first()
    path = Path(batch.file.path)
    assert batch.status == ImportBatch.Status.PENDING and path.read_bytes() == content
    # The daily sweep leaves a waiting batch's file alone: its worker (or a later one) reads it.
    services.import_files_sweep()
    assert path.exists() and ImportBatch.objects.get(pk=batch.pk).file.name == batch.file.name
    assert "kept until its import has finished" in hr.get(f"/imports/{batch.pk}/").content.decode()
    for callback in callbacks:
        callback()
    batch.refresh_from_db()
    return batch, path


def _kept(batch: ImportBatch) -> str:
    assert batch.file.name.startswith("imports/kept/"), batch.file.name
    return Path(batch.file.path).read_bytes().decode("utf-8-sig")


@pytest.fixture
def no_files_yet():
    """An imports folder with nothing in it: files other tests left (a preview kept for its day)
    are theirs, and would hide a file this test leaves."""
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "imports", ignore_errors=True)


def test_the_file_is_deleted_once_its_import_is_applied_or_rejected(
    hr, django_capture_on_commit_callbacks, no_files_yet
):
    applied, path = _upload(hr, django_capture_on_commit_callbacks, "oct.csv", GOOD)
    assert applied.status == ImportBatch.Status.APPLIED and Call.objects.count() == 3
    assert applied.file.name == "" and not path.exists()
    assert (
        "was deleted once its import had finished"
        in hr.get(f"/imports/{applied.pk}/").content.decode()
    )
    rejected, path = _upload(
        hr, django_capture_on_commit_callbacks, "bad.csv", GOOD.replace("A1,", "ZZ,", 1)
    )
    assert rejected.status == ImportBatch.Status.REJECTED
    assert rejected.file.name == "" and not path.exists()
    assert not list((Path(settings.MEDIA_ROOT) / "imports").rglob("*.csv"))


@override_settings(IMPORT_FILE_RETENTION_DAYS=30)
def test_a_kept_file_holds_keys_not_numbers_and_goes_when_its_time_is_up(
    hr, django_capture_on_commit_callbacks
):
    batch, path = _upload(hr, django_capture_on_commit_callbacks, "oct.csv", GOOD)
    assert batch.status == ImportBatch.Status.APPLIED and not path.exists()
    kept = _kept(batch)
    assert not any(number in kept for number in NUMBERS)
    lines = kept.splitlines()
    assert lines[0] == GOOD.splitlines()[0]  # the header as it was
    assert lines[1].split(",")[4] == str(customer_key("138 0000 0001"))
    assert lines[1].split(",")[:4] == ["c1", "A1", "general", "inbound"]  # the rest as it was
    page = hr.get(f"/imports/{batch.pk}/").content.decode()
    assert "kept for audit until" in page and "replaced by their keys" in page
    # Rolled back, it is still kept until its time is up; the sweep leaves it until then.
    hr.post(f"/imports/{batch.pk}/rollback/", {"confirm": "yes"})
    assert services.import_files_sweep(now=timezone.now() + dt.timedelta(days=29)) == 1
    assert Path(ImportBatch.objects.get(pk=batch.pk).file.path).exists()
    kept_path = Path(ImportBatch.objects.get(pk=batch.pk).file.path)
    assert services.import_files_sweep(now=timezone.now() + dt.timedelta(days=31)) == 0
    assert ImportBatch.objects.get(pk=batch.pk).file.name == "" and not kept_path.exists()


@override_settings(IMPORT_FILE_RETENTION_DAYS=7)
def test_the_mappings_customer_column_is_the_one_keyed(
    hr, people, django_capture_on_commit_callbacks
):
    mapping = ColumnMapping.objects.get(name="acd-answered-flag")
    text = (
        "call_id;agent;queue;direction;caller;date;time;answered;wait;talk\n"
        "k1;A1;general;inbound;+86 138-0000-0001;2026-10-05;09:00:00;1;12;200\n"
        "k2;A1;general;inbound;;2026-10-05;09:05:00;0;40;0\n"
    )
    batch, _path = _upload(
        hr,
        django_capture_on_commit_callbacks,
        "acd.csv",
        text.encode("gb18030"),
        mapping=mapping.pk,
    )
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    kept = Path(batch.file.path).read_bytes().decode("gb18030")
    stored = Call.objects.get(external_id="k1").customer_key  # the key the import stored, the same
    assert stored == customer_key("8613800000001")
    assert kept.splitlines() == [
        "call_id;agent;queue;direction;caller;date;time;answered;wait;talk",
        f"k1;A1;general;inbound;{stored};2026-10-05;09:00:00;1;12;200",
        "k2;A1;general;inbound;;2026-10-05;09:05:00;0;40;0",
    ]


@override_settings(IMPORT_FILE_RETENTION_DAYS=7)
def test_asterisks_caller_id_column_is_keyed_with_its_number(
    hr, people, django_capture_on_commit_callbacks
):
    """Master.csv repeats the caller's number in its caller id ("Alice" <13800000001>): keyed there too."""
    for extension in ("301", "302", "303"):
        AgentFactory(employee_id=extension)
    data = (Path(__file__).parent / "data" / "cdr" / "asterisk-Master.csv").read_bytes()
    mapping = ColumnMapping.objects.get(name="asterisk-master-csv")
    batch, _path = _upload(
        hr, django_capture_on_commit_callbacks, "Master.csv", data, mapping=mapping.pk
    )
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    kept = _kept(batch)
    assert not any(number in kept for number in NUMBERS)
    first = kept.splitlines()[0].split(",")
    key = str(Call.objects.get(external_id="1759626000.1").customer_key)
    assert first[1] == key and first[4] == f'"""Alice"" <{key}>"' and first[6] == "SIP/302-00000002"
    assert len(kept.splitlines()) == len(data.decode().splitlines())


@override_settings(IMPORT_FILE_RETENTION_DAYS=7)
def test_a_queue_logs_caller_ids_are_keyed_in_either_variant(
    hr, people, django_capture_on_commit_callbacks
):
    AgentFactory(employee_id="1001")
    AgentFactory(employee_id="1002")
    batch, _path = _upload(
        hr, django_capture_on_commit_callbacks, "queue_log", QUEUE_LOG, source="pbx"
    )
    assert batch.status == ImportBatch.Status.APPLIED and batch.queue_log
    kept = _kept(batch)
    assert not any(number in kept for number in (*NUMBERS, "13800000009"))
    enter = [line for line in kept.splitlines() if "|ENTERQUEUE|" in line]
    assert len(enter) == 4 and enter[0].endswith(
        f"|support|NONE|ENTERQUEUE||{customer_key('13800000001')}|1"
    )
    others = [line for line in kept.splitlines() if "|ENTERQUEUE|" not in line]
    assert others == [line for line in QUEUE_LOG.splitlines() if "|ENTERQUEUE|" not in line]

    table = (
        "time,callid,queuename,agent,event,data1,data2,data3,data4,data5\n"
        "2026-10-05 09:00:00,t1,support,NONE,ENTERQUEUE,,13800000002,1,,\n"
        "2026-10-05 09:00:10,t1,support,PJSIP/1001,CONNECT,10,t1.2,3,,\n"
        "2026-10-05 09:03:10,t1,support,PJSIP/1001,COMPLETECALLER,10,180,1,,\n"
    )
    batch, _path = _upload(
        hr, django_capture_on_commit_callbacks, "queue_log.csv", table, source="pbx2"
    )
    assert batch.status == ImportBatch.Status.APPLIED, batch.message
    rows = _kept(batch).splitlines()
    assert (
        rows[1]
        == f"2026-10-05 09:00:00,t1,support,NONE,ENTERQUEUE,,{customer_key('13800000002')},1,,"
    )
    assert rows[2:] == table.splitlines()[2:]


@override_settings(IMPORT_FILE_RETENTION_DAYS=7)
def test_a_workbook_is_kept_as_the_csv_of_its_sheet_with_keys(
    hr, people, django_capture_on_commit_callbacks
):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(
        ["call_id", "agent_id", "direction", "customer_number", "entered_at", "answered_at"]
    )
    sheet.append(["x1", "A1", "inbound", 13800000003, dt.datetime(2026, 10, 5, 9, 0), None])
    data = io.BytesIO()
    book.save(data)
    batch, _path = _upload(hr, django_capture_on_commit_callbacks, "oct.xlsx", data.getvalue())
    assert batch.status == ImportBatch.Status.APPLIED, batch.errors
    assert batch.file.name.endswith(".xlsx.csv")
    assert (
        _kept(batch).splitlines()[1]
        == f"x1,A1,inbound,{customer_key('13800000003')},2026-10-05 09:00:00,"
    )


@override_settings(IMPORT_FILE_RETENTION_DAYS=7)
def test_a_file_that_cannot_be_read_through_is_deleted_not_kept(
    hr, django_capture_on_commit_callbacks
):
    batch, path = _upload(
        hr, django_capture_on_commit_callbacks, "oct.csv", b"\x00\xff\xfe\x81" * 500
    )
    assert batch.status == ImportBatch.Status.REJECTED
    assert batch.file.name == "" and not path.exists()


def test_a_file_left_by_an_older_release_is_swept(people, tmp_path):
    """A final batch that still has its file (an import finished before this release, or a worker that
    died between the import and its file): the daily sweep deletes it, or keys it when files are kept."""
    from django.core.files.base import ContentFile

    from calls.tasks import import_files_sweep

    batch = services.batch_create(kind="calls", filename="old.csv", source="acd", status="applied")
    batch.file.save("old.csv", ContentFile(GOOD.encode()))
    path = Path(batch.file.path)
    with override_settings(IMPORT_FILE_RETENTION_DAYS=7):
        assert services.import_files_sweep() == 1
    batch.refresh_from_db()
    assert not path.exists() and "13800000002" not in _kept(batch)
    kept = Path(batch.file.path)
    assert import_files_sweep.delay().get() == 0  # the beat's task; no retention in the settings
    assert not kept.exists() and ImportBatch.objects.get(pk=batch.pk).file.name == ""
    assert (
        settings.CELERY_BEAT_SCHEDULE["sweep-import-files"]["task"]
        == "calls.tasks.import_files_sweep"
    )


def test_the_error_report_masks_the_customer_column(hr, people, django_capture_on_commit_callbacks):
    """A mapping off by a column reads the customers' numbers as agents: every row is refused as an
    unknown agent, and the report (kept, shown, exported) shows the numbers masked."""
    ColumnMapping.objects.create(
        name="off-by-one", kind="calls", source="acd", columns={"agent_id": "customer_number"}
    )
    mapping = ColumnMapping.objects.get(name="off-by-one")
    batch, _path = _upload(
        hr, django_capture_on_commit_callbacks, "oct.csv", GOOD, mapping=mapping.pk
    )
    assert batch.status == ImportBatch.Status.REJECTED
    assert [(e["line"], e["column"], e["value"]) for e in batch.errors] == [
        (2, "agent_id", "*** **** **01"),
        (3, "agent_id", "*********02"),
        (4, "agent_id", "*********03"),
    ]
    _shown_masked(hr, batch, "*** **** **01")


def test_a_file_without_its_header_line_names_no_number_in_its_refusal(
    hr, django_capture_on_commit_callbacks
):
    """Asterisk's Master.csv uploaded without its mapping: its first row is read as the header, and the
    refusal lists "the file's columns", the caller's number among them, masked."""
    master = (
        '"","13800000001","8100","from-pstn","""Li"" <13800000001>","SIP/trunk-01","SIP/301-02"\n'
    )
    batch, _path = _upload(hr, django_capture_on_commit_callbacks, "Master.csv", master)
    assert batch.status == ImportBatch.Status.REJECTED
    assert "the header lacks the required column(s)" in batch.message
    assert "*********01" in batch.message and '"**" <*********01>' in batch.message  # the name too
    _shown_masked(hr, batch, "*********01")


def _shown_masked(hr, batch: ImportBatch, masked: str) -> None:
    stored = str(ImportBatch.objects.filter(pk=batch.pk).values("errors", "message").get())
    shown = [
        stored,
        hr.get(f"/imports/{batch.pk}/").content.decode(),
        hr.get(f"/api/v1/imports/{batch.pk}/").content.decode(),
        hr.get(f"/imports/{batch.pk}/errors.csv").content.decode("utf-8-sig"),
    ]
    for text in shown:
        assert masked in text
        assert not any(number in text for number in NUMBERS), text


def test_error_reports_kept_before_are_masked_by_the_migration(people):
    from django.apps import apps

    batch = services.batch_create(kind="calls", filename="old.csv", source="acd", status="rejected")
    batch.errors = [
        {"line": 2, "column": "customer_number", "value": "+86 138-0000-0001", "reason": "pattern"},
        {"line": 3, "column": "wait_seconds", "value": "-3", "reason": "negative"},
    ]
    batch.save()
    migration = importlib.import_module("calls.migrations.0008_month_lock_states_keyed_errors")
    migration.mask_errors(apps, None)
    batch.refresh_from_db()
    assert [e["value"] for e in batch.errors] == ["+** ***-****-**01", "-3"]
    assert customer_mask("") == "" and customer_mask("anonymous") == "*********"
