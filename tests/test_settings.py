"""Configuration a deployer relies on: production values pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7Qm-very-long-random-production-secret-0123456789-abcdefghijkl",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECURE": "true",
    "DJANGO_ALLOWED_HOSTS": "blog.example.org",
    "DJANGO_EMAIL_BACKEND": "smtp",
}


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_development_defaults():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr or "security.W004" in result.stdout  # no HSTS


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("backend", ["console", "file", "smtp"])
def test_email_backend_is_chosen_by_environment(backend):
    """The backend the mail worker delivers the queue through."""
    code = "from django.conf import settings; print(settings.MAILER_EMAIL_BACKEND)"
    result = run_manage("shell", "-c", code, DJANGO_EMAIL_BACKEND=backend)
    assert result.returncode == 0, result.stderr
    assert f".{'filebased' if backend == 'file' else backend}." in result.stdout


def test_an_unknown_email_backend_is_a_clear_error():
    result = run_manage("check", DJANGO_EMAIL_BACKEND="carrier-pigeon")
    assert result.returncode != 0
    assert "DJANGO_EMAIL_BACKEND must be one of" in result.stderr


def test_dates_are_read_and_written_the_british_way():
    """One language and no translation machinery (USE_I18N is off), yet en-GB formats: in the
    admin's date fields 07/05/2026 is 7 May, and dates read day first."""
    import datetime

    from django import forms
    from django.utils import formats, translation

    may = datetime.date(2026, 5, 7)
    assert translation.get_language() == "en-gb"
    assert forms.DateField().clean("07/05/2026") == may
    assert formats.date_format(may, "SHORT_DATE_FORMAT") == "07/05/2026"
    assert formats.date_format(may) == "7 May 2026"
