"""One regression test per hazard found in django-comments-xtd's and django-contrib-comments'
defaults (see the notes in shared/notes/comment-library-hazards.md: F1–F16). Each test
states what a resident, a moderator or an attacker would otherwise see."""

import html
import re
import time
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django_comments_xtd import signed as xtd_signed

from comments import services
from comments.models import Comment, HouseRule, ModerationEvent, ModerationSettings, PostLike
from posts.models import Post
from tests.factories import (
    CommentFactory,
    PostFactory,
    UserFactory,
    comment_form_data,
    send_comment,
    text,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("comment_settings")]

SECRET_EMAIL = "secret.resident@example.net"


# F4/F5: email addresses and Gravatar


def test_no_commenter_email_or_gravatar_on_any_public_page(client):
    post = PostFactory()
    root = CommentFactory(post=post, user_email=SECRET_EMAIL, user_url="https://example.org/")
    reply = CommentFactory(parent=root, user_email="other.secret@example.net")
    pages = [
        post.get_absolute_url(),
        reverse("comments:reply", args=[root.pk]),
        reverse("comments:reply", args=[reply.pk]),
        reverse("posts:home"),
        reverse("comments:feed"),
    ]
    for url in pages:
        page = text(client.get(url)).lower()
        assert "@example.net" not in page, url
        assert "gravatar" not in page, url
        assert all("@" not in alt for alt in re.findall(r'alt="([^"]*)"', page)), url


# F4: pages that show one comment by id


@pytest.mark.parametrize("state", ["pending", "spam", "removed", "unconfirmed"])
def test_reply_page_is_not_found_for_a_comment_the_public_cannot_see(client, state):
    comment = CommentFactory(**{state: True}, comment="Not for the public.")
    response = client.get(reverse("comments:reply", args=[comment.pk]))
    assert response.status_code == 404
    assert "Not for the public." not in text(response)


@pytest.mark.parametrize("state", ["pending", "spam", "unconfirmed"])
def test_permalink_is_not_found_for_a_comment_the_public_cannot_see(client, state):
    comment = CommentFactory(**{state: True})
    assert client.get(reverse("comments:permalink", args=[comment.pk])).status_code == 404


def test_permalink_of_a_removed_comment_leads_only_to_its_placeholder(client):
    """A removed comment keeps its place (and its replies) in the thread, so an old link to
    it lands on the "removed by a moderator" placeholder, never on its text."""
    root = CommentFactory(comment="Words that broke the house rules.")
    root.remove(HouseRule.objects.get(number=1))
    response = client.get(reverse("comments:permalink", args=[root.pk]))
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "Removed by a moderator" in page
    assert "Words that broke the house rules." not in page


def test_a_comment_removed_while_pending_has_no_permalink(client):
    comment = CommentFactory(pending=True)
    comment.remove(HouseRule.objects.get(number=1))
    assert client.get(reverse("comments:permalink", args=[comment.pk])).status_code == 404


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_comments_on_an_unpublished_post_have_no_reply_page_or_permalink(client, trait):
    comment = CommentFactory(post=PostFactory(**{trait: True}))
    assert client.get(reverse("comments:reply", args=[comment.pk])).status_code == 404
    assert client.get(reverse("comments:permalink", args=[comment.pk])).status_code == 404
    # Likes likewise work only on published posts (test_comments.py).


def test_replytocom_cannot_reveal_a_pending_comment(client):
    post = PostFactory()
    pending = CommentFactory(post=post, pending=True, user_name="Hidden Person")
    page = text(client.get(post.get_absolute_url(), {"replytocom": pending.pk}))
    assert "Hidden Person" not in page
    assert f'name="reply_to" value="{pending.pk}"' not in page


# F4/F6: the libraries' own URLs are not mounted


@pytest.mark.parametrize(
    "path",
    [
        "/comments/cr/{ct}/{post}/",
        "/comments/flag/{comment}/",
        "/comments/flagged/",
        "/comments/delete/{comment}/",
        "/comments/approve/{comment}/",
        "/comments/sent/",
        "/comments/posted/?c={comment}",
        "/comments/post/",
        "/comments/mute/abc/",
        "/comments/dislike/{comment}/",
        "/comments/liked/",
        "/comments/api/posts-post/{post}/",
        "/comments/api/feedback/",
    ],
)
def test_the_comment_libraries_own_pages_do_not_exist(client, path):
    draft = PostFactory(draft=True)
    comment = CommentFactory(post=draft, pending=True)
    ct = ContentType.objects.get_for_model(Post).pk
    url = path.format(ct=ct, post=draft.pk, comment=comment.pk)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


