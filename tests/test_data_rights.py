"""Residents' data rights: "Your comments and your data" (comments/data_rights.py), the log
of requests for the controller, and the admin actions that do what the page does."""

import csv
import datetime
import io
import json
import re
import statistics
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments import data_rights, moderation_services, services
from comments.models import (
    Comment,
    DataLink,
    DataRequest,
    DefamationComplaint,
    HouseRule,
    ModerationEvent,
    Report,
    ReportCase,
    Review,
    months_after,
)
from tests.factories import CommentFactory, PostFactory, UserFactory, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("comment_settings")]

JANE = "jane.bell@example.net"
LINK = re.compile(r"https?://[^/\s]+(/comments/your-data/open/[^/\s]+/)")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def ask_for_link(client, email, committed, ip="198.51.100.7"):
    with committed():
        return client.post(reverse("comments:your-data-send"), {"email": email}, REMOTE_ADDR=ip)


def emailed_link(email=JANE):
    messages = [m for m in mail.outbox if m.to == [email] and "your data" in m.subject]
    return LINK.search(messages[-1].body).group(1)


def open_session(client, committed, email=JANE):
    """Ask for a link, open it as a resident does: the browser then holds the session."""
    ask_for_link(client, email, committed)
    page = client.get(emailed_link(email)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(emailed_link(email), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response.url == reverse("comments:your-data-comments")
    return client


@pytest.fixture
def jane_everywhere():
    """Jane's comments in every state, a reply to one by Sam, and Sam's own comment."""
    post = PostFactory(title="Parking on Station Road")
    other_post = PostFactory(title="Library hours")
    mine = {"user_name": "Jane Bell", "user_email": JANE, "user_url": "https://jane.example/"}
    comments = {
        "approved": CommentFactory(post=post, comment="Published words", followup=True, **mine),
        "pending": CommentFactory(post=post, pending=True, comment="Held words", **mine),
        "unconfirmed": CommentFactory(
            post=other_post, unconfirmed=True, comment="Unconfirmed words", **mine
        ),
        "removed": CommentFactory(post=other_post, removed=True, comment="Removed words", **mine),
        "spam": CommentFactory(post=post, spam=True, comment="Spam words", **mine),
    }
    Comment.objects.filter(pk=comments["spam"].pk).update(ip_address=None)  # already purged
    sam = {"user_name": "Sam Other", "user_email": "sam@example.org", "ip_address": "203.0.113.99"}
    reply = CommentFactory(parent=comments["approved"], comment="Sam replies", **sam)
    sams = CommentFactory(post=other_post, comment="Sam's own thoughts", followup=True, **sam)
    return {**comments, "reply": reply, "sams": sams, "post": post}


# --- Asking for a link: the same answer for everyone -----------------------------------


def test_every_email_we_send_links_to_your_comments_and_your_data():
    folder = Path(settings.BASE_DIR) / "templates" / "comments" / "email"
    templates = sorted(p.name for p in folder.glob("*.txt") if p.name != "footer.txt")
    assert len(templates) >= 10
    url = "https://blog.example" + reverse("comments:your-data")
    for name in templates:
        body = render_to_string(f"comments/email/{name}", {"site_url": "https://blog.example"})
        assert url in body, name


def test_a_real_follow_up_email_ends_with_the_link(committed):
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.org", followup=True)
    with committed():
        services.notify_followers(CommentFactory(post=post))
    assert reverse("comments:your-data") in mail.outbox[-1].body


def test_the_privacy_notice_links_to_the_page(client):
    page = client.get(reverse("privacy")).content.decode()
    assert 'href="/comments/your-data/"' in page
    notice = text(client.get(reverse("privacy")))
    assert "Deleted at the commenter’s request" in notice
    assert "When you ask for your comments and your data:</strong> the email address" in notice


def test_known_and_unknown_addresses_get_the_same_page_the_same_work_and_one_email(
    client, committed, jane_everywhere, settings
):
    settings.COMMENT_DATA_LINKS_PER_HOUR = 1000
    settings.COMMENT_DATA_REQUESTS_PER_MINUTE = 1000
    ask_for_link(client, "warming.up@example.net", committed)  # the site's row is cached
    answers, queries = {}, {}
    for email in (JANE, "nobody.here@example.net"):
        with CaptureQueriesContext(connection) as captured:
            response = ask_for_link(client, email, committed)
        assert response.status_code == 200
        answers[email] = text(response).replace(email, "ADDRESS")
        queries[email] = [re.sub(r"'[^']*'|\d+", "?", q["sql"]) for q in captured.captured_queries]
        assert len([m for m in mail.outbox if m.to == [email]]) == 1
    assert answers[JANE] == answers["nobody.here@example.net"]
    assert queries[JANE] == queries["nobody.here@example.net"]  # the very same statements
    assert "Check your email" in answers[JANE]


def test_known_and_unknown_addresses_take_the_same_time(client, committed, settings):
    """Measured: the median of 15 interleaved requests each, known and unknown."""
    settings.COMMENT_DATA_LINKS_PER_HOUR = 1000
    settings.COMMENT_DATA_REQUESTS_PER_MINUTE = 1000
    for n in range(30):
        CommentFactory(user_email=JANE, comment=f"Comment {n}")
    times = {JANE: [], "nobody.here@example.net": []}
    for _ in range(15):
        for email in times:
            start = time.perf_counter()
            ask_for_link(client, email, committed)
            times[email].append(time.perf_counter() - start)
    known, unknown = (statistics.median(t) for t in times.values())
    print(f"median: known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    # The work is identical (the test above); allow for noise on a busy machine.
    assert abs(known - unknown) < max(0.5 * min(known, unknown), 0.005), (known, unknown)


def test_asking_is_rate_limited_by_connection_and_by_address(client, committed):
    for n in range(settings.COMMENT_DATA_REQUESTS_PER_MINUTE):
        assert ask_for_link(client, f"person{n}@example.org", committed).status_code == 200
    refused = ask_for_link(client, "one.more@example.org", committed)
    assert refused.status_code == 429 and refused["Retry-After"]
    assert not DataLink.objects.filter(email="one.more@example.org").exists()

    sent_before = len(mail.outbox)
    for n in range(settings.COMMENT_DATA_LINKS_PER_HOUR + 2):
        response = ask_for_link(client, JANE, committed, ip=f"192.0.2.{n + 1}")
        assert response.status_code == 200  # the same page: it says nothing about the address
    assert len(mail.outbox) - sent_before == settings.COMMENT_DATA_LINKS_PER_HOUR


def test_the_request_form_refuses_a_cross_site_post(client):
    response = client.post(
        reverse("comments:your-data-send"),
        {"email": JANE},
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert DataLink.objects.count() == 0


# --- The link: signed, time-limited, single-use ----------------------------------------


def test_the_link_works_once_and_a_replay_gets_a_clear_page(client, committed):
    ask_for_link(client, JANE, committed)
    link = emailed_link()
    first_look = client.get(link)  # a mail scanner's fetch spends nothing
    assert first_look.status_code == 200 and "This link works once" in text(first_look)
    assert client.post(link).status_code == 302
    for replay in (client.get(link), Client().post(link)):
        assert replay.status_code == 410
        assert "already been used" in text(replay)
        assert "Ask for a new link" in text(replay)


def test_only_hashes_of_the_links_secrets_are_stored(client, committed):
    open_session(client, committed)
    link = DataLink.objects.get()
    token = emailed_link().split("/")[-2]
    secret = signing.loads(token, salt=data_rights.LINK_SALT)["s"]
    assert secret not in every_stored_value()
    assert link.opened_at is not None and len(link.session_hash) == 64


def test_an_expired_link_gets_a_clear_page(client, committed, settings):
    ask_for_link(client, JANE, committed)
    settings.COMMENT_DATA_LINK_MAX_AGE = -1
    for response in (client.get(emailed_link()), client.post(emailed_link())):
        assert response.status_code == 410 and "This link has expired" in text(response)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        signing.dumps({"l": 1, "s": "x"}, salt=services.UNSUBSCRIBE_SALT),  # another purpose
        signing.dumps({"l": "1", "s": "x"}, salt=data_rights.LINK_SALT),
        signing.dumps({"l": True, "s": "x"}, salt=data_rights.LINK_SALT),
        signing.dumps(["l", 1], salt=data_rights.LINK_SALT),
    ],
)
def test_a_wrong_token_is_a_400_with_a_clear_page(client, token):
    response = client.post(reverse("comments:your-data-open", args=[token]))
    assert response.status_code == 400
    assert "This link is not valid" in text(response)


def test_a_tampered_or_purged_link_is_refused(client, committed):
    ask_for_link(client, JANE, committed)
    link = emailed_link()
    assert client.post(link[:-4] + "xyz/").status_code == 400
    DataLink.objects.all().delete()
    assert client.post(link).status_code == 410


def test_without_a_session_the_page_explains_and_offers_a_new_link(client):
    for name in ("comments:your-data-comments", "comments:your-data-json"):
        response = client.get(reverse(name))
        assert response.status_code == 403
        assert "Your session has ended" in text(response)
    assert client.post(reverse("comments:your-data-stop")).status_code == 403


def test_the_session_ends_on_time(client, committed, settings):
    open_session(client, committed)
    assert client.get(reverse("comments:your-data-comments")).status_code == 200
    settings.COMMENT_DATA_SESSION_MAX_AGE = -1
    assert client.get(reverse("comments:your-data-comments")).status_code == 403


def test_the_session_cookie_is_scoped_and_script_proof(client, committed):
    ask_for_link(client, JANE, committed)
    response = client.post(emailed_link())
    cookie = response.cookies[data_rights.SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == reverse("comments:your-data")
    assert data_rights.SESSION_COOKIE in settings.PAGE_CACHE_PERSONAL_COOKIES


# --- The page, and the downloads ---------------------------------------------------------


def test_the_page_lists_every_comment_made_with_the_address_in_any_state(
    client, committed, jane_everywhere
):
    open_session(client, committed)
    page = text(client.get(reverse("comments:your-data-comments")))
    for words in ("Published words", "Held words", "Unconfirmed words", "Removed words"):
        assert words in page
    assert "Spam words" in page and "Marked as spam" in page
    assert "Sam replies" not in page and "Sam's own thoughts" not in page
    assert "Comments made with jane.bell@example.net: 5." in " ".join(
        re.sub("<[^>]+>", "", page).split()
    )
    assert "You get an email when someone comments on:" in page


def test_an_address_without_comments_sees_that_we_hold_none(client, committed):
    open_session(client, committed, email="nobody.here@example.net")
    page = text(client.get(reverse("comments:your-data-comments")))
    assert "No comments were made with this address" in page


def test_the_json_download_holds_everything_about_the_commenter_and_nothing_else(
    client, committed, jane_everywhere
):
    Report.objects.create(
        case=ReportCase.objects.create(comment=jane_everywhere["sams"]),
        reason="other",
        explanation="Jane thinks this is off topic.",
        email=JANE,
        reporter_key="k",
    )
    open_session(client, committed)
    response = client.get(reverse("comments:your-data-json"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-comments-')
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["email"] == JANE
    by_text = {row["text"]: row for row in data["comments"]}
    assert set(by_text) == {
        "Published words",
        "Held words",
        "Unconfirmed words",
        "Removed words",
        "Spam words",
    }
    assert {row["state"] for row in data["comments"]} == set(data_rights.STATES.values())
    published = by_text["Published words"]
    assert published["name"] == "Jane Bell"
    assert published["email"] == JANE
    assert published["website"] == "https://jane.example/"
    assert published["ip_address"] == "192.0.2.10"
    assert published["follow_up_emails"] is True
    assert published["post"] == "Parking on Station Road"
    assert published["submitted"].endswith(("+00:00", "+01:00"))  # UK time, with its offset
    assert by_text["Spam words"]["ip_address"] is None  # no longer held
    [(title, url)] = data["follow_up_subscriptions"]
    assert title == "Parking on Station Road"
    assert url.endswith(jane_everywhere["post"].get_absolute_url())
    assert data["reports_made"][0]["explanation"] == "Jane thinks this is off topic."
    for someone_else in ("Sam Other", "sam@example.org", "203.0.113.99", "Sam replies"):
        assert someone_else not in raw
    log = DataRequest.objects.get()
    assert log.kind == DataRequest.Kind.EXPORT and log.email == JANE and log.completed_at


def test_the_csv_download_has_one_row_per_comment_and_cannot_run_formulas(
    client, committed, jane_everywhere
):
    CommentFactory(post=jane_everywhere["post"], user_email=JANE, comment="=HYPERLINK(1)")
    open_session(client, committed)
    response = client.get(reverse("comments:your-data-csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 6
    assert {r["email"] for r in rows} == {JANE}
    assert "'=HYPERLINK(1)" in {r["text"] for r in rows}
    assert "sam@example.org" not in response.content.decode()


def test_stopping_follow_up_emails_stops_them_all(client, committed, jane_everywhere):
    CommentFactory(post=jane_everywhere["sams"].content_object, user_email=JANE, followup=True)
    open_session(client, committed)
    response = client.post(reverse("comments:your-data-stop"))
    assert response.status_code == 302
    assert not Comment.objects.filter(user_email=JANE, followup=True).exists()
    assert Comment.objects.get(pk=jane_everywhere["sams"].pk).followup  # Sam's stays
    page = text(client.get(response.url))
    assert "you will get no more follow-up emails" in page
    assert DataRequest.objects.get().kind == DataRequest.Kind.STOP_EMAILS
    mail.outbox.clear()
    with committed():
        services.notify_followers(CommentFactory(post=jane_everywhere["post"]))
    assert JANE not in [to for m in mail.outbox for to in m.to]


def test_the_page_costs_the_same_queries_for_2_or_20_comments(
    client, committed, django_assert_num_queries
):
    open_session(client, committed)
    posts = [PostFactory() for _ in range(4)]
    for n in range(2):
        CommentFactory(post=posts[n], user_email=JANE)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("comments:your-data-comments"))
    for n in range(18):
        CommentFactory(post=posts[n % 4], user_email=JANE, followup=True)
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("comments:your-data-comments"))
    assert response.content.decode().count('name="comment" value="') == 21  # 20 + "all"
    with CaptureQueriesContext(connection) as json_queries:
        client.get(reverse("comments:your-data-json"))
    assert len(json_queries) <= len(few) + 3


def test_the_form_page_costs_the_same_queries_whatever_the_site_holds(
    client, django_assert_num_queries
):
    client.get(reverse("comments:your-data"))  # the site's row is cached
    with CaptureQueriesContext(connection) as empty:
        client.get(reverse("comments:your-data"))
    for _ in range(5):
        CommentFactory(user_email=JANE)
    with django_assert_num_queries(len(empty)):
        assert client.get(reverse("comments:your-data")).status_code == 200


def test_the_page_posts_need_the_csrf_token(committed):
    CommentFactory(user_email=JANE, followup=True)
    browser = Client(enforce_csrf_checks=True)
    open_session(browser, committed)
    assert browser.post(reverse("comments:your-data-stop")).status_code == 403
    page = browser.get(reverse("comments:your-data-comments"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    ok = browser.post(reverse("comments:your-data-stop"), {"csrfmiddlewaretoken": token.group(1)})
    assert ok.status_code == 302


# --- Erasure -----------------------------------------------------------------------------


def every_stored_value():
    """Every value in every table, as text: what "no personal data anywhere" is checked on."""
    values = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._base_manager.values_list():
            values.extend(str(v) for v in row if v not in (None, ""))
    return "\n".join(values)


JANES_DATA = ["Jane Bell", JANE, "jane.example", "192.0.2.10", "Published words", "Held words"]


def delete(client, which, confirm=True):
    data = {"comment": which, **({"confirm": "yes"} if confirm else {})}
    return client.post(reverse("comments:your-data-delete"), data)


def test_deleting_a_comment_with_replies_leaves_the_placeholder_and_keeps_the_replies(
    client, committed, jane_everywhere
):
    approved = jane_everywhere["approved"]
    moderator = UserFactory(username="mod", email="mod@example.org")
    Review.objects.create(
        comment=approved,
        decision=ModerationEvent.objects.create(
            comment=approved, action="removed", actor=moderator
        ),
        reasons="Jane Bell says this was fair comment.",
    )
    ModerationEvent.objects.create(
        comment=approved, action="held", note="Contains a moderation word (“Jane Bell”)."
    )
    case = ReportCase.objects.create(comment=approved)
    # As the form leaves it: a hash of the post, her address and her words (exactly once).
    Comment.objects.filter(pk=approved.pk).update(fingerprint="f" * 64)
    open_session(client, committed)
    asked = delete(client, str(approved.pk), confirm=False)
    assert asked.status_code == 200 and "This cannot be undone" in text(asked)
    assert Comment.objects.filter(pk=approved.pk, user_name="Jane Bell").exists()  # not yet

    with committed():
        done = delete(client, str(approved.pk))
    assert done.status_code == 302
    assert "your comment has been deleted" in text(client.get(done.url))
    placeholder = Comment.objects.get(pk=approved.pk)
    assert (placeholder.user_name, placeholder.user_email, placeholder.user_url) == ("", "", "")
    assert (placeholder.ip_address, placeholder.comment, placeholder.comment_html) == (None, "", "")
    assert placeholder.erased_at and not placeholder.followup
    assert placeholder.fingerprint == ""
    assert not placeholder.events.exclude(note="").exists()
    assert not Review.objects.filter(comment=approved).exists()
    case.refresh_from_db()
    assert case.closed_at is not None

    page = text(Client().get(jane_everywhere["post"].get_absolute_url()))
    assert "Deleted at the commenter’s request." in page
    assert "Sam replies" in page
    assert "Published words" not in page and "Jane Bell" not in page
    assert Comment.objects.get(pk=jane_everywhere["reply"].pk).is_visible
    assert DataRequest.objects.filter(kind="erasure", email="").count() == 1


def test_deleting_a_comment_without_replies_deletes_the_row(client, committed, jane_everywhere):
    held = jane_everywhere["pending"]
    open_session(client, committed)
    delete(client, str(held.pk))
    assert not Comment.objects.filter(pk=held.pk).exists()
    assert not ModerationEvent.objects.filter(comment_id=held.pk).exists()


def test_deleting_everything_leaves_no_personal_data_anywhere(client, committed, jane_everywhere):
    post = jane_everywhere["post"]
    # A reply of hers, under her own comment: it goes, and so does the parent it alone held.
    own_reply = CommentFactory(
        parent=jane_everywhere["removed"], user_name="Jane Bell", user_email=JANE
    )
    Report.objects.create(
        case=ReportCase.objects.create(comment=jane_everywhere["sams"]),
        reason="other",
        email=JANE,
        reporter_key=moderation_services.reporter_key(JANE, None),
    )
    complaint = DefamationComplaint.objects.create(
        comment=jane_everywhere["unconfirmed"],
        name="Complaining Person",
        email="complainant@example.org",
        meaning="m",
        why_defamatory="w",
        inaccurate="i",
        cannot_identify_poster=True,
        status=DefamationComplaint.Status.AWAITING_POSTER,
        poster_name="Jane Bell",
        poster_address="1 Jane Street",
    )
    open_session(client, committed)
    assert "all 6 of your comments" in text(delete(client, "all", confirm=False))
    with committed():
        response = delete(client, "all")
    assert response.status_code == 200
    assert "Your comments are deleted" in text(response)
    assert response.cookies[data_rights.SESSION_COOKIE].value == ""

    stored = every_stored_value()
    for value in [*JANES_DATA, "1 Jane Street", "Removed words", "Spam words", "jane.bell"]:
        assert value not in stored, value
    assert moderation_services.reporter_key(JANE, None) not in stored
    # What stays: the replies, their placeholders, the complaint (now closed), the record.
    assert Comment.objects.filter(pk=jane_everywhere["reply"].pk).exists()
    assert not Comment.objects.filter(pk__in=[own_reply.pk, jane_everywhere["removed"].pk])
    complaint.refresh_from_db()
    assert complaint.status == DefamationComplaint.Status.REMOVED
    assert mail.outbox[-1].to == ["complainant@example.org"]
    assert set(Comment.objects.filter(erased_at__isnull=False).values_list("pk", flat=True)) == {
        jane_everywhere["approved"].pk,
        jane_everywhere["unconfirmed"].pk,
    }
    assert "Sam replies" in text(Client().get(post.get_absolute_url()))
    record = DataRequest.objects.get(kind="erasure")
    assert record.email == "" and "Erased 6 comments (2 with replies" in record.outcome
    # No orphans: every comment's parent and thread exist, every event's comment exists.
    ids = set(Comment.objects.values_list("pk", flat=True))
    assert set(Comment.objects.values_list("parent_id", flat=True)) <= ids
    assert set(Comment.objects.values_list("thread_id", flat=True)) <= ids
    assert set(ModerationEvent.objects.values_list("comment_id", flat=True)) <= ids
    # …and the link and its session are over.
    assert client.get(reverse("comments:your-data-comments")).status_code == 403


def test_erasure_is_one_transaction(client, committed, jane_everywhere, monkeypatch):
    open_session(client, committed)
    before = every_stored_value()

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(data_rights.DataLink.objects, "for_email", fail)
    with pytest.raises(RuntimeError):
        data_rights.erase_commenter(JANE)
    assert every_stored_value() == before


def test_one_cannot_delete_someone_elses_comment(client, committed, jane_everywhere):
    open_session(client, committed)
    response = delete(client, str(jane_everywhere["sams"].pk))
    assert response.status_code == 404
    assert Comment.objects.filter(pk=jane_everywhere["sams"].pk, user_name="Sam Other").exists()


def test_an_erased_comment_cannot_be_restored_or_reviewed(client, committed, jane_everywhere):
    removed = jane_everywhere["removed"]
    event = ModerationEvent.objects.create(comment=removed, action="removed")
    CommentFactory(parent=removed, user_email="sam@example.org")  # so it stays, as a placeholder
    data_rights.erase([removed])
    removed.refresh_from_db()
    with pytest.raises(Exception, match="deleted at the commenter"):
        removed.restore()
    page = client.get(reverse("comments:review", args=[services.review_token(event)]))
    assert "nothing to review" in text(page)


def test_the_cached_post_page_changes_when_a_comment_is_deleted(
    page_cache, committed, jane_everywhere
):
    post = jane_everywhere["post"]
    reader = Client()
    assert "Published words" in text(reader.get(post.get_absolute_url()))
    assert reader.get(post.get_absolute_url()).headers.get("X-Page-Cache") == "hit"
    with committed():
        data_rights.erase([jane_everywhere["approved"]])
    page = text(reader.get(post.get_absolute_url()))
    assert "Published words" not in page
    assert "Deleted at the commenter’s request." in page


# --- The controller's log and the admin -------------------------------------------------


def test_the_deadline_is_one_calendar_month_or_three_when_extended():
    london = timezone.get_current_timezone()
    received = datetime.datetime(2027, 1, 31, 10, 0, tzinfo=london)
    request = DataRequest(kind="export", received_at=received)
    assert timezone.localtime(request.due_at).date() == datetime.date(2027, 2, 28)
    request.extended = True
    assert timezone.localtime(request.due_at).date() == datetime.date(2027, 4, 30)
    assert months_after(datetime.datetime(2027, 9, 3, 9, tzinfo=london), 1).day == 3


def test_an_overdue_request_stands_out_in_the_admin(admin_client):
    late = DataRequest.objects.create(
        kind="export",
        route="post",
        email="late@example.org",
        received_at=timezone.now() - datetime.timedelta(days=40),
    )
    DataRequest.objects.create(kind="erasure", route="email", email="new@example.org")
    page = admin_client.get(reverse("admin:comments_datarequest_changelist")).content.decode()
    assert "OVERDUE: was due" in page
    overdue = admin_client.get(reverse("admin:comments_datarequest_changelist") + "?status=overdue")
    assert overdue.context["cl"].result_count == 1
    assert overdue.context["cl"].result_list[0] == late
    add = admin_client.get(reverse("admin:comments_datarequest_add")).content.decode()
    assert "Art. 12(3)" in add and "two further months" in add
    change = admin_client.get(reverse("admin:comments_datarequest_change", args=[late.pk]))
    assert change.status_code == 200 and "OVERDUE" in change.content.decode()


def test_the_admin_export_action_downloads_the_same_data_and_logs_it(admin_client, jane_everywhere):
    request = DataRequest.objects.create(kind="export", route="email", email=JANE)
    response = admin_client.post(
        reverse("admin:comments_datarequest_changelist"),
        {"action": "export_data", "_selected_action": [request.pk]},
    )
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["comments"] == data_rights.export(JANE)["comments"]
    request.refresh_from_db()
    assert request.completed_at and "Exported 5 comments" in request.outcome


def test_the_admin_erase_action_asks_then_erases_and_logs_without_the_address(
    admin_client, jane_everywhere
):
    request = DataRequest.objects.create(kind="erasure", route="post", email=JANE)
    url = reverse("admin:comments_datarequest_changelist")
    asked = admin_client.post(url, {"action": "erase_data", "_selected_action": [request.pk]})
    assert asked.status_code == 200 and "This cannot be undone" in asked.content.decode()
    assert Comment.objects.filter(user_email=JANE).count() == 5
    admin_client.post(
        url, {"action": "erase_data", "_selected_action": [request.pk], "confirm": "yes"}
    )
    assert not Comment.objects.filter(user_email=JANE).exists()
    for value in JANES_DATA:
        assert value not in every_stored_value(), value
    request.refresh_from_db()
    assert request.completed_at and request.email == ""


def test_the_comment_admin_can_erase_a_commenter_by_email(admin_client, jane_everywhere):
    url = reverse("admin:comments_comment_changelist") + "?queue=all"
    chosen = {"action": "erase_commenter", "_selected_action": [jane_everywhere["spam"].pk]}
    assert "Erase this commenter" in admin_client.post(url, chosen).content.decode()
    admin_client.post(url, {**chosen, "confirm": "yes"})
    assert not Comment.objects.filter(user_email=JANE).exists()
    assert DataRequest.objects.get().kind == DataRequest.Kind.ERASURE


def test_moderators_record_requests_but_only_the_controller_exports_or_erases(
    client, jane_everywhere
):
    moderator = UserFactory(username="moddy", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    client.force_login(moderator)
    url = reverse("admin:comments_datarequest_changelist")
    page = client.get(url)
    assert page.status_code == 200
    assert "export_data" not in page.content.decode()
    assert "erase_data" not in page.content.decode()
    add = client.post(
        reverse("admin:comments_datarequest_add"),
        {
            "kind": "erasure",
            "route": "post",
            "email": "Jane.Bell@Example.net",
            "details": "Letter of 1 May.",
            "received_at_0": "01/05/2027",
            "received_at_1": "09:00:00",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    assert DataRequest.objects.get().email == JANE
    request = DataRequest.objects.get()
    client.post(url, {"action": "erase_data", "_selected_action": [request.pk], "confirm": "yes"})
    assert Comment.objects.filter(user_email=JANE).count() == 5  # refused
    comments = reverse("admin:comments_comment_changelist") + "?queue=all"
    assert "erase_commenter" not in client.get(comments).content.decode()
    assert HouseRule.objects.exists()


def test_moderators_actions_pass_over_erased_placeholders(admin_client, jane_everywhere):
    approved = jane_everywhere["approved"]
    data_rights.erase([approved])
    url = reverse("admin:comments_comment_changelist") + "?queue=removed"
    listing = admin_client.get(url).content.decode()
    assert "Deleted at the commenter’s request" in listing
    for action in ("restore_comments", "approve_comments", "mark_spam"):
        response = admin_client.post(url, {"action": action, "_selected_action": [approved.pk]})
        assert response.status_code == 302
    placeholder = Comment.objects.get(pk=approved.pk)
    assert placeholder.is_removed and not placeholder.is_spam and placeholder.comment == ""


def test_requests_waiting_for_an_answer_come_first_oldest_first():
    now = timezone.now()
    done = DataRequest.objects.create(
        kind="export", received_at=now - datetime.timedelta(days=9), completed_at=now
    )
    newer = DataRequest.objects.create(kind="export", received_at=now)
    older = DataRequest.objects.create(kind="erasure", received_at=now - datetime.timedelta(days=3))
    assert list(DataRequest.objects.all()) == [older, newer, done]
