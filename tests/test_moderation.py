"""Issue 11: fair and visible moderation. Reports, the Reported queue, outcome emails,
reviews by a second moderator, the public record, waiting times and the digest."""

import datetime
import io
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments import moderation_services, services
from comments.models import (
    Comment,
    HouseRule,
    ModerationEvent,
    ModerationSettings,
    Report,
    Review,
)
from tests.factories import CommentFactory, PostFactory, UserFactory, text

Event = ModerationEvent.Action
pytestmark = pytest.mark.django_db
QUEUE_URL = reverse("admin:comments_comment_changelist")
REVIEWS_URL = reverse("admin:comments_review_changelist")


def moderator_named(username):
    user = UserFactory(username=username, email=f"{username}@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


@pytest.fixture
def first_moderator(db):
    return moderator_named("maria")


@pytest.fixture
def second_moderator(db):
    return moderator_named("omar")


def act(client, url, action, objects, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], "index": "0"}
    return client.post(url, {**data, **extra})


def report_url(comment):
    return reverse("comments:report-submit", args=[comment.pk])


def send_report(client, comment, ip="192.0.2.50", **fields):
    data = {"reason": "rule", "rule": HouseRule.objects.get(number=1).pk, **fields}
    return client.post(report_url(comment), data, REMOTE_ADDR=ip)


def review_link(message):
    return re.search(r"https?://[^/\s]+(/comments/review/\S+/)", message.body).group(1)


# Reports


def test_every_public_comment_has_a_report_link_that_works_without_javascript(client):
    comment = CommentFactory()
    page = client.get(comment.content_object.get_absolute_url()).content.decode()
    link = reverse("comments:report", args=[comment.pk])
    assert f'href="{link}"' in page
    form_page = client.get(link)
    assert form_page.status_code == 200
    body = form_page.content.decode()
    assert f'action="{report_url(comment)}"' in body
    assert "csrfmiddlewaretoken" not in body  # a page the page cache shares
    assert comment.comment in text(form_page)


def test_a_report_of_a_comment_that_is_not_public_is_a_404(client, comment_settings):
    for comment in (
        CommentFactory(pending=True),
        CommentFactory(removed=True),
        CommentFactory(spam=True),
        CommentFactory(unconfirmed=True),
        CommentFactory(post=PostFactory(draft=True)),
    ):
        assert client.get(reverse("comments:report", args=[comment.pk])).status_code == 404
        assert send_report(client, comment).status_code == 404
    assert client.get(reverse("comments:report", args=[99999999999999999999])).status_code == 404
    assert Report.objects.count() == 0


def test_repeated_reports_gather_on_one_case_in_the_reported_queue(
    client, admin_client, comment_settings
):
    comment = CommentFactory()
    other = CommentFactory()
    assert send_report(client, comment, ip="192.0.2.1").status_code == 200
    assert send_report(client, comment, ip="192.0.2.2", reason="spam", rule="").status_code == 200
    assert comment.report_cases.count() == 1
    assert comment.report_cases.get().reports.count() == 2
    queue = text(admin_client.get(QUEUE_URL, {"queue": "reported"}))
    assert "Reported (1)" in queue
    assert comment.comment[:40] in queue and other.comment[:40] not in queue
    page = admin_client.get(reverse("admin:comments_comment_change", args=[comment.pk]))
    assert "It is spam" in text(page) and "house rule 1" in text(page)
    assert list(comment.events.filter(action=Event.REPORTED).values_list("note", flat=True))


def test_report_form_checks_its_input(client, comment_settings):
    comment = CommentFactory()
    refused = client.post(report_url(comment), {"reason": "rule"})
    assert refused.status_code == 400
    assert "Choose the house rule the comment breaks." in text(refused)
    refused = client.post(report_url(comment), {"reason": "defamatory"})
    assert refused.status_code == 400 and "Give an email address" in text(refused)
    refused = client.post(report_url(comment), {"reason": "other", "explanation": "x" * 1001})
    assert refused.status_code == 400
    refused = client.post(report_url(comment), {"reason": "nonsense"})
    assert refused.status_code == 400
    assert Report.objects.count() == 0


