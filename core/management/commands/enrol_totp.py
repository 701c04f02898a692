"""Set up two-step sign-in (a TOTP authenticator app) for a staff account."""

import base64

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Set up two-step sign-in for a staff account: prints the key to type (or the otpauth:// "
        "address to turn into a QR code) in an authenticator app. Replaces any earlier device."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--remove", action="store_true", help="remove the account's devices instead"
        )

    def handle(self, username, remove=False, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no account called {username!r}.") from None
        if not user.is_staff:
            raise CommandError(f"{username!r} is not staff: only staff sign in to the admin.")
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        if remove:
            self.stdout.write(f"Removed {removed} device(s): {username} signs in with a password.")
            return
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        key = device.bin_key
        secret = base64.b32encode(key).decode().rstrip("=")
        self.stdout.write(
            f"Two-step sign-in is set up for {username}.\n"
            f"In the authenticator app, add an account with this key (time-based, 6 digits):\n"
            f"  {' '.join(secret[i : i + 4] for i in range(0, len(secret), 4))}\n"
            f"or make a QR code of this address:\n  {device.config_url}\n"
            "From now on the admin asks for the code the app shows. Keep the key secret."
        )