# F3: reply_to is validated (reply to a comment that is pending, removed, spam, unconfirmed,
# on another post or missing: test_comments.py::test_a_reply_to_*). Here: no 500 and no
# half-written row whatever the number.


@pytest.mark.parametrize(
    "reply_to", ["0", "-1", "2147483648", "99999999999999999999", "1e3", " {pk} ", "{pk}.0"]
)
def test_odd_reply_to_values_never_cause_a_server_error(client, reply_to):
    post = PostFactory()
    parent = CommentFactory(post=post)
    response = send_comment(
        client, post, reply_to=reply_to.format(pk=parent.pk), comment="A reply."
    )
    assert response.status_code in (302, 400)
    assert Comment.objects.filter(thread_id=0).count() == 0
    for comment in Comment.objects.all():
        assert comment.thread_id and comment.parent_id


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "9" * 30])
def test_huge_comment_numbers_in_addresses_are_not_found_not_a_server_error(client, number):
    post = PostFactory()
    assert client.get(f"/comments/{number}/").status_code == 404
    assert client.get(f"/comments/reply/{number}/").status_code == 404
    assert client.post(f"/comments/like/{number}/").status_code == 404
    assert client.post(f"/comments/post/{number}/").status_code == 404
    assert client.get(post.get_absolute_url(), {"replytocom": number}).status_code == 200


# F1/F2: confirmation links


def confirmation_path(comment):
    return reverse("comments:confirm", args=[services.confirmation_token(comment)])


def test_confirmation_links_expire(client, settings):
    comment = CommentFactory(unconfirmed=True)
    days_ago = time.time() - settings.COMMENT_CONFIRMATION_MAX_AGE - 60
    with mock.patch("django.core.signing.time.time", return_value=days_ago):
        path = confirmation_path(comment)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "This confirmation link has expired." in text(response)
    comment.refresh_from_db()
    assert comment.queue == "unconfirmed"


def test_confirmation_replayed_after_a_moderator_deleted_the_comment_does_not_recreate_it(
    client, django_capture_on_commit_callbacks
):
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, post, comment="Deleted before confirming.")
    path = re.search(r"(/comments/confirm/[^/\s]+/)", mail.outbox[0].body).group(1)
    Comment.objects.all().delete()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "no longer available" in text(response)
    assert Comment.objects.count() == 0


def test_confirmation_of_a_removed_or_spam_comment_changes_nothing(client):
    removed = CommentFactory(unconfirmed=True)
    removed.remove(HouseRule.objects.get(number=3))
    spam = CommentFactory(unconfirmed=True)
    spam.mark_spam()
    for comment in (removed, spam):
        assert client.post(confirmation_path(comment)).status_code == 410
        comment.refresh_from_db()
        assert not comment.confirmed and not comment.is_visible


def test_confirmation_replayed_after_confirming_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    ModerationSettings.objects.update(mode=ModerationSettings.Mode.NONE)
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    comment = CommentFactory(post=post, unconfirmed=True)
    path = confirmation_path(comment)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(path)
    assert first.status_code == 302
    assert len(mail.outbox) == 1  # the follower hears of it once
    with django_capture_on_commit_callbacks(execute=True):
        again = Client().post(path)
    assert again.status_code == 302
    assert "already confirmed" in text(Client().get(path))
    assert len(mail.outbox) == 1
    assert Comment.objects.count() == 2
    comment.refresh_from_db()
    assert comment.is_visible
    assert comment.events.filter(action=ModerationEvent.Action.CONFIRMED).count() == 1
    assert comment.events.filter(action=ModerationEvent.Action.APPROVED).count() == 1


@pytest.mark.parametrize("what", ["deleted", "unpublished"])
def test_confirming_a_comment_on_a_post_that_has_gone_is_not_a_server_error(client, what):
    post = PostFactory()
    comment = CommentFactory(post=post, unconfirmed=True)
    path = confirmation_path(comment)
    if what == "deleted":
        post.delete()
    else:
        post.unpublish()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
    comment.refresh_from_db()
    assert comment.queue == "unconfirmed"


# F1: signed tokens are Django's (JSON, salted, time-stamped), never pickles