def test_reports_are_rate_limited_and_cross_site_posts_refused(client, comment_settings):
    comment = CommentFactory()
    codes = [send_report(client, comment).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    cross = client.post(report_url(comment), {"reason": "spam"}, HTTP_SEC_FETCH_SITE="cross-site")
    assert cross.status_code == 403


def test_a_reporters_email_is_never_shown_publicly(client, comment_settings):
    comment = CommentFactory()
    send_report(client, comment, reason="other", rule="", email="reporter@example.net")
    for url in (
        comment.content_object.get_absolute_url(),
        reverse("comments:report", args=[comment.pk]),
        reverse("moderation-record"),
    ):
        assert "reporter@example.net" not in client.get(url).content.decode()
    assert Report.objects.get().reporter_key != "reporter@example.net"


def test_a_comment_is_held_after_n_distinct_reports_when_the_setting_is_on(
    client, comment_settings
):
    ModerationSettings.objects.update_or_create(defaults={"hold_after_reports": 2})
    comment = CommentFactory()
    send_report(client, comment, ip="192.0.2.1")
    send_report(client, comment, ip="192.0.2.1")  # the same reader twice: one reporter
    assert Comment.objects.get(pk=comment.pk).is_visible
    send_report(client, comment, ip="192.0.2.2")
    comment.refresh_from_db()
    assert comment.queue == "pending" and comment.held_reason == "Reported by 2 readers."


def test_reports_do_not_hold_comments_by_default(client, comment_settings):
    comment = CommentFactory()
    for n in range(5):
        send_report(client, comment, ip=f"192.0.2.{n}")
    assert Comment.objects.get(pk=comment.pk).is_visible


def test_dismissing_reports_closes_the_case_and_leaves_the_comment(
    client, admin_client, comment_settings
):
    comment = CommentFactory()
    send_report(client, comment)
    act(admin_client, QUEUE_URL + "?queue=reported", "dismiss_reports", [comment])
    case = comment.report_cases.get()
    assert case.closed_at is not None and case.outcome == Event.REPORTS_DISMISSED
    assert Comment.objects.get(pk=comment.pk).is_visible
    assert "Reported (0)" in admin_client.get(QUEUE_URL).content.decode()


# Reporters are told the outcome


def reported_by_three(client, comment):
    """Two readers who gave an email (one of them twice, in different case) and one who
    gave none."""
    send_report(client, comment, ip="192.0.2.1", email="ann@example.net")
    send_report(client, comment, ip="192.0.2.1", reason="spam", rule="", email="ANN@example.net")
    send_report(client, comment, ip="192.0.2.2", reason="other", rule="", email="bo@example.net")
    send_report(client, comment, ip="192.0.2.3", reason="spam", rule="")


def test_readers_who_reported_a_comment_are_told_it_was_removed(
    client, first_moderator, comment_settings, django_capture_on_commit_callbacks
):
    comment = CommentFactory(user_email="writer@example.net", user_name="Wendy Writer")
    reported_by_three(client, comment)
    rule = HouseRule.objects.get(number=3)
    client.force_login(first_moderator)
    with django_capture_on_commit_callbacks(execute=True):
        act(
            client,
            QUEUE_URL + "?queue=reported",
            "remove_comments",
            [comment],
            apply="1",
            rule=rule.pk,
            note="Moderator-only remark.",
        )
    to_reporters = [m for m in mail.outbox if m.subject.endswith("The comment you reported")]
    assert sorted(m.to[0] for m in to_reporters) == ["ann@example.net", "bo@example.net"]
    for message in to_reporters:
        body = message.body
        assert "the comment has been removed" in body
        assert f"house rule {rule.number}: {rule.title}" in body
        assert rule.get_absolute_url() in body
        assert comment.content_object.get_absolute_url() in body
        # Nothing about the commenter, the moderator, their note or the other readers.
        for private in ("writer@", "Wendy Writer", "maria", "Moderator-only", "ann@", "bo@"):
            assert private not in body.lower().replace(message.to[0], "")
    # A later decision on the same comment tells them nothing more: the case is closed.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.restore(Comment.objects.get(pk=comment.pk), by=first_moderator)
    assert not [m for m in mail.outbox if m.subject.endswith("The comment you reported")]


@pytest.mark.parametrize(
    ("hold_after", "decide", "told"),
    [
        (None, "dismiss_reports", "the comment stays published"),
        (2, "approve_comments", "the comment is published"),  # held by reports, approved
        (None, "mark_spam", "the comment has been removed as spam"),
    ],
)
def test_readers_who_reported_a_comment_are_told_it_was_kept_or_spam(
    hold_after,
    decide,
    told,
    client,
    first_moderator,
    comment_settings,
    django_capture_on_commit_callbacks,
):
    ModerationSettings.objects.update_or_create(defaults={"hold_after_reports": hold_after})
    comment = CommentFactory()
    reported_by_three(client, comment)
    assert Comment.objects.get(pk=comment.pk).is_visible is (hold_after is None)
    client.force_login(first_moderator)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, QUEUE_URL + "?queue=reported", decide, [comment])
    to_reporters = [m for m in mail.outbox if m.subject.endswith("The comment you reported")]
    assert sorted(m.to[0] for m in to_reporters) == ["ann@example.net", "bo@example.net"]
    assert all(told in m.body and "It broke house rule" not in m.body for m in to_reporters)


