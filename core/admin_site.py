"""The admin site: the councillor's account is a target.

- Sign-in goes through django-axes (too many failures lock the username from that address for
  a while; `AXES_*` in settings) and, for staff who have set it up, a second step: a six-digit
  code from an authenticator app (django-otp's TOTP devices). With `OTP_REQUIRED_FOR_SUPERUSERS`
  (on in production) a superuser cannot sign in, or use a session, without one.
- `manage.py enrol_totp <username>` sets a device up (see README, "Running it in production").

Installed in place of `django.contrib.admin` (`core.admin_apps.BlogAdminConfig`), so every
`@admin.register` lands on this site.
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core import validators
from django.template.response import TemplateResponse
from django_otp import devices_for_user, user_has_device
from django_otp.forms import OTPAuthenticationFormMixin


def needs_second_factor(user):
    """Whether `user` must give a one-time code to use the admin: they set a device up, or
    they are a superuser and the site requires it of superusers."""
    if not user.is_authenticated:
        return False
    if user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSERS:
        return True
    return user_has_device(user, confirmed=True)


class StaffLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """The admin's sign-in: username and password, then the code when the account needs one."""

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=8,
        help_text="Only if you have set up two-step sign-in: the six digits it shows now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )
    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": "Enter the six-digit code from your authenticator app.",
        "invalid_token": "That code is not right, or has expired. Enter the code your "
        "authenticator app shows now.",
        "n_failed_attempts": "Codes are paused after %(failure_count)d wrong ones. Wait a "
        "little, then enter the code your authenticator app shows.",
        "verification_not_allowed": "Codes cannot be checked just now. Try again later.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django sets the username's max_length after the field is built, so nothing enforces
        # it: an over-long name would reach django-axes' log of failures (a 255-character
        # column) and answer 500 on PostgreSQL. Refuse it as a form error first.
        username = self.fields["username"]
        username.validators.append(validators.MaxLengthValidator(username.max_length or 150))

    def _chosen_device(self, user):
        """The device picked, or else the account's own (staff have one authenticator app)."""
        return super()._chosen_device(user) or next(
            iter(devices_for_user(user, confirmed=True)), None
        )

    def clean(self):
        cleaned = AdminAuthenticationForm.clean(self)  # the password, through axes
        user = self.get_user()
        if user is not None and needs_second_factor(user):
            if not user_has_device(user, confirmed=True):
                raise forms.ValidationError(
                    "This account must use two-step sign-in, and has not set it up yet. Ask "
                    "whoever runs the site to run `manage.py enrol_totp` for it.",
                    code="otp_not_enrolled",
                )
            self.clean_otp(user)
        return cleaned


def locked_out(request, credentials, *args, **kwargs):
    """`AXES_LOCKOUT_CALLABLE`: the page shown once sign-in is paused, in the site's design."""
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    response = TemplateResponse(request, "admin/locked_out.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response.render()


class BlogAdminSite(admin.AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/blog_login.html"

    def has_permission(self, request):
        """Staff, and verified by a code when the account needs one (a session opened
        before two-step sign-in was required does not carry over)."""
        if not super().has_permission(request):
            return False
        user = request.user
        return not needs_second_factor(user) or user.is_verified()
