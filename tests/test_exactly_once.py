"""Exactly once: a double click, or the same POST sent several times at once, stores one
comment (one like, report, review, complaint), enforced by the database; every sender lands
on the same result. And an accepted comment POST costs the same however many comments the
post already has."""

import http.client
import threading
from urllib.parse import urlencode, urlsplit

import pytest
from django.core import mail, signing
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comments import services
from comments.models import (
    Comment,
    DefamationComplaint,
    HouseRule,
    PostLike,
    Report,
    Review,
)
from comments.views import VISITOR_COOKIE
from tests.factories import CommentFactory, PostFactory, UserFactory, comment_form_data

SENDERS = 8  # requests racing each other


@pytest.fixture
def on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL (SQLite serialises every write)")


@pytest.fixture
def rule(db):
    """House rule 1 (a live server's test flushes the rows the migrations made)."""
    return HouseRule.objects.get_or_create(number=1, defaults={"title": "Be civil"})[0]


@pytest.fixture
def open_limits(comment_settings):
    """Rate limits out of the way: the racing requests all come from one address."""
    comment_settings.COMMENTS_RATE_PER_MINUTE = 1000
    return comment_settings


def race(live_server, path, data, headers=None, senders=SENDERS):
    """POST `data` to `path` from `senders` threads at the same moment, each with its own
    connection (to the server, and so to the database); their (status, Location)s."""
    server = urlsplit(live_server.url)
    body = urlencode(data, doseq=True)
    barrier = threading.Barrier(senders)
    answers = [None] * senders

    def send(i):
        conn = http.client.HTTPConnection(server.hostname, server.port, timeout=30)
        barrier.wait()
        conn.request(
            "POST",
            path,
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": live_server.url,
                **(headers or {}),
            },
        )
        response = conn.getresponse()
        response.read()
        answers[i] = (response.status, response.getheader("Location"))
        conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


# Comments


def test_the_database_refuses_a_second_copy_of_a_comment(db):
    post = PostFactory()
    fields = {"user_name": "Jane", "user_email": "jane@example.net", "comment": "Same words."}
    first = Comment.objects.build_for(post, **fields)
    first.fingerprint = first.same_comment_key()
    first.save()
    copy = Comment.objects.build_for(post, **{**fields, "user_email": "JANE@example.net"})
    copy.fingerprint = copy.same_comment_key()
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_a_removed_comment_does_not_stop_its_author_posting_the_words_again(
    client, db, open_limits
):
    post = PostFactory()
    data = comment_form_data(post)
    client.post(reverse("comments:post", args=[post.pk]), data)
    first = Comment.objects.get()
    services.remove(first, HouseRule.objects.get(number=1), by=None)
    open_limits.COMMENTS_FLOOD_SECONDS = 0
    client.post(reverse("comments:post", args=[post.pk]), comment_form_data(post))
    assert Comment.objects.count() == 2


def test_a_comment_sent_by_many_requests_at_once_is_stored_once(
    on_postgresql, live_server, open_limits
):
    post = PostFactory()
    answers = race(live_server, reverse("comments:post", args=[post.pk]), comment_form_data(post))
    comment = Comment.objects.get()
    # Every sender lands on the one comment, as after a single click.
    assert {status for status, _ in answers} == {302}
    assert {location for _, location in answers} == {
        f"{post.get_absolute_url()}?posted=1#comment-{comment.pk}"
    }
    assert comment.events.filter(action="posted").count() == 1
    confirmations = [m for m in mail.outbox if "confirm" in m.subject.lower()]
    assert len(confirmations) == 1


def test_a_reply_sent_by_many_requests_at_once_is_stored_once(
    on_postgresql, live_server, open_limits
):
    parent = CommentFactory()
    post = parent.content_object
    data = comment_form_data(post, reply_to=parent.pk)
    answers = race(live_server, reverse("comments:post", args=[post.pk]), data)
    reply = Comment.objects.exclude(pk=parent.pk).get()
    assert {status for status, _ in answers} == {302}
    assert reply.parent_id == parent.pk and reply.level == 1
    parent.refresh_from_db()
    assert parent.nested_count == 1  # the thread's bookkeeping counted it once


# Likes, reports, reviews, complaints


def test_a_like_sent_by_many_requests_at_once_counts_once(on_postgresql, live_server, settings):
    post = PostFactory()
    visitor = "v" * 32
    cookie = signing.get_cookie_signer(salt=VISITOR_COOKIE + VISITOR_COOKIE).sign(visitor)
    answers = race(
        live_server,
        reverse("comments:like", args=[post.pk]),
        {"action": "like"},
        headers={"Cookie": f"{VISITOR_COOKIE}={cookie}"},
    )
    assert {status for status, _ in answers} == {302}
    assert PostLike.objects.filter(post=post, visitor=visitor).count() == 1