# The Reported queue


def test_the_reported_queue_counts_reports_and_distinct_readers_sortably(
    client, first_moderator, comment_settings
):
    widely = CommentFactory(user_name="Widely Reported")
    often = CommentFactory(user_name="Often Reported")
    for n in range(3):
        send_report(client, widely, ip=f"192.0.2.{n}")
    for _ in range(4):  # one reader, four times: stored once (issue 9, exactly once)
        send_report(client, often, ip="198.51.100.7")
    send_report(client, often, ip="198.51.100.8")
    client.force_login(first_moderator)
    page = client.get(QUEUE_URL, {"queue": "reported"}).content.decode()
    assert "Readers reporting" in page and ">Reports<" in page
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    cells = [re.findall(r'<td class="field-(reporters|reports)">(\d+)</td>', r) for r in rows]
    cells = [row for row in cells if row]
    # Most readers first by default: 3 readers / 3 reports, then 2 readers / 2 reports.
    assert cells == [[("reporters", "3"), ("reports", "3")], [("reporters", "2"), ("reports", "2")]]
    assert page.index("Widely Reported") < page.index("Often Reported")
    # Sorting by the Reports column (the fourth), fewest first, turns the order round.
    ordered = client.get(QUEUE_URL, {"queue": "reported", "o": "4"}).content.decode()
    assert ordered.index("Often Reported") < ordered.index("Widely Reported")
    # The other queues have no such columns.
    assert "Readers reporting" not in client.get(QUEUE_URL, {"queue": "all"}).content.decode()


def test_the_reported_queue_runs_the_same_queries_however_many_are_reported(
    client, first_moderator, comment_settings, django_assert_num_queries
):
    def reported(n):
        for i in range(n):
            comment = CommentFactory()
            moderation_services.report(comment, reason="spam", ip=f"192.0.2.{i}")
            moderation_services.report(comment, reason="other", ip=f"198.51.100.{i}")

    client.force_login(first_moderator)
    reported(2)
    client.get(QUEUE_URL, {"queue": "reported"})
    with CaptureQueriesContext(connection) as queries:
        client.get(QUEUE_URL, {"queue": "reported"})
    reported(12)
    with django_assert_num_queries(len(queries)):
        page = client.get(QUEUE_URL, {"queue": "reported"})
    assert "Reported (14)" in page.content.decode()


# The whole journey


