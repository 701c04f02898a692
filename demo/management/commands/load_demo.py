"""Load the demo: posts first, then their discussion (see `posts.demo` and `comments.demo`)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from comments import demo as comments_demo
from posts import demo as posts_demo


class Command(BaseCommand):
    help = (
        "Load the demo councillor, the seed post and about a dozen more posts, with their "
        "discussion and a moderator (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain",
            help="Record this host[:port] as the site's address (used in feeds and links).",
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            if options["domain"]:
                posts_demo.set_domain(options["domain"])
            done = [posts_demo.load(), comments_demo.load()]
        self.stdout.write(self.style.SUCCESS(" ".join(done)))
        accounts = "".join(
            f"  {role + ':':<14} {username} / {posts_demo.DEMO_PASSWORD}\n"
            for role, username in [*posts_demo.ACCOUNTS, *comments_demo.ACCOUNTS]
        )
        self.stdout.write(f"Demo accounts (development only):\n{accounts}Sign in at /admin/.")
