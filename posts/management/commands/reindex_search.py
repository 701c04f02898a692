"""Rebuild every post's full-text search document (PostgreSQL), e.g. after importing posts."""

from django.core.management.base import BaseCommand

from posts.models import Post
from posts.search import index_posts, is_postgresql


class Command(BaseCommand):
    help = "Rebuild the full-text search documents of all posts (PostgreSQL only)."

    def handle(self, *args, **options):
        if not is_postgresql():
            self.stdout.write("SQLite searches the text directly: nothing to rebuild.")
            return
        ids = list(Post.objects.values_list("pk", flat=True))
        for start in range(0, len(ids), 500):
            index_posts(ids[start : start + 500])
        self.stdout.write(self.style.SUCCESS(f"Reindexed {len(ids)} posts."))
