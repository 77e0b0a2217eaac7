"""Settings: system checks, check --deploy under production values, and loud failures on bad values."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from config.env import env_bool, env_database, env_int, env_list, env_timezone

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.CELERY_TASK_ALWAYS_EAGER, "
    "s.TIME_ZONE, s.USE_TZ, s.LANGUAGE_CODE)"
)


def _run(args, **env):
    """Run a Python command in a clean environment: only what the test passes, plus PATH."""
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_system_checks_pass():
    call_command("check", fail_level="WARNING")


def test_check_deploy_is_clean_with_production_values():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="incentives.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "sqlite:////tmp/deploy-check.sqlite3"),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_embedded_default_is_sqlite_in_the_project_folder_and_tasks_in_process():
    result = _run(["-c", PRINT_SETTINGS], DEBUG="true")
    assert result.returncode == 0, result.stderr
    engine, name, eager, tz, use_tz, language = result.stdout.split()
    assert engine == "django.db.backends.sqlite3" and name == str(ROOT / "db.sqlite3")
    assert (eager, tz, use_tz, language) == ("True", "Asia/Shanghai", "True", "zh-hans")


def test_a_broker_url_switches_to_real_workers():
    result = _run(
        ["-c", PRINT_SETTINGS],
        DEBUG="true",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL="postgres://u@db.example:5432/prod",
    )
    assert result.returncode == 0, result.stderr
    engine, name, eager, *_ = result.stdout.split()
    assert (engine, name, eager) == ("django.db.backends.postgresql", "prod", "False")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SECRET_KEY is required unless DEBUG=true"),
        ({"DEBUG": "ture"}, "DEBUG='ture' is not a boolean"),
        (
            {"DEBUG": "true", "TIME_ZONE": "Asia/Shangai"},
            "TIME_ZONE='Asia/Shangai' is not a known time zone",
        ),
        (
            {"DEBUG": "true", "DATABASE_URL": "mysql://x@y/z"},
            "this product runs on PostgreSQL or SQLite",
        ),
        (
            {"DEBUG": "true", "DB_CONN_MAX_AGE": "sixty"},
            "DB_CONN_MAX_AGE='sixty' is not a whole number",
        ),
        ({"DEBUG": "true", "LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE='fr' is not one of"),
    ],
)
def test_a_bad_or_missing_value_stops_start_up_and_names_the_variable(env, named):
    result = _run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert named in result.stderr


def test_typed_helpers():
    assert env_bool("X", default=False, environ_={"X": "Yes"}) is True
    assert env_bool("X", default=True, environ_={}) is True
    with pytest.raises(ImproperlyConfigured, match="X='2'"):
        env_bool("X", default=False, environ_={"X": "2"})
    assert env_int("N", default=1, environ_={"N": " 7 "}) == 7
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("N", default=1, minimum=0, environ_={"N": "-1"})
    assert env_list("L", default=[], environ_={"L": "a.example, b.example"}) == [
        "a.example",
        "b.example",
    ]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("L", default=[], environ_={"L": "a.example,,b"})
    assert env_timezone("TZ", default="UTC", environ_={"TZ": "Europe/Berlin"}) == "Europe/Berlin"
    assert env_database("D", default="sqlite:////tmp/x.db", environ_={})["NAME"] == "/tmp/x.db"
