"""manage.py import_wordpress EXPORT.xml [--media-dir DIR] [--dry-run] [--author-map OLD=NEW …]"""

import sys

from django.core.management.base import BaseCommand, CommandError

from wordpress.importer import ImportRefused, import_export


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR 1.0-1.2): authors, categories, tags, posts, pages, "
        "media and threaded comments, in one transaction. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", help="the .xml file from WordPress's Tools > Export")
        parser.add_argument(
            "--media-dir", help="a copy of the blog's wp-content/uploads folder (no downloads)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print the report and write nothing"
        )
        parser.add_argument(
            "--author-map",
            nargs="+",
            default=[],
            metavar="LOGIN=USERNAME",
            help="post a WordPress author's posts as an existing account",
        )
        parser.add_argument(
            "--time-zone",
            help="the WordPress blog's time zone, for dates without a GMT copy "
            "(default: this site's TIME_ZONE)",
        )

    def handle(self, *args, **options):
        author_map = {}
        for pair in options["author_map"]:
            login, sep, username = pair.partition("=")
            if not sep or not login or not username:
                raise CommandError(f"--author-map takes LOGIN=USERNAME, not {pair!r}.")
            author_map[login] = username
        try:
            stream = open(options["export"], "rb")  # noqa: SIM115 (closed below)
        except OSError as error:
            raise CommandError(f"Cannot read {options['export']}: {error.strerror}.") from None
        progress = _Progress(stream, self.stderr) if sys.stderr.isatty() else None
        try:
            report = import_export(
                stream,
                media_dir=options["media_dir"],
                author_map=author_map,
                dry_run=options["dry_run"],
                time_zone=options["time_zone"],
                progress=progress,
            )
        except ImportRefused as error:
            raise CommandError(f"Nothing was imported: {error}") from None
        finally:
            stream.close()
            if progress:
                progress.done()
        self.stdout.write(str(report))


class _Progress:
    """A one-line progress bar on stderr, by bytes of the file read."""

    def __init__(self, stream, out):
        import os

        self.total = max(1, os.fstat(stream.fileno()).st_size)
        self.out = out
        self.shown = -1

    def __call__(self, read_bytes):
        percent = min(100, read_bytes * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4)
            self.out.write(f"\rImporting [{bar:<25}] {percent:3d}%", ending="")
            self.out.flush()

    def done(self):
        self.out.write("")
