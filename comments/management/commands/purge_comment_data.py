"""Apply the retention periods in the privacy notice (run daily, e.g. from cron):

- IP addresses are blanked on comments older than COMMENT_IP_RETENTION_DAYS (90);
- comments whose author never confirmed their email address are deleted once the
  confirmation link has expired.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from comments.models import Comment


class Command(BaseCommand):
    help = "Blank old commenter IP addresses and delete expired unconfirmed comments."

    def handle(self, *args, **options):
        now = timezone.now()
        ip_cutoff = now - datetime.timedelta(days=settings.COMMENT_IP_RETENTION_DAYS)
        blanked = Comment.objects.filter(
            submit_date__lt=ip_cutoff, ip_address__isnull=False
        ).update(ip_address=None)
        expired = now - datetime.timedelta(seconds=settings.COMMENT_CONFIRMATION_MAX_AGE)
        stale = Comment.objects.filter(confirmed=False, submit_date__lt=expired)
        deleted = 0
        for comment in stale:  # one by one: deleting keeps the threads' bookkeeping simple
            comment.delete()
            deleted += 1
        self.stdout.write(
            f"Blanked {blanked} IP address(es); deleted {deleted} unconfirmed comment(s)."
        )
