"""The councillor's account is a target (issue 9): brute force is paused (django-axes), staff
may add a second step (TOTP codes, django-otp) and superusers must in production, and a staff
session ends after a spell of inactivity. Everything through the admin's real sign-in form."""

import time

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.middleware import LAST_SEEN_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
LOGIN = "/admin/login/?next=/admin/"


def sign_in(client, username, password=PASSWORD, ip="192.0.2.10", **fields):
    data = {"username": username, "password": password, "next": "/admin/", **fields}
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


def code_for(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def councillor():
    return UserFactory(username="robertrams", is_staff=True, is_superuser=True)


# --- Brute force ---------------------------------------------------------------------------


def test_five_wrong_passwords_pause_sign_in_with_a_page_in_the_sites_design(
    client, councillor, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "robertrams", "guess")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    paused = sign_in(client, "robertrams", "guess")
    assert paused.status_code == 429
    page = paused.content.decode()
    assert "<h1>Sign-in paused</h1>" in page
    assert "5 unsuccessful attempts" in page and "for 15 minutes" in page
    assert 'class="site-header"' in page
    assert paused["Retry-After"] == "900"
    # Even the right password is refused from there now…
    assert sign_in(client, "robertrams").status_code == 429
    assert "_auth_user_id" not in client.session
    # …but the councillor, elsewhere, is not locked out of their own account.
    elsewhere = Client()
    assert sign_in(elsewhere, "robertrams", ip="198.51.100.20").status_code == 302


def test_signing_in_resets_the_count_of_failures(client, councillor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "robertrams", "guess")
    assert sign_in(client, "robertrams").status_code == 302
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


# --- Two-step sign-in ----------------------------------------------------------------------


@pytest.fixture
def moderator_with_a_device():
    user = UserFactory(username="mod", is_staff=True)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def test_staff_with_a_device_must_give_its_code(client, moderator_with_a_device):
    user, device = moderator_with_a_device
    response = sign_in(client, "mod")
    assert response.status_code == 200
    assert "Enter the six-digit code from your authenticator app." in response.content.decode()
    assert "_auth_user_id" not in client.session

    wrong = sign_in(client, "mod", otp_token="000000" if code_for(device) != "000000" else "1")
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()

    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above slows the next try down
    device.throttling_failure_timestamp = None
    device.save()
    assert sign_in(client, "mod", otp_token=code_for(device)).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_without_a_device_sign_in_with_a_password(client):
    UserFactory(username="helper", is_staff=True)
    assert sign_in(client, "helper").status_code == 302


def test_the_sign_in_form_has_a_labelled_code_field(client):
    page = client.get(LOGIN).content.decode()
    assert '<label for="id_otp_token">Code from your authenticator app:</label>' in page
    assert 'autocomplete="one-time-code"' in page
    assert 'aria-describedby="id_otp_token_helptext"' in page


def test_superusers_must_use_two_step_sign_in_when_required(client, councillor, settings):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    response = sign_in(client, "robertrams")
    assert response.status_code == 200
    assert "must use two-step sign-in, and has not set it up yet" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_superuser_session_without_a_code_does_not_open_the_admin_when_required(
    client, councillor, settings
):
    """A session from before two-step sign-in was required does not carry over."""
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    client.force_login(councillor)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_enrol_totp_sets_up_a_device_whose_codes_sign_in(client, councillor, settings, capsys):
    settings.OTP_REQUIRED_FOR_SUPERUSERS = True
    call_command("enrol_totp", "robertrams")
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out
    device = TOTPDevice.objects.get(user=councillor)
    assert device.confirmed
    assert sign_in(client, "robertrams", otp_token=code_for(device)).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    call_command("enrol_totp", "robertrams", "--remove")
    assert not TOTPDevice.objects.filter(user=councillor).exists()


def test_enrol_totp_refuses_accounts_that_are_not_staff():
    from django.core.management.base import CommandError

    UserFactory(username="resident")
    with pytest.raises(CommandError, match="not staff"):
        call_command("enrol_totp", "resident")
    with pytest.raises(CommandError, match="no account"):
        call_command("enrol_totp", "nobody")


# --- Inactivity ----------------------------------------------------------------------------


def idle_for(client, seconds):
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_a_staff_session_ends_after_the_idle_timeout(client, councillor, settings):
    client.force_login(councillor)
    assert client.get(reverse("admin:index")).status_code == 200
    idle_for(client, settings.STAFF_SESSION_IDLE_TIMEOUT - 60)
    assert client.get(reverse("admin:index")).status_code == 200  # still within it

    idle_for(client, settings.STAFF_SESSION_IDLE_TIMEOUT + 1)
    response = client.get(reverse("admin:posts_post_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without using the site." in page


def test_a_residents_account_keeps_its_session(client):
    resident = UserFactory(username="resident")
    client.force_login(resident)
    idle_for(client, 10 * 3600)
    client.get("/")
    assert client.session.get("_auth_user_id") == str(resident.pk)


def test_an_over_long_username_is_a_form_error_before_any_sign_in_attempt_is_logged(client):
    """Regression: 5,000 characters reached django-axes' 255-character column (a 500 on
    PostgreSQL)."""
    response = sign_in(client, "r" * 5000)
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()
