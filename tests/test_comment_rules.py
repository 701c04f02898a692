"""The discussion rules (the admin's "Discussion settings"), anti-abuse limits and the emails
that moderators, the post's author and followers receive."""

import datetime
import re
import time
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.models import Comment, ModerationEvent, ModerationSettings
from tests.factories import (
    CommentFactory,
    PostFactory,
    UserFactory,
    comment_form_data,
    send_comment,
    text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_confirmation(comment_settings):
    """Comments skip email confirmation here, so the rules apply as soon as one is posted."""
    comment_settings.COMMENTS_XTD_CONFIRM_EMAIL = False


def set_rules(**rules):
    ModerationSettings.objects.update(**rules)


def earlier(**fields):
    """A comment posted yesterday (so flood control does not count it)."""
    return CommentFactory(submit_date=timezone.now() - datetime.timedelta(days=1), **fields)


def public_page(post):
    """The post page as a stranger (not the commenter) sees it."""
    return text(Client().get(post.get_absolute_url()))


# Pre-moderation modes


def test_mode_all_holds_every_comment_even_from_a_regular(client):
    set_rules(mode=ModerationSettings.Mode.ALL)
    post = PostFactory()
    earlier(user_email="regular@example.net")  # already approved elsewhere
    send_comment(client, post, email="regular@example.net", comment="Held anyway.")
    comment = Comment.objects.get(comment="Held anyway.")
    assert comment.queue == "pending"
    assert comment.held_reason == "Every comment is held for a moderator."
    assert "Held anyway." not in public_page(post)


def test_first_time_mode_holds_a_newcomer(client):
    set_rules(mode=ModerationSettings.Mode.FIRST_TIME)
    post = PostFactory()
    send_comment(client, post, email="newcomer@example.net", comment="My first comment.")
    comment = Comment.objects.get()
    assert comment.queue == "pending"
    assert comment.held_reason == "First comment from this email address."
    assert "My first comment." not in public_page(post)


def test_first_time_mode_approves_an_email_with_an_approved_comment(client):
    set_rules(mode=ModerationSettings.Mode.FIRST_TIME)
    earlier(user_email="Regular@Example.net")
    post = PostFactory()
    send_comment(client, post, email="regular@example.net", comment="Welcome back.")
    assert Comment.objects.get(comment="Welcome back.").queue == "approved"
    assert "Welcome back." in public_page(post)


def test_first_time_mode_does_not_count_a_held_or_spam_comment_as_approved(client):
    set_rules(mode=ModerationSettings.Mode.FIRST_TIME)
    earlier(user_email="unknown@example.net", pending=True)
    earlier(user_email="unknown@example.net", spam=True)
    post = PostFactory()
    send_comment(client, post, email="unknown@example.net", comment="Still unknown.")
    assert Comment.objects.get(comment="Still unknown.").queue == "pending"


def test_mode_none_publishes_straight_away(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    send_comment(client, post, comment="Published at once.")
    assert Comment.objects.get().queue == "approved"
    assert "Published at once." in public_page(post)
    assert "1 Response to" in public_page(post)


def test_the_post_authors_reply_is_published_even_when_every_comment_is_held(client, author_user):
    set_rules(mode=ModerationSettings.Mode.ALL, moderation_words="council")
    post = PostFactory(author=author_user.author_profile)
    resident = CommentFactory(post=post, comment="Why did the council do this?")
    client.force_login(author_user)
    send_comment(client, post, reply_to=resident.pk, comment="The council had no choice.")
    reply = Comment.objects.get(comment="The council had no choice.")
    assert reply.queue == "approved" and reply.parent_id == resident.pk
    assert "The council had no choice." in public_page(post)


# Content rules


def test_two_links_hold_a_comment_with_the_reason(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    send_comment(client, post, comment="See https://a.example/ and https://b.example/")
    comment = Comment.objects.get()
    assert comment.queue == "pending"
    assert comment.held_reason == "Contains 2 links."
    event = comment.events.get(action=ModerationEvent.Action.HELD)
    assert event.note == "Contains 2 links." and event.actor is None


def test_one_link_passes(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    send_comment(client, post, comment="The agenda: https://barnet.moderngov.co.uk/")
    assert Comment.objects.get().queue == "approved"


@pytest.mark.parametrize(
    ("word", "fields", "ip"),
    [
        ("parking", {"name": "Parking Warden"}, "127.0.0.1"),
        ("parking", {"email": "parking.fan@example.net"}, "127.0.0.1"),
        ("parking", {"url": "https://parking.example.org/"}, "127.0.0.1"),
        ("parking", {"comment": "Free PARKING for all!"}, "127.0.0.1"),
        ("203.0.113.", {}, "203.0.113.9"),
    ],
    ids=["name", "email", "website", "text", "ip"],
)
def test_moderation_words_hold_a_comment(client, word, fields, ip):
    set_rules(mode=ModerationSettings.Mode.NONE, moderation_words=f"bins\n  {word}  \n")
    post = PostFactory()
    send_comment(client, post, ip=ip, **fields)
    comment = Comment.objects.get()
    assert comment.queue == "pending"
    assert comment.held_reason == f"Contains a moderation word (“{word}”)."
    assert comment.comment not in public_page(post)


@pytest.mark.parametrize(
    ("fields", "ip"),
    [
        ({"name": "Cheap Viagra"}, "127.0.0.1"),
        ({"email": "viagra@example.net"}, "127.0.0.1"),
        ({"url": "https://viagra.example/"}, "127.0.0.1"),
        ({"comment": "Buy viagra here"}, "127.0.0.1"),
        ({}, "198.51.100.66"),
    ],
    ids=["name", "email", "website", "text", "ip"],
)
def test_disallowed_words_make_a_comment_spam_never_shown(client, fields, ip):
    set_rules(mode=ModerationSettings.Mode.NONE, disallowed_words="viagra\n198.51.100.66")
    post = PostFactory()
    response = send_comment(client, post, ip=ip, **fields)
    comment = Comment.objects.get()
    assert comment.queue == "spam"
    assert comment.comment not in public_page(post)
    # Not even the sender sees it, nor any hint of moderation.
    own_view = text(client.get(response["Location"]))
    assert comment.comment not in own_view
    assert "awaiting moderation" not in own_view


def test_a_disallowed_word_beats_being_a_regular(client):
    set_rules(mode=ModerationSettings.Mode.NONE, disallowed_words="casino")
    earlier(user_email="regular@example.net")
    post = PostFactory()
    send_comment(client, post, email="regular@example.net", comment="Casino tonight")
    assert Comment.objects.get(comment="Casino tonight").queue == "spam"


# Closing comments (per post: see test_comments.py)


def test_comments_close_after_the_set_number_of_days(client):
    set_rules(mode=ModerationSettings.Mode.NONE, close_after_days=7)
    old = PostFactory(published_at=timezone.now() - datetime.timedelta(days=8))
    recent = PostFactory(published_at=timezone.now() - datetime.timedelta(days=6))
    response = send_comment(client, old)
    assert response.status_code == 403
    assert "Comments are closed on this post." in text(response)
    assert "Comments are closed on this post." in public_page(old)
    assert send_comment(client, recent, ip="198.51.100.1", email="b@example.net").status_code == 302
    assert list(Comment.objects.values_list("object_pk", flat=True)) == [str(recent.pk)]


def test_a_reply_page_on_a_closed_post_offers_no_form(client):
    post = PostFactory(comments_enabled=False)
    parent = CommentFactory(post=post)
    page = text(client.get(reverse("comments:reply", args=[parent.pk])))
    assert "Comments are closed on this post." in page
    assert 'class="comment-form"' not in page


# Anti-abuse


def test_a_filled_in_honeypot_is_rejected(client):
    post = PostFactory()
    response = send_comment(client, post, honeypot="http://spam.example/")
    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_a_form_sent_faster_than_anyone_can_write_is_refused(client, settings):
    settings.COMMENTS_MIN_SECONDS_TO_WRITE = 30
    post = PostFactory()
    response = send_comment(client, post)
    assert response.status_code == 400
    page = text(response)
    assert "That was quicker than anyone can write a comment." in page
    assert "This form has expired" not in page
    assert Comment.objects.count() == 0


def test_a_form_older_than_the_timeout_has_expired(client, settings):
    post = PostFactory()
    data = comment_form_data(post)
    with mock.patch("django_comments.forms.time.time", return_value=time.time() + 3 * 3600):
        response = client.post(reverse("comments:post", args=[post.pk]), data)
    assert response.status_code == 400
    assert "This form has expired. Please check your comment and post it again." in text(response)
    assert Comment.objects.count() == 0


def test_a_tampered_security_hash_is_refused(client):
    post = PostFactory()
    response = send_comment(client, post, security_hash="0" * 40)
    assert response.status_code == 400
    assert "This form has expired." in text(response)
    assert Comment.objects.count() == 0


def test_flood_control_refuses_a_second_comment_from_one_address(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    assert send_comment(client, post, email="one@example.net", comment="First").status_code == 302
    response = send_comment(Client(), post, email="two@example.net", comment="Second")
    assert response.status_code == 429
    assert "Please wait 15 seconds between comments." in text(response)
    assert list(Comment.objects.values_list("comment", flat=True)) == ["First"]


def test_flood_control_refuses_a_second_comment_from_one_email(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    send_comment(client, post, ip="198.51.100.1", comment="First")
    response = send_comment(Client(), post, ip="198.51.100.2", comment="Second")
    assert response.status_code == 429
    assert "Please wait 15 seconds" in text(response)
    assert Comment.objects.count() == 1


def test_flood_control_lets_the_next_comment_through_after_15_seconds(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    send_comment(client, post, comment="First")
    Comment.objects.update(submit_date=timezone.now() - datetime.timedelta(seconds=16))
    assert send_comment(client, post, comment="Second").status_code == 302


def test_behind_the_sites_proxy_flood_control_uses_the_residents_own_address(client, settings):
    """With a proxy in front, every request comes from the proxy: the resident's address is
    the one the proxy appended to X-Forwarded-For (earlier entries can be forged)."""
    settings.BEHIND_PROXY = True
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    url = reverse("comments:post", args=[post.pk])

    def send(forwarded_for, email):
        data = comment_form_data(post, email=email, comment=f"From {email}")
        return client.post(url, data, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert send("203.0.113.1", "a@example.net").status_code == 302
    assert send("198.51.100.9, 203.0.113.2", "b@example.net").status_code == 302
    assert send("203.0.113.1, 203.0.113.2", "c@example.net").status_code == 429
    assert sorted(Comment.objects.values_list("ip_address", flat=True)) == [
        "203.0.113.1",
        "203.0.113.2",
    ]


def test_without_a_proxy_x_forwarded_for_is_ignored(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    data = comment_form_data(post)
    client.post(reverse("comments:post", args=[post.pk]), data, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert Comment.objects.get().ip_address == "127.0.0.1"


def test_a_sixth_comment_in_a_minute_from_one_address_is_refused(client, settings):
    settings.COMMENTS_FLOOD_SECONDS = 0
    set_rules(mode=ModerationSettings.Mode.NONE)
    if time.time() % 60 > 57:  # the limit counts per clock minute: start a fresh one
        time.sleep(60 - time.time() % 60)
    post = PostFactory()
    statuses = [
        send_comment(client, post, email=f"n{n}@example.net", comment=f"Number {n}").status_code
        for n in range(5)
    ]
    assert statuses == [302] * 5
    response = send_comment(client, post, email="n5@example.net", comment="Number 5")
    assert response.status_code == 429
    assert "Too many comments from your connection just now." in text(response)
    assert Comment.objects.count() == 5
    other = send_comment(Client(), post, ip="198.51.100.9", email="x@example.net")
    assert other.status_code == 302


def test_the_same_comment_twice_is_stored_once(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    first = send_comment(client, post, comment="Same words.")
    again = send_comment(
        Client(), post, email="JANE.resident@example.net", comment="Same words.", ip="198.51.100.4"
    )
    assert again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Comment.objects.count() == 1


def test_the_same_words_from_someone_else_or_on_another_post_are_separate(client):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post, other_post = PostFactory.create_batch(2)
    send_comment(client, post, comment="I agree.")
    send_comment(Client(), post, ip="198.51.100.5", email="b@example.net", comment="I agree.")
    send_comment(Client(), other_post, ip="198.51.100.6", email="c@example.net", comment="I agree.")
    assert Comment.objects.count() == 3


# Notifications


@pytest.fixture
def moderator(db):
    user = UserFactory(username="moderator", email="moderator@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


def test_a_held_comment_emails_moderators_and_the_posts_author(
    client, moderator, author_user, django_capture_on_commit_callbacks
):
    set_rules(mode=ModerationSettings.Mode.ALL)
    UserFactory(email="bystander@example.org")  # neither a moderator nor the author
    author_user.email = "robert@example.org"
    author_user.save()
    post = PostFactory(author=author_user.author_profile, title="Parking")
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, post, name="Jane Resident", comment="Please look at this.")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["moderator@example.org", "robert@example.org"]
    assert "Parking" in message.subject
    assert "Please look at this." in message.body
    assert "Every comment is held for a moderator." in message.body
    assert "/admin/comments/comment/?queue=pending" in message.body
    assert "jane.resident@example.net" not in message.body


def test_a_published_comment_sends_no_moderation_email(
    client, moderator, django_capture_on_commit_callbacks
):
    set_rules(mode=ModerationSettings.Mode.NONE)
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, PostFactory())
    assert mail.outbox == []


def unsubscribe_path(message):
    return re.search(r"https?://[^/\s]+(/comments/unsubscribe/[^/\s]+/)", message.body).group(1)


def test_followers_hear_of_a_public_comment_and_can_unsubscribe_in_one_click(
    client, django_capture_on_commit_callbacks
):
    set_rules(mode=ModerationSettings.Mode.NONE)
    post = PostFactory(title="Parking")
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    CommentFactory(post=post, user_email="quiet@example.net", followup=False)
    CommentFactory(post=post, user_email="held@example.net", followup=True, pending=True)
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, post, followup="on", comment="A new point of view.")
    assert [m.to for m in mail.outbox] == [["follower@example.net"]]
    message = mail.outbox[0]
    assert "Parking" in message.subject
    assert "A new point of view." in message.body
    assert "jane.resident@example.net" not in message.body
    path = unsubscribe_path(message)
    assert message.extra_headers["List-Unsubscribe"].endswith(f"{path}>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page = Client().get(path)
    assert page.status_code == 200
    assert ">Unsubscribe</button>" in page.content.decode()
    assert Comment.objects.get(user_email="follower@example.net").followup is True

    done = Client().post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in text(done)
    assert Comment.objects.get(user_email="follower@example.net").followup is False

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(
            Client(), post, ip="198.51.100.7", email="later@example.net", comment="Later on."
        )
    # Only the first commenter, who ticked "notify me", hears of it now.
    assert [m.to for m in mail.outbox] == [["jane.resident@example.net"]]


def test_a_held_comment_approved_later_notifies_followers(
    client, moderator, django_capture_on_commit_callbacks
):
    set_rules(mode=ModerationSettings.Mode.ALL)
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, post, comment="Held, then approved.")
    assert [m.to for m in mail.outbox] == [[moderator.email, post.author.user.email]]

    mail.outbox.clear()
    comment = Comment.objects.get(comment="Held, then approved.")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
    # The followers hear of it, and (issue 11) so does the commenter, of the outcome.
    assert [m.to for m in mail.outbox] == [["follower@example.net"], ["jane.resident@example.net"]]
    assert "Held, then approved." in mail.outbox[0].body
    assert "has been approved and is now published" in mail.outbox[1].body
    assert "Held, then approved." in public_page(post)
    assert comment.events.filter(action=ModerationEvent.Action.APPROVED, actor=moderator).exists()

    mail.outbox.clear()  # approving again is not news
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment, by=moderator)
    assert mail.outbox == []


def test_an_expired_unsubscribe_link_says_so(client, settings):
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    long_ago = time.time() - settings.COMMENT_UNSUBSCRIBE_MAX_AGE - 60
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        token = services.unsubscribe_token("follower@example.net", post)
    path = reverse("comments:unsubscribe", args=[token])
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "This unsubscribe link has expired." in text(response)
    assert Comment.objects.get().followup is True
