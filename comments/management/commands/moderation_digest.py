"""The moderators' daily digest: one email when anything has waited more than 24 hours.
Run it once a day from cron (see README)."""

from django.core.management.base import BaseCommand

from comments import moderation_services


class Command(BaseCommand):
    help = "Email moderators a digest when a queue item has waited more than 24 hours."

    def handle(self, *args, **options):
        sent = moderation_services.send_digest()
        self.stdout.write("Digest sent." if sent else "Nothing has waited 24 hours: no digest.")