def test_report_removal_commenter_told_review_by_second_moderator_overturned(
    client, first_moderator, second_moderator, comment_settings, django_capture_on_commit_callbacks
):
    """report → Reported queue → removal → commenter told → review by a second moderator →
    overturned → the comment is back with its replies."""
    comment = CommentFactory(user_email="writer@example.net")
    reply = CommentFactory(parent=comment)
    post = comment.content_object
    send_report(client, comment, email="neighbour@example.net")

    client.force_login(first_moderator)
    assert "Reported (1)" in client.get(QUEUE_URL).content.decode()
    rule = HouseRule.objects.get(number=2)
    with django_capture_on_commit_callbacks(execute=True):
        act(
            client,
            QUEUE_URL + "?queue=reported",
            "remove_comments",
            [comment],
            apply="1",
            rule=rule.pk,
            note="Personal remarks about another resident.",
        )
    comment.refresh_from_db()
    assert comment.is_removed and comment.report_cases.get().outcome == Event.REMOVED
    (told,) = [m for m in mail.outbox if m.to == ["writer@example.net"]]
    assert "has been removed" in told.body
    assert f"house rule {rule.number}: {rule.title}" in told.body
    assert rule.get_absolute_url() in told.body
    assert "Personal remarks about another resident." in told.body
    (reporter_told,) = [m for m in mail.outbox if m.to == ["neighbour@example.net"]]
    assert "the comment has been removed" in reporter_told.body
    assert "writer@example.net" not in reporter_told.body
    link = review_link(told)

    client.logout()
    page = text(client.get(post.get_absolute_url()))
    assert f'href="{rule.get_absolute_url()}"' in page  # the placeholder cites the rule
    assert comment.comment not in page and reply.comment in page

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(link, {"reasons": "It was a fair point about the car park."})
    assert asked.status_code == 200 and "received" in text(asked)
    review = Review.objects.get()
    # Moderators are told, except the one who took the decision.
    assert [m.to for m in mail.outbox] == [["omar@example.org"]]

    # The first moderator may not review their own decision.
    client.force_login(first_moderator)
    act(client, REVIEWS_URL, "overturn", [review])
    review.refresh_from_db()
    assert review.is_waiting
    assert Comment.objects.get(pk=comment.pk).is_removed

    client.force_login(second_moderator)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(client, REVIEWS_URL, "overturn", [review])
    review.refresh_from_db()
    assert review.outcome == Review.Outcome.OVERTURNED and review.decided_by == second_moderator
    comment.refresh_from_db()
    assert comment.is_visible
    assert any(m.to == ["writer@example.net"] and "overturned" in m.body for m in mail.outbox)
    client.logout()
    page = text(client.get(post.get_absolute_url()))
    assert comment.comment in page and reply.comment in page
    actions = list(comment.events.order_by("at", "pk").values_list("action", flat=True))
    assert actions[-5:] == [
        Event.REPORTED,
        Event.REMOVED,
        Event.REVIEW_REQUESTED,
        Event.REVIEW_OVERTURNED,
        Event.RESTORED,
    ]


