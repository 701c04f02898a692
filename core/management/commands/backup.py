"""manage.py backup <folder>: the database and the uploaded files, with a manifest."""

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or SQLite's online backup) and MEDIA_ROOT into a new "
        "folder, with a manifest of every file's SHA-256. Restore with restore_backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a new (or empty) folder for this backup")

    def handle(self, folder, **options):
        try:
            manifest = backup(folder)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Backed up the {manifest['engine']} database "
            f"({manifest['database']['size']:,} bytes) and {len(manifest['media'])} "
            f"uploaded files to {folder}."
        )
