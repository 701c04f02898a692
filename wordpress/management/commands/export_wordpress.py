"""manage.py export_wordpress [OUTPUT.xml]: the whole blog as a WordPress export (WXR 1.2)."""

from django.core.management.base import BaseCommand

from wordpress import exporter


class Command(BaseCommand):
    help = "Write every post, page, category, tag, author, attachment and comment as WXR 1.2."

    def add_arguments(self, parser):
        parser.add_argument("output", nargs="?", help="file to write (default: standard output)")

    def handle(self, *args, **options):
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as out:
                exporter.write(out)
            self.stderr.write(f"Wrote {options['output']}")
        else:
            exporter.write(self.stdout._out)  # unwrapped: no line endings added
