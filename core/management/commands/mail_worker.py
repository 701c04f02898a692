from django.core.management.base import BaseCommand

from core.mailqueue import MailWorker


class Command(BaseCommand):
    help = (
        "Deliver the email queue, retrying deferred messages with a growing delay, until "
        "stopped (SIGTERM or Ctrl-C). Run it as its own process beside the web server."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Deliver one round (retrying deferred mail) and exit.",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds between rounds (MAIL_WORKER_POLL_SECONDS).",
        )

    def handle(self, *args, once=False, poll=None, **options):
        worker = MailWorker()
        if once:
            deferred = worker.run_once()
            self.stdout.write(f"{deferred} message(s) deferred.")
            return
        self.stdout.write("Mail worker started; stop it with Ctrl-C.")
        worker.run(poll=poll)
