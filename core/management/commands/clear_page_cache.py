"""Start a new page-cache generation: every cached page is made afresh on its next request.

Writes through the site do this by themselves. Run it after a deploy (new templates or code)
or after changing the database by hand (a restored backup, SQL in a shell).
"""

from django.core.management.base import BaseCommand, CommandError

from core import pagecache


class Command(BaseCommand):
    help = "Drop every cached page (start a new page-cache generation)."

    def handle(self, *args, **options):
        if pagecache.new_generation() is None:
            raise CommandError("The page cache cannot be reached; nothing was changed.")
        self.stdout.write(self.style.SUCCESS("Cached pages dropped: each is made afresh."))
