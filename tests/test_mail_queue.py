"""The email queue: a page never waits for the mail server, and a mail server that is down
delays email and loses none (a real SMTP server on loopback, aiosmtpd)."""

import io
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from mailer.models import Message

from comments import services
from comments.models import Comment, HouseRule
from core.mailqueue import MailWorker, retry_delay
from tests.factories import PostFactory, comment_form_data


class Inbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """A real SMTP server on a loopback port, stopped and started again at will (an aiosmtpd
    controller runs once, so each start makes a new one on the same port)."""

    def __init__(self, port):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def queued(settings):
    """The queue as in production: messages wait for the worker."""
    settings.MAIL_QUEUE_SEND_AT_ONCE = False
    return settings


@pytest.fixture
def smtp_sink(queued):
    """An SMTP server on loopback that the test starts and stops (it starts stopped);
    the worker delivers to it."""
    sink = SmtpSink(free_port())
    queued.MAILER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    queued.EMAIL_HOST, queued.EMAIL_PORT, queued.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
    queued.EMAIL_HOST_USER = queued.EMAIL_HOST_PASSWORD = ""
    queued.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


def post_a_comment(client, post, n=1):
    data = comment_form_data(post, email=f"resident{n}@example.net", comment=f"Point {n}.")
    return client.post(reverse("comments:post", args=[post.pk]), data, REMOTE_ADDR=f"192.0.2.{n}")


def test_a_comment_queues_its_confirmation_and_the_worker_delivers_it(
    client, db, comment_settings, queued, django_capture_on_commit_callbacks
):
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_a_comment(client, post).status_code == 302
    assert mail.outbox == []  # the request did not wait for a mail server
    assert Message.objects.count() == 1
    call_command("mail_worker", "--once", stdout=io.StringIO())
    assert [m.to for m in mail.outbox] == [["resident1@example.net"]]
    assert "confirm" in mail.outbox[0].subject.lower()
    assert Message.objects.count() == 0


def test_an_email_is_queued_in_the_transaction_that_makes_it_due(
    client, db, comment_settings, queued
):
    """A transactional outbox: the email is a row of the comment's own transaction (no
    on-commit step, which a database failure just after the commit would skip), and a
    decision that rolls back leaves no email behind."""
    post = PostFactory()
    post_a_comment(client, post)  # no on-commit callback runs in this test
    assert Message.objects.count() == 1
    comment = Comment.objects.get()
    services.confirm(comment)
    queued_before = Message.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.remove(comment, HouseRule.objects.get(number=1), by=None)  # tells the commenter
        assert Message.objects.count() == queued_before + 1
        raise RuntimeError("the moderator's request fails")
    assert Message.objects.count() == queued_before


def test_retries_wait_longer_after_each_failed_round(settings):
    settings.MAIL_RETRY_SECONDS, settings.MAIL_RETRY_MAX_SECONDS = 10, 600
    assert [retry_delay(n) for n in (1, 2, 3, 4, 7, 20)] == [10, 20, 40, 80, 600, 600]


def test_a_mail_server_that_is_down_delays_email_and_loses_none(
    client, db, comment_settings, smtp_sink, django_capture_on_commit_callbacks
):
    # The mail server is down (nothing listens on its port).
    posts = PostFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        for n, post in enumerate(posts, start=1):
            assert post_a_comment(client, post, n).status_code == 302
    assert Comment.objects.count() == 3  # residents were answered at once

    now = [1000.0]
    worker = MailWorker(clock=lambda: now[0])
    assert worker.run_once() >= 1  # the server refuses the connection: deferred, kept
    while Message.objects.non_deferred().exists():  # one failure ends a round
        worker.run_once()
    assert Message.objects.deferred().count() == 3
    first_delay = worker.retry_at - now[0]
    now[0] += 1
    worker.run_once()  # too early to retry
    assert Message.objects.deferred().count() == 3
    now[0] = worker.retry_at
    worker.run_once()  # retried, still down: it waits longer
    assert worker.retry_at - now[0] == 2 * first_delay

    smtp_sink.start()  # the server is back
    now[0] = worker.retry_at
    assert worker.run_once() == 0
    assert Message.objects.count() == 0
    worker.run_once()
    delivered = sorted(rcpt for m in smtp_sink.inbox.messages for rcpt in m.rcpt_tos)
    assert delivered == [f"resident{n}@example.net" for n in (1, 2, 3)]  # each once


def test_the_worker_process_delivers_until_told_to_stop(
    comment_settings, smtp_sink, transactional_db
):
    """The loop `make run` and production start: it picks up mail as it is queued."""
    comment_settings.MAIL_RETRY_SECONDS = 0.2
    smtp_sink.start()
    worker = MailWorker()
    thread = threading.Thread(target=worker._loop, args=(0.1,))
    thread.start()
    try:
        mail.EmailMessage("Hello", "Body", to=["a@example.net"]).send()
        deadline = time.monotonic() + 10
        while not smtp_sink.inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(5)
    assert not thread.is_alive()
    assert [m.rcpt_tos for m in smtp_sink.inbox.messages] == [["a@example.net"]]