def test_confirmation_and_unsubscribe_tokens_are_djangos_signed_json():
    post = PostFactory()
    comment = CommentFactory(post=post, unconfirmed=True)
    confirm_token = services.confirmation_token(comment)
    assert signing.loads(confirm_token, salt=services.CONFIRM_SALT) == {"c": comment.pk}
    unsubscribe_token = services.unsubscribe_token("A@Example.net", post)
    assert signing.loads(unsubscribe_token, salt=services.UNSUBSCRIBE_SALT) == {
        "e": "a@example.net",
        "p": post.pk,
    }
    # A token for one purpose is no good for the other.
    with pytest.raises(signing.BadSignature):
        signing.loads(confirm_token, salt=services.UNSUBSCRIBE_SALT)


def forged_tokens(payload, salt):
    return [
        signing.dumps(payload, salt=salt, key="not-the-secret-key"),
        signing.dumps(payload, salt="some.other.salt"),
        signing.dumps(payload, salt=salt)[:-2] + "xx",
        xtd_signed.dumps(payload, extra_key=b"anything"),  # the library's pickle format
        "not-a-token",
    ]


def test_a_forged_confirmation_token_is_rejected(client):
    comment = CommentFactory(unconfirmed=True)
    for token in forged_tokens({"c": comment.pk}, services.CONFIRM_SALT):
        response = client.post(reverse("comments:confirm", args=[token]))
        assert response.status_code == 400, token
        assert "This confirmation link is not valid." in text(response)
    comment.refresh_from_db()
    assert comment.queue == "unconfirmed"


def test_a_forged_unsubscribe_token_is_rejected(client):
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    payload = {"e": "follower@example.net", "p": post.pk}
    for token in forged_tokens(payload, services.UNSUBSCRIBE_SALT):
        response = client.post(reverse("comments:unsubscribe", args=[token]))
        assert response.status_code == 400, token
        assert "This unsubscribe link is not valid." in text(response)
    assert Comment.objects.get().followup is True


# F10: double submit


