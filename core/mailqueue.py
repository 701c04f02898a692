"""Email that cannot be lost or slow a page down: a durable queue in the database.

Every email the site sends is stored by `QueueBackend` (django-mailer's `Message` table) and
delivered by the mail worker (`manage.py mail_worker`, its own process) through
`MAILER_EMAIL_BACKEND` (SMTP in production). A mail server that is down or refuses a message
leaves it in the queue, deferred; the worker tries it again after a delay that doubles after
each failed round (`MAIL_RETRY_SECONDS`, up to `MAIL_RETRY_MAX_SECONDS`) and is reset once a
round delivers everything. Nothing is dropped: a message leaves the table only when the
mail server has accepted it. Several workers may run on PostgreSQL (each message is taken
with SELECT … FOR UPDATE NOWAIT); on SQLite run one.
"""

import logging
import signal
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from mailer import engine
from mailer.backend import DbBackend
from mailer.models import Message

log = logging.getLogger(__name__)


class QueueBackend(DbBackend):
    """Django's email backend for the site: queue each message in the database.

    The messages are rows written in the caller's transaction: they exist exactly when what
    made them due was committed. With `MAIL_QUEUE_SEND_AT_ONCE` (the test settings), the queue
    is delivered once that transaction commits, so tests read `mail.outbox` as before; the
    mail worker's own tests turn it off.
    """

    def send_messages(self, email_messages):
        queued = Message.objects.bulk_create([Message(email=email) for email in email_messages])
        if getattr(settings, "MAIL_QUEUE_SEND_AT_ONCE", False):
            ids = [message.pk for message in queued]
            transaction.on_commit(lambda: engine.send_all(Message.objects.filter(pk__in=ids)))
        return len(queued)


def retry_delay(failures):
    """Seconds to wait before retrying deferred messages after `failures` failed rounds."""
    base = settings.MAIL_RETRY_SECONDS
    return min(base * 2 ** max(0, failures - 1), settings.MAIL_RETRY_MAX_SECONDS)


class MailWorker:
    """Delivers the queue: `run_once()` is one round, `run()` rounds until told to stop."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.failures = 0
        self.retry_at = clock()
        self.stopping = False

    def run_once(self):
        """Send what is queued, retrying deferred messages when their delay is up.
        Returns how many messages remain deferred."""
        now = self.clock()
        retried = False
        if now >= self.retry_at and Message.objects.deferred().exists():
            Message.objects.retry_deferred()
            retried = True
        engine.send_all()
        deferred = Message.objects.deferred().count()
        if not deferred:
            self.failures = 0
        elif retried or self.failures == 0:
            self.failures += 1
            self.retry_at = now + retry_delay(self.failures)
            log.warning("%d email(s) deferred; retrying in %.0f s", deferred, self.retry_at - now)
        return deferred

    def run(self, poll=None):
        """Rounds every `poll` seconds until SIGTERM or SIGINT (the current round ends first)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        self._loop(settings.MAIL_WORKER_POLL_SECONDS if poll is None else poll)

    def _loop(self, poll):
        while not self.stopping:
            try:
                close_old_connections()
                self.run_once()
            except DatabaseError:
                # The database is restarting: the queue is safe in it; try again shortly.
                log.exception("Mail worker could not reach the database")
            self._sleep(poll)
        close_old_connections()

    def stop(self, *args):
        self.stopping = True

    def _sleep(self, seconds):
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.2, seconds))