def test_a_review_upheld_tells_the_commenter(
    first_moderator, second_moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory(user_email="writer@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
    review = moderation_services.request_review(comment.last_decision(), "Please look again.")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.decide_review(
            review, Review.Outcome.UPHELD, by=second_moderator, note="It names a resident."
        )
    assert Comment.objects.get(pk=comment.pk).is_removed
    (message,) = mail.outbox
    assert message.to == ["writer@example.net"]
    assert "upheld" in message.body and "It names a resident." in message.body


def test_nobody_reviews_their_own_decision(first_moderator):
    comment = CommentFactory()
    services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
    review = moderation_services.request_review(comment.last_decision(), "Unfair.")
    assert "another moderator" in review.why_not_decidable_by(first_moderator)
    with pytest.raises(Exception, match="another moderator"):
        review.decide(Review.Outcome.OVERTURNED, by=first_moderator)


def test_an_author_reviews_only_on_their_own_posts(author_user, first_moderator):
    own = CommentFactory(post=PostFactory(author=author_user.author_profile))
    elsewhere = CommentFactory()
    reviews = []
    for comment in (own, elsewhere):
        services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
        reviews.append(moderation_services.request_review(comment.last_decision(), "Unfair."))
    assert reviews[0].why_not_decidable_by(author_user) == ""
    assert reviews[1].why_not_decidable_by(author_user) == "You may not moderate this comment."
    from django.test import Client

    client = Client()
    client.force_login(author_user)
    listed = text(client.get(REVIEWS_URL))
    assert own.comment[:40] in listed and elsewhere.comment[:40] not in listed


def test_the_review_link_is_signed_time_limited_and_once_per_decision(
    client, settings, first_moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory(user_email="writer@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
    link = review_link(mail.outbox[-1])
    assert client.get(link).status_code == 200
    assert client.get(link[:-3] + "xx/").status_code == 400
    assert client.get("/comments/review/not-a-token/").status_code == 400
    for _ in range(2):
        client.post(link, {"reasons": "Please look again."})
    assert Review.objects.count() == 1
    refused = client.post(link, {"reasons": ""})
    assert refused.status_code == 200  # already asked: the page says so
    settings.COMMENT_REVIEW_MAX_AGE = -1
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in text(expired)


def test_a_review_link_for_a_changed_decision_says_so(client, first_moderator):
    comment = CommentFactory()
    services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
    event = comment.last_decision()
    services.restore(comment, by=first_moderator)
    link = reverse("comments:review", kwargs={"token": services.review_token(event)})
    page = client.get(link)
    assert "since been changed" in text(page)
    assert client.post(link, {"reasons": "x"}).status_code == 200
    assert Review.objects.count() == 0


def test_spam_decisions_send_nothing_by_default(
    first_moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory(user_email="writer@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_spam(comment, by=first_moderator)
    assert mail.outbox == []
    ModerationSettings.objects.update_or_create(defaults={"email_spam_decisions": True})
    other = CommentFactory(user_email="other@example.net")
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_spam(other, by=first_moderator)
    (message,) = mail.outbox
    assert "marked as spam" in message.body and "/comments/review/" in message.body


def test_approving_a_public_comment_again_tells_nobody(
    first_moderator, django_capture_on_commit_callbacks
):
    comment = CommentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=first_moderator)
    assert mail.outbox == []


# The public record


NOW = timezone.now().replace(microsecond=0)


def at(days_ago):
    return NOW - datetime.timedelta(days=days_ago)


def test_the_public_record_matches_a_known_set_of_decisions(client, first_moderator):
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rule1, rule3 = HouseRule.objects.get(number=1), HouseRule.objects.get(number=3)
    base = month_start + datetime.timedelta(minutes=1)
    comments = CommentFactory.create_batch(6)

    def event(comment, action, minutes, **kwargs):
        ModerationEvent.objects.create(
            comment=comment,
            action=action,
            at=base + datetime.timedelta(minutes=minutes),
            made_public=action == Event.APPROVED,
            **kwargs,
        )

    # Two held comments: one approved after 2 hours, one removed after 4: median 3 hours.
    event(comments[0], Event.HELD, 0)
    event(comments[0], Event.APPROVED, 120, actor=first_moderator)
    event(comments[1], Event.HELD, 0)
    event(comments[1], Event.REMOVED, 240, actor=first_moderator, rule=rule1)
    event(comments[2], Event.APPROVED, 5)
    event(comments[3], Event.REMOVED, 5, rule=rule3)
    event(comments[4], Event.REMOVED, 5, rule=rule1)
    event(comments[5], Event.SPAM, 5)
    # Last year: not in this month's row.
    ModerationEvent.objects.create(
        comment=comments[5], action=Event.SPAM, at=month_start - datetime.timedelta(days=400)
    )
    case = moderation_services.report(comments[2], reason="spam", ip="192.0.2.1")
    moderation_services.report(comments[2], reason="other", ip="192.0.2.2")
    assert case.reports.count() == 2
    review = Review.objects.create(
        comment=comments[1], decision=comments[1].events.get(action=Event.REMOVED), reasons="x"
    )
    review.outcome, review.decided_at = Review.Outcome.UPHELD, timezone.now()
    review.save()

    row = moderation_services.public_record()[-1]
    assert row["start"] == month_start
    assert (row["published"], row["held"], row["removed"], row["spam"]) == (2, 2, 3, 1)
    assert row["by_rule"] == [(1, 2), (3, 1)]
    assert (row["reports"], row["upheld"], row["overturned"]) == (2, 1, 0)
    assert row["median_wait_hours"] == 3.0

    page = client.get(reverse("moderation-record"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<table" in body and "<script" not in body
    cells = re.findall(r"<td>([^<]*)</td>", body)[-8:]
    assert cells == ["2", "2", "3 (rule 1: 2; rule 3: 1)", "1", "2", "1", "0", "3.0 hours"]
    for comment in comments:
        assert comment.comment not in body and comment.user_email not in body
        assert comment.name not in body


def test_restored_comments_count_as_published_on_the_public_record(
    client, first_moderator, second_moderator
):
    """A comment put back in public view (a restore after a removal or a spam verdict, or
    an overturned review) is published again; a restore back to the Pending queue, or an
    approval of a comment already public, publishes nothing."""
    rule = HouseRule.objects.get(number=1)
    removed_then_restored = CommentFactory()
    removed_then_restored.remove(rule, by=first_moderator)
    removed_then_restored.restore(by=second_moderator)
    held_removed_then_restored = CommentFactory(pending=True)
    held_removed_then_restored.remove(rule, by=first_moderator)
    held_removed_then_restored.restore(by=second_moderator)
    assert held_removed_then_restored.queue == "pending"
    spam_then_restored = CommentFactory()
    spam_then_restored.mark_spam(by=first_moderator)
    spam_then_restored.restore(by=second_moderator)
    already_public = CommentFactory()
    already_public.approve(by=first_moderator)
    held_then_approved = CommentFactory(pending=True)
    held_then_approved.approve(by=first_moderator)
    overturned = CommentFactory()
    services.remove(overturned, rule, by=first_moderator)
    review = moderation_services.request_review(overturned.last_decision(), "Please look again.")
    moderation_services.decide_review(review, Review.Outcome.OVERTURNED, by=second_moderator)
    assert Comment.objects.get(pk=overturned.pk).is_visible

    row = moderation_services.public_record()[-1]
    # removed_then_restored, spam_then_restored, held_then_approved, overturned.
    assert row["published"] == 4
    assert (row["removed"], row["spam"], row["overturned"]) == (3, 1, 1)
    page = client.get(reverse("moderation-record")).content.decode()
    assert re.findall(r"<td>([^<]*)</td>", page)[-8] == "4"


def test_the_house_rules_page_links_to_the_public_record(client):
    page = client.get(reverse("house-rules")).content.decode()
    assert f'href="{reverse("moderation-record")}"' in page


def test_the_public_record_is_refreshed_when_a_report_or_review_arrives(
    client, page_cache, first_moderator, django_capture_on_commit_callbacks
):
    from core import pagecache

    comment = CommentFactory()
    client.get(reverse("moderation-record"))
    before = pagecache.current_generation()
    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.report(comment, reason="spam", ip="192.0.2.9")
    after_report = pagecache.current_generation()
    assert after_report != before
    services.remove(comment, HouseRule.objects.get(number=1), by=first_moderator)
    with django_capture_on_commit_callbacks(execute=True):
        moderation_services.request_review(comment.last_decision(), "Please look again.")
    assert pagecache.current_generation() != after_report


def test_the_removal_placeholder_links_to_the_rule_it_cites(client):
    rule = HouseRule.objects.get(number=4)
    comment = CommentFactory(removed=True, removal_rule=rule)
    page = client.get(comment.content_object.get_absolute_url()).content.decode()
    assert f'<a href="{rule.get_absolute_url()}">house rule 4</a>' in page
    assert "comment-report-link" not in page  # nothing to report on a placeholder


# Query counts


def test_post_page_queries_stay_constant_with_reports(client, django_assert_num_queries):
    post = PostFactory()
    url = post.get_absolute_url()
    CommentFactory(post=post)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    expected = len(queries)
    for n in range(20):
        comment = CommentFactory(post=post)
        moderation_services.report(comment, reason="spam", ip=f"192.0.2.{n}")
        moderation_services.report(comment, reason="other", ip=f"198.51.100.{n}")
    with django_assert_num_queries(expected):
        assert client.get(url).status_code == 200


# Waiting times and the digest


def test_the_admin_index_shows_waiting_times(admin_client, first_moderator):
    held = CommentFactory(pending=True)
    Comment.objects.filter(pk=held.pk).update(
        submit_date=timezone.now() - datetime.timedelta(hours=30)
    )
    moderation_services.report(CommentFactory(), reason="spam", ip="192.0.2.1")
    page = text(admin_client.get(reverse("admin:index")))
    assert "Moderation: waiting times" in page
    assert "Pending</a></th><td>1</td><td>1 day 6 hours</td>" in page
    assert "Reported</a></th><td>1</td>" in page


def test_the_digest_is_sent_only_when_something_waited_24_hours(
    first_moderator, django_capture_on_commit_callbacks
):
    CommentFactory(pending=True)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("moderation_digest")
    assert mail.outbox == []
    Comment.objects.update(submit_date=timezone.now() - datetime.timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):  # the queue delivers on commit
        call_command("moderation_digest")
    (message,) = mail.outbox
    assert "maria@example.org" in message.to
    assert "Pending: 1 waiting, the oldest for 1 day 1 hour" in message.body


def test_the_digest_is_sent_at_most_once_in_24_hours(
    first_moderator, django_capture_on_commit_callbacks
):
    """Cron runs it daily; a second run (by hand, or a doubled cron line) within 24 hours
    sends nothing. Time travel moves the recorded send time back, as a day passing would."""
    CommentFactory(pending=True)
    Comment.objects.update(submit_date=timezone.now() - datetime.timedelta(hours=30))
    out = io.StringIO()

    def run():  # the command's transaction commits: its queued email is delivered
        with django_capture_on_commit_callbacks(execute=True):
            call_command("moderation_digest", stdout=out)

    run()
    run()
    assert len(mail.outbox) == 1
    assert "already sent" in out.getvalue()
    sent_at = ModerationSettings.objects.get().digest_sent_at
    assert sent_at is not None
    later = sent_at + datetime.timedelta(hours=23)
    assert moderation_services.send_digest(now=later) is False
    assert len(mail.outbox) == 1
    ModerationSettings.objects.update(digest_sent_at=sent_at - datetime.timedelta(hours=24))
    run()
    assert len(mail.outbox) == 2


def test_a_digest_the_mail_server_refuses_waits_in_the_queue_and_is_sent_once(
    first_moderator, settings, django_capture_on_commit_callbacks
):
    """The mail server refuses (a real connection to a closed port): the digest is the day's
    digest all the same, kept in the queue (issue 9), and delivered once the server is back."""
    from mailer.models import Message

    from core.mailqueue import MailWorker

    CommentFactory(pending=True)
    Comment.objects.update(submit_date=timezone.now() - datetime.timedelta(hours=30))
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    with django_capture_on_commit_callbacks(execute=True):
        assert moderation_services.send_digest() is True
    assert ModerationSettings.objects.get().digest_sent_at is not None
    assert Message.objects.deferred().count() == 1 and not mail.outbox
    assert moderation_services.send_digest() is False  # no second digest meanwhile
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert MailWorker().run_once() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [first_moderator.email]


def test_waiting_time_medians_over_30_days(first_moderator):
    rows = {row["queue"]: row for row in moderation_services.waiting_times(first_moderator)}
    assert rows["Pending"]["count"] == 0 and rows["Pending"]["median"] is None
    comment = CommentFactory()
    ModerationEvent.objects.create(comment=comment, action=Event.HELD, at=at(2))
    ModerationEvent.objects.create(
        comment=comment, action=Event.APPROVED, at=at(2) + datetime.timedelta(hours=5)
    )
    rows = {row["queue"]: row for row in moderation_services.waiting_times(first_moderator)}
    assert rows["Pending"]["median"] == datetime.timedelta(hours=5)
    assert rows["Pending"]["median_text"] == "5 hours"


def test_bad_tokens_are_clear_pages(client):
    for name in ("review", "respond"):
        for token in ("x", signing.dumps({"d": "1"}), "a" * 300):
            response = client.get(reverse(f"comments:{name}", kwargs={"token": token}))
            assert response.status_code == 400, (name, token)


def test_the_migration_counts_past_approvals_and_standing_restores_as_published(
    first_moderator,
):
    """Rows from before `made_public`: every approval was counted as published, so it
    stays so; a restore counts when the comment still stands on it, in public."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("comments.migrations.0005_digest_sent_at_event_made_public")
    approved, restored, superseded = CommentFactory.create_batch(3)
    approved.approve(by=first_moderator)
    for comment in (restored, superseded):
        comment.mark_spam(by=first_moderator)
        comment.restore(by=first_moderator)
    superseded.remove(HouseRule.objects.get(number=1), by=first_moderator)
    ModerationEvent.objects.update(made_public=False)
    migration.mark_published_events(apps, None)
    published = set(
        ModerationEvent.objects.filter(made_public=True).values_list("comment_id", "action")
    )
    assert published == {
        (approved.pk, Event.APPROVED),
        (restored.pk, Event.RESTORED),
    }
