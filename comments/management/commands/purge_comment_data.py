"""Apply the retention periods in the privacy notice (run daily, e.g. from cron):

- IP addresses are blanked on comments older than COMMENT_IP_RETENTION_DAYS (90);
- comments whose author never confirmed their email address are deleted once the
  confirmation link has expired;
- links to "Your comments and your data" are deleted once they and their session are over;
- the address (and notes) on a completed data request, a reporter's email and words, a
  review's reasons and a closed defamation complaint's names and text are deleted after the
  periods their settings set (`comments/data_rights.py`, `purge`).
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from comments import data_rights
from comments.models import Comment


class Command(BaseCommand):
    help = "Delete commenters' data that the privacy notice says is kept no longer."

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
        counts = data_rights.purge(now)
        self.stdout.write(
            f"Blanked {blanked} IP address(es); deleted {deleted} unconfirmed comment(s); "
            f"deleted {counts['links']} data link(s); cleared {counts['requests']} data "
            f"request(s), {counts['reports']} report(s), {counts['reviews']} review(s) and "
            f"{counts['complaints']} complaint(s)."
        )
