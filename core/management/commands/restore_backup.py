"""manage.py restore_backup <folder>: put a backup back into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database, which "
        "must be empty (create a new one), and into an empty MEDIA_ROOT; checks every file."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")

    def handle(self, folder, **options):
        try:
            manifest = restore(folder)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Restored the database and {len(manifest['media'])} files (each checked against "
            f"its SHA-256) from the backup made at {manifest['made_at']}."
        )
