"""The moderators' daily digest: one email when anything has waited more than 24 hours.
Run it once a day from cron (see README). It sends at most one digest in 24 hours (less a
ten-minute allowance for cron's drift), however often it runs: the time it last sent is
kept on the discussion settings."""

from django.core.management.base import BaseCommand

from comments import moderation_services


class Command(BaseCommand):
    help = "Email moderators a digest when a queue item has waited more than 24 hours."

    def handle(self, *args, **options):
        if moderation_services.digest() is None:
            self.stdout.write("Nothing has waited 24 hours: no digest.")
        elif moderation_services.send_digest():
            self.stdout.write("Digest sent.")
        else:
            self.stdout.write(
                "No digest: one was already sent in the last 24 hours, or it could not be sent."
            )