def test_a_double_submitted_form_creates_one_comment_and_one_email(
    client, django_capture_on_commit_callbacks
):
    post = PostFactory()
    data = comment_form_data(post, comment="Clicked twice.")
    url = reverse("comments:post", args=[post.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
        second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Comment.objects.count() == 1
    assert len(mail.outbox) == 1  # one confirmation request


def test_a_double_submit_by_a_signed_in_user_creates_one_comment(client):
    client.force_login(UserFactory())
    post = PostFactory()
    data = comment_form_data(post, comment="Clicked twice.")
    url = reverse("comments:post", args=[post.pk])
    client.post(url, data)
    client.post(url, data)
    assert Comment.objects.count() == 1


# CSRF on every POST


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


# The comment and like forms sit on pages the page cache shares between anonymous readers,
# so they carry no CSRF token for them: an anonymous POST that a browser says comes from
# another site is refused instead (core/csrf.py). Signed-in readers need Django's token.
CROSS_SITE = [
    {"HTTP_SEC_FETCH_SITE": "cross-site"},
    {"HTTP_SEC_FETCH_SITE": "same-site"},
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_ORIGIN": "null"},
    {"HTTP_REFERER": "https://evil.example/page.html"},
]
SAME_SITE = [
    {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "http://testserver"},
    {"HTTP_ORIGIN": "http://testserver"},
    {"HTTP_REFERER": "http://testserver/2011/06/30/a-post/"},
    {},  # not a browser: no cross-site request without its victim's browser
]


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_comment_post_is_refused(csrf_client, headers):
    post = PostFactory()
    response = csrf_client.post(
        reverse("comments:post", args=[post.pk]), comment_form_data(post), **headers
    )
    assert response.status_code == 403
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("headers", SAME_SITE)
def test_a_comment_from_this_site_needs_no_token_when_anonymous(csrf_client, headers):
    post = PostFactory()
    response = csrf_client.post(
        reverse("comments:post", args=[post.pk]), comment_form_data(post), **headers
    )
    assert response.status_code == 302
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_a_cross_site_preview_and_like_are_refused(csrf_client, headers):
    post = PostFactory()
    preview = csrf_client.post(
        reverse("comments:post", args=[post.pk]),
        comment_form_data(post, preview="Preview"),
        **headers,
    )
    assert preview.status_code == 403
    assert csrf_client.post(reverse("comments:like", args=[post.pk]), **headers).status_code == 403
    assert PostLike.objects.count() == 0


def test_the_anonymous_comment_form_carries_no_token_to_share(client):
    post = PostFactory()
    response = client.get(post.get_absolute_url())
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert not response.cookies  # nothing that would make the page one reader's


def test_a_signed_in_comment_or_like_needs_the_csrf_token(csrf_client):
    csrf_client.force_login(UserFactory())
    post = PostFactory()
    same_site = {"HTTP_ORIGIN": "http://testserver"}
    url = reverse("comments:post", args=[post.pk])
    assert csrf_client.post(url, comment_form_data(post), **same_site).status_code == 403
    assert (
        csrf_client.post(reverse("comments:like", args=[post.pk]), **same_site).status_code == 403
    )
    assert Comment.objects.count() == PostLike.objects.count() == 0

    page = csrf_client.get(post.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = comment_form_data(post, csrfmiddlewaretoken=token)
    response = csrf_client.post(url, data, **same_site)
    assert response.status_code == 302
    assert Comment.objects.count() == 1


def test_confirming_needs_the_csrf_token(csrf_client):
    comment = CommentFactory(unconfirmed=True)
    assert csrf_client.post(confirmation_path(comment)).status_code == 403
    comment.refresh_from_db()
    assert comment.queue == "unconfirmed"


def test_one_click_unsubscribe_needs_no_csrf_token_but_a_valid_signed_link(csrf_client):
    """RFC 8058: mail programs POST to the link without a session, so the signed token is
    the credential (forged tokens: test_a_forged_unsubscribe_token_is_rejected)."""
    post = PostFactory()
    CommentFactory(post=post, user_email="follower@example.net", followup=True)
    token = services.unsubscribe_token("follower@example.net", post)
    response = csrf_client.post(reverse("comments:unsubscribe", args=[token]))
    assert response.status_code == 200
    assert Comment.objects.get().followup is False


def test_admin_moderation_actions_need_the_csrf_token(csrf_client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    comment = CommentFactory(pending=True)
    csrf_client.force_login(superuser)
    response = csrf_client.post(
        reverse("admin:comments_comment_changelist"),
        {"action": "approve_comments", "_selected_action": [comment.pk]},
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.queue == "pending"


# xtd unpublishes a removed comment's replies: we keep them under a placeholder


def test_removing_a_comment_keeps_its_replies_in_the_thread(client):
    post = PostFactory()
    root = CommentFactory(post=post, comment="Rude words.")
    reply = CommentFactory(parent=root, comment="A sensible reply.")
    reply_to_reply = CommentFactory(parent=reply, comment="And an answer to it.")
    moderator = UserFactory(is_staff=True)
    root.remove(HouseRule.objects.get(number=1), by=moderator)

    for comment in (reply, reply_to_reply):
        comment.refresh_from_db()
        assert comment.is_visible
    page = client.get(post.get_absolute_url()).content.decode()
    plain = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "Rude words." not in plain
    removed_on = root.moderated_at.strftime("%-d %B %Y")
    assert f"Removed by a moderator on {removed_on} under house rule 1 (be civil)." in plain
    assert "A sensible reply." in plain and "And an answer to it." in plain
    # Still threaded under the placeholder.
    placeholder = page.index(f'id="comment-{root.pk}"')
    assert (
        placeholder
        < page.index(f'id="comment-{reply.pk}"')
        < page.index(f'id="comment-{reply_to_reply.pk}"')
    )
    assert "2 Responses" in page


def test_restoring_a_removed_comment_brings_it_back_with_its_replies(client):
    post = PostFactory()
    root = CommentFactory(post=post, comment="Back again.")
    CommentFactory(parent=root, comment="A reply.")
    root.remove(HouseRule.objects.get(number=1))
    root.restore()
    page = text(client.get(post.get_absolute_url()))
    assert "Back again." in page and "A reply." in page
    assert "Removed by a moderator" not in page


def test_a_form_from_one_post_cannot_post_a_comment_on_another(client, settings):
    """The security hash signs the form's own post; the URL's post must be the same one."""
    from comments.models import Comment
    from tests.factories import PostFactory, comment_form_data

    settings.COMMENTS_MIN_SECONDS_TO_WRITE = 0
    first, second = PostFactory(), PostFactory()
    data = comment_form_data(first, comment="Meant for the first post")
    response = client.post(f"/comments/post/{second.pk}/", data)
    assert response.status_code == 400
    assert "belongs to another post" in response.content.decode()
    assert not Comment.objects.exists()