def test_a_signed_in_readers_like_sent_many_times_at_once_counts_once(
    on_postgresql, live_server, client
):
    post = PostFactory()
    reader = UserFactory(username="reader")
    client.force_login(reader)
    session = client.cookies["sessionid"].value
    csrf = "a" * 32
    answers = race(
        live_server,
        reverse("comments:like", args=[post.pk]),
        {"action": "like", "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"sessionid={session}; csrftoken={csrf}"},
    )
    assert {status for status, _ in answers} == {302}
    assert PostLike.objects.filter(post=post, user=reader).count() == 1


def test_a_report_sent_by_many_requests_at_once_is_one_report(
    on_postgresql, live_server, comment_settings, rule
):
    comment = CommentFactory()
    answers = race(
        live_server,
        reverse("comments:report-submit", args=[comment.pk]),
        {"reason": "rule", "rule": rule.pk, "email": "reader@example.net"},
        senders=5,  # the report form's own limit is five a minute
    )
    assert {status for status, _ in answers} == {200}
    assert Report.objects.count() == 1
    assert comment.events.filter(action="reported").count() == 1


def test_a_reader_reporting_the_same_comment_again_changes_nothing(client, db, comment_settings):
    comment = CommentFactory()
    data = {"reason": "spam", "email": "reader@example.net"}
    url = reverse("comments:report-submit", args=[comment.pk])
    assert client.post(url, data).status_code == 200
    assert client.post(url, data).status_code == 200  # the same page: it is reported
    assert Report.objects.count() == 1


def test_a_review_request_sent_by_many_requests_at_once_is_one_review(
    on_postgresql, live_server, comment_settings, rule
):
    moderator = UserFactory(username="maria", email="maria@example.org", is_staff=True)
    comment = CommentFactory()
    services.remove(comment, rule, by=moderator)
    token = services.review_token(comment.last_decision())
    answers = race(
        live_server,
        reverse("comments:review", kwargs={"token": token}),
        {
            "reasons": "It broke no rule: it quoted the council's own minutes.",
            "csrfmiddlewaretoken": "b" * 32,
        },
        headers={"Cookie": f"csrftoken={'b' * 32}"},  # a page of its own: Django's token
        senders=5,
    )
    assert {status for status, _ in answers} == {200}
    assert Review.objects.count() == 1
    assert comment.events.filter(action="review_requested").count() == 1


NOTICE = {
    "name": "Alex Complainant",
    "email": "alex@example.net",
    "meaning": "That I took money from the parking budget.",
    "why_defamatory": "It names me as the ward officer and says I am dishonest.",
    "inaccurate": "I have never handled the parking budget.",
    "cannot_identify_poster": "on",
}


def test_a_complaint_sent_by_many_requests_at_once_is_one_complaint(
    on_postgresql, live_server, comment_settings
):
    comment = CommentFactory()
    answers = race(
        live_server,
        reverse("comments:complain-submit", args=[comment.pk]),
        NOTICE,
        senders=3,  # the complaint form's own limit is three a minute
    )
    assert {status for status, _ in answers} == {200}
    assert DefamationComplaint.objects.count() == 1
    assert comment.events.filter(action="complaint").count() == 1


def test_the_same_complaint_sent_twice_is_one_complaint(client, db, comment_settings):
    comment = CommentFactory()
    url = reverse("comments:complain-submit", args=[comment.pk])
    assert client.post(url, NOTICE).status_code == 200
    again = client.post(url, {**NOTICE, "email": "ALEX@example.net"})
    assert again.status_code == 200
    assert DefamationComplaint.objects.count() == 1


# The cost of an accepted comment


def accept_a_comment(client, post, n, **fields):
    """Post an accepted comment on `post` as resident `n`; the SQL statements it took."""
    data = comment_form_data(
        post, email=f"resident{n}@example.net", comment=f"Point {n}.", **fields
    )
    url = reverse("comments:post", args=[post.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data, REMOTE_ADDR=f"192.0.2.{n}")
    assert response.status_code == 302
    return [q["sql"] for q in queries.captured_queries]


def add_comments(post, count):
    """`count` public comments: every fifth starts a thread, the rest reply down to level 4."""
    for n in range(count):
        if n % 5 == 0:
            last = root = CommentFactory(post=post)
        else:
            last = CommentFactory(parent=last if last.level < 4 else root)


def test_an_accepted_comment_costs_the_same_on_a_post_with_0_or_500_comments(
    client, db, comment_settings
):
    accept_a_comment(client, PostFactory(), 1)  # warm up: content types, site, rules
    empty = PostFactory()
    root = CommentFactory(post=empty)
    new_thread = len(accept_a_comment(client, empty, 2))
    reply = len(accept_a_comment(client, empty, 3, reply_to=root.pk))

    busy = PostFactory()
    add_comments(busy, 500)
    busy_root = Comment.objects.for_post(busy).filter(level=0).last()
    assert len(accept_a_comment(client, busy, 4)) == new_thread
    assert len(accept_a_comment(client, busy, 5, reply_to=busy_root.pk)) == reply


def test_an_accepted_comment_writes_its_three_rows_once(client, db, comment_settings):
    post = PostFactory()
    accept_a_comment(client, PostFactory(), 1)
    statements = accept_a_comment(client, post, 2)

    def writes(verb, table):
        return [s for s in statements if s.startswith(verb) and f'"{table}"' in s.split("SET")[0]]

    assert len(writes("INSERT", "django_comments")) == 1
    assert len(writes("INSERT", "django_comments_xtd_xtdcomment")) == 1
    assert len(writes("INSERT", "comments_comment")) == 1
    assert writes("UPDATE", "django_comments") == []
    # A new thread's root takes its own id as its thread: one UPDATE of xtd's row.
    assert len(writes("UPDATE", "django_comments_xtd_xtdcomment")) == 1
