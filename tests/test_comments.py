"""Reading and leaving comments, as residents and the councillor meet them on a post page:
"N Responses", the threaded discussion, posting, confirming, bad input, feeds and likes."""

import datetime
import hashlib
import re

import feedparser
import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from comments import threads
from comments.models import Comment, ModerationSettings, PostLike
from tests.factories import (
    CommentFactory,
    PostFactory,
    UserFactory,
    send_comment,
    text,
)
from tests.reading import CommentTree

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("comment_settings")]


@pytest.fixture
def publish_straight_away(settings):
    """No email confirmation and no pre-moderation: a comment is public once posted."""
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    ModerationSettings.objects.update(mode=ModerationSettings.Mode.NONE)


def comment_block(page, comment):
    """The HTML of one comment, up to the next comment (or the end of the page)."""
    start = page.index(f'id="comment-{comment.pk}"')
    following = re.compile(r'id="comment-\d+"').search(page, start + 1)
    return page[start : following.start() if following else len(page)]


def thread_chain(post, depth):
    """A root comment with a reply to it, a reply to that, … `depth` comments in all."""
    chain = [CommentFactory(post=post)]
    for _ in range(depth - 1):
        chain.append(CommentFactory(parent=chain[-1]))
    return chain


# Reading


def test_responses_heading_counts_only_comments_the_public_can_see(client):
    post = PostFactory(title="Parking charges consultation")
    CommentFactory.create_batch(2, post=post)
    for state in ("pending", "spam", "removed", "unconfirmed"):
        CommentFactory(post=post, **{state: True})
    page = text(client.get(post.get_absolute_url()))
    assert "2 Responses to “Parking charges consultation”" in page


def test_one_response_is_singular(client):
    post = PostFactory(title="Library hours")
    CommentFactory(post=post)
    assert "1 Response to “Library hours”" in text(client.get(post.get_absolute_url()))


def test_discussion_threads_five_levels_and_a_deeper_reply_joins_the_deepest(
    client, settings, publish_straight_away
):
    settings.COMMENTS_XTD_MAX_THREAD_LEVEL = 4
    post = PostFactory()
    chain = thread_chain(post, 5)
    assert [c.level for c in chain] == [0, 1, 2, 3, 4]

    response = send_comment(client, post, reply_to=chain[4].pk, comment="A reply too deep.")
    assert response.status_code == 302
    deeper = Comment.objects.get(comment="A reply too deep.")
    assert (deeper.level, deeper.parent_id, deeper.thread_id) == (4, chain[3].pk, chain[0].pk)

    tree = CommentTree(Client().get(post.get_absolute_url()).content.decode())
    assert tree.parents[chain[0].pk] is None
    for parent, reply in zip(chain, chain[1:], strict=False):
        assert tree.parents[reply.pk] == parent.pk
    assert tree.parents[deeper.pk] == chain[3].pk


def test_commenter_name_links_to_their_website_as_user_generated_content(client):
    post = PostFactory()
    CommentFactory(post=post, user_name="Mrs Angry", user_url="https://brokenbarnet.blogspot.com/")
    page = client.get(post.get_absolute_url()).content.decode()
    assert (
        '<a href="https://brokenbarnet.blogspot.com/" rel="nofollow ugc noopener">Mrs Angry</a>'
        in page
    )
    assert "target=" not in page


def test_links_in_comment_text_are_user_generated_content(client):
    post = PostFactory()
    comment = CommentFactory(post=post, comment="Minutes: https://barnet.moderngov.co.uk/")
    block = comment_block(client.get(post.get_absolute_url()).content.decode(), comment)
    assert 'href="https://barnet.moderngov.co.uk/" rel="nofollow ugc noopener"' in block


def test_names_and_text_are_shown_as_typed_never_as_markup(client):
    post = PostFactory()
    CommentFactory(
        post=post,
        user_name='<img src=x onerror="alert(1)">',
        comment="<script>alert(2)</script>\n<b>bold?</b>",
    )
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<img src=x" not in page and "<script>alert(2)" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;<br>" in page


def test_comment_permalink_lands_on_the_comment_in_its_post(client):
    post = PostFactory()
    comment = CommentFactory(post=post)
    response = client.get(reverse("comments:permalink", args=[comment.pk]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(post.get_absolute_url())
    assert location.endswith(f"#comment-{comment.pk}")
    assert "cpage" not in location
    # Its date and time on the page is that permalink.
    block = comment_block(client.get(post.get_absolute_url()).content.decode(), comment)
    assert f'href="{comment.get_absolute_url()}"' in block


def test_top_level_threads_are_paginated_50_a_page(client, settings):
    assert settings.COMMENTS_PER_PAGE == 50
    post = PostFactory()
    roots = [CommentFactory(post=post) for _ in range(51)]
    reply = CommentFactory(parent=roots[-1])

    first = client.get(post.get_absolute_url()).content.decode()
    assert all(f'id="comment-{c.pk}"' in first for c in roots[:50])
    assert f'id="comment-{roots[50].pk}"' not in first
    assert "?cpage=2#comments" in first
    assert "51 Responses" not in first  # the heading counts replies too
    assert "52 Responses" in first

    second = client.get(post.get_absolute_url(), {"cpage": 2}).content.decode()
    assert f'id="comment-{roots[50].pk}"' in second and f'id="comment-{reply.pk}"' in second
    assert f'id="comment-{roots[0].pk}"' not in second


def test_permalink_to_a_comment_on_a_later_page_lands_on_that_page(client, settings):
    settings.COMMENTS_PER_PAGE = 2
    post = PostFactory()
    roots = [CommentFactory(post=post) for _ in range(3)]
    reply = CommentFactory(parent=roots[2])
    for comment in (roots[2], reply):
        response = client.get(reverse("comments:permalink", args=[comment.pk]))
        assert response["Location"] == (f"{post.get_absolute_url()}?cpage=2#comment-{comment.pk}")
        page = client.get(response["Location"]).content.decode()
        assert f'id="comment-{comment.pk}"' in page
    assert f'id="comment-{roots[2].pk}"' not in client.get(post.get_absolute_url()).content.decode()


def test_permalink_finds_the_page_when_threads_started_at_the_same_moment(client, settings):
    settings.COMMENTS_PER_PAGE = 1
    post = PostFactory()
    moment = timezone.now() - datetime.timedelta(hours=1)
    first, second = (CommentFactory(post=post, submit_date=moment) for _ in range(2))
    location = client.get(reverse("comments:permalink", args=[second.pk]))["Location"]
    assert f"cpage=2#comment-{second.pk}" in location
    assert f'id="comment-{second.pk}"' in client.get(location).content.decode()


def test_a_bad_comments_page_number_shows_the_first_page(client, settings):
    settings.COMMENTS_PER_PAGE = 1
    post = PostFactory()
    first = CommentFactory(post=post)
    CommentFactory(post=post)
    for bad in ("0", "99", "x"):
        response = client.get(post.get_absolute_url(), {"cpage": bad})
        assert response.status_code == 200
        assert f'id="comment-{first.pk}"' in response.content.decode()


def test_the_post_authors_comments_carry_an_author_badge(client, author_user):
    post = PostFactory(author=author_user.author_profile)
    resident = CommentFactory(post=post)
    councillor = CommentFactory(parent=resident, user=author_user, user_name="Robert Rams")
    page = client.get(post.get_absolute_url()).content.decode()
    assert "badge--author" in comment_block(page, councillor)
    assert ">Author<" in comment_block(page, councillor)
    assert "badge--author" not in comment_block(page, resident)


def test_another_authors_comment_carries_no_badge(client, author_user):
    post = PostFactory()  # written by someone else
    visitor = CommentFactory(post=post, user=author_user)
    page = client.get(post.get_absolute_url()).content.decode()
    assert "badge--author" not in comment_block(page, visitor)


def test_no_email_address_or_gravatar_on_the_post_page_or_in_comment_feeds(client):
    post = PostFactory(title="Parking")
    root = CommentFactory(post=post, user_email="Secret.Resident@Example.net")
    CommentFactory(parent=root, user_email="another.secret@example.net")
    email_hash = hashlib.md5(b"secret.resident@example.net").hexdigest()  # noqa: S324
    day = post.local_date
    feeds = [
        reverse("comments:feed"),
        reverse(
            "post-comments-feed",
            kwargs={"year": day.year, "month": day.month, "day": day.day, "slug": post.slug},
        ),
    ]
    page = client.get(post.get_absolute_url()).content.decode().lower()
    for body in [page] + [client.get(url).content.decode().lower() for url in feeds]:
        assert "secret.resident@example.net" not in body
        assert "another.secret@example.net" not in body
        assert email_hash not in body
        assert "gravatar" not in body
        assert "@example.net" not in body


def test_comment_feeds_list_public_comments_by_name(client):
    post = PostFactory(title="Parking")
    other_post = PostFactory(title="Libraries")
    shown = CommentFactory(post=post, user_name="Mrs Angry", comment="Shame on the council.")
    CommentFactory(post=other_post, user_name="Another Resident")
    CommentFactory(post=post, pending=True, comment="Held back.")
    CommentFactory(post=PostFactory(draft=True), comment="On a draft.")
    day = post.local_date
    post_feed = feedparser.parse(
        client.get(
            reverse(
                "post-comments-feed",
                kwargs={"year": day.year, "month": day.month, "day": day.day, "slug": post.slug},
            )
        ).content
    )
    assert [e.title for e in post_feed.entries] == ["Mrs Angry on “Parking”"]
    assert post_feed.entries[0].link.endswith(shown.get_absolute_url())
    assert "Shame on the council." in post_feed.entries[0].description

    site_feed = feedparser.parse(client.get(reverse("comments:feed")).content)
    assert sorted(e.title for e in site_feed.entries) == [
        "Another Resident on “Libraries”",
        "Mrs Angry on “Parking”",
    ]


def test_comment_feeds_support_conditional_requests(client):
    post = PostFactory()
    newest = CommentFactory(post=post)  # like imported comments: no moderation date
    assert newest.moderated_at is None
    CommentFactory(
        post=post, submit_date=timezone.now() - datetime.timedelta(days=2), moderated_at=None
    )
    url = reverse("comments:feed")
    response = client.get(url)
    assert response["Last-Modified"] == http_date(newest.submit_date.timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    CommentFactory(post=post)
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200


def test_home_page_shows_each_posts_response_count(client):
    busy = PostFactory(title="Busy")
    quiet = PostFactory(title="Quiet")
    single = PostFactory(title="Single")
    CommentFactory.create_batch(3, post=busy)
    CommentFactory(post=busy, pending=True)
    CommentFactory(post=busy, removed=True)
    CommentFactory(post=quiet, spam=True)
    CommentFactory(post=single)
    CommentFactory(post=single, unconfirmed=True)
    page = text(client.get(reverse("posts:home")))

    def summary(post):
        start = page.index(f'id="post-{post.pk}-title"')
        return page[start : page.find("</article>", start)]

    assert "3 Responses" in summary(busy)
    assert "0 Responses" in summary(quiet)
    assert "1 Response<" in summary(single)


def test_archives_show_each_posts_response_count(client):
    post = PostFactory()
    CommentFactory.create_batch(2, post=post)
    for url in (
        reverse("posts:archive-year", kwargs={"year": post.local_date.year}),
        post.author.get_absolute_url(),
    ):
        assert "2 Responses" in text(client.get(url)), url


def add_comments(post, count):
    """`count` public comments: every fifth starts a thread, the rest reply down to level 4."""
    for n in range(count):
        if n % 5 == 0:
            last = root = CommentFactory(post=post)
        else:
            last = CommentFactory(parent=last if last.level < 4 else root)


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_post_page_queries_are_the_same_for_0_50_and_500_comments(
    client, django_assert_num_queries
):
    post = PostFactory()
    url = post.get_absolute_url()
    client.get(url)  # warm up: content types and the site are cached once per process
    expected = count_queries(client, url)
    add_comments(post, 50)
    with django_assert_num_queries(expected):
        assert "50 Responses" in client.get(url).content.decode()
    add_comments(post, 450)
    with django_assert_num_queries(expected):
        assert "500 Responses" in client.get(url).content.decode()
    with django_assert_num_queries(expected):
        client.get(url, {"cpage": 2})


def test_home_page_queries_do_not_grow_with_comments(client, django_assert_num_queries):
    posts = PostFactory.create_batch(3)
    url = reverse("posts:home")
    client.get(url)
    expected = count_queries(client, url)
    for post in posts:
        add_comments(post, 7)
    with django_assert_num_queries(expected):
        assert "7 Responses" in client.get(url).content.decode()


# Posting


def test_anonymous_resident_sees_their_comment_in_place_awaiting_moderation(client):
    post = PostFactory()
    response = send_comment(client, post, comment="The car park is always full.")
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(post.get_absolute_url())
    assert response["Location"].endswith(f"#comment-{comment.pk}")

    page = text(client.get(response["Location"]))
    assert "Your comment is awaiting moderation" in comment_block(page, comment)
    assert "The car park is always full." in page
    assert "0 Responses" in page

    stranger = text(Client().get(post.get_absolute_url()))
    assert "The car park is always full." not in stranger
    assert "awaiting moderation" not in stranger


def confirmation_path(message):
    return re.search(r"https?://[^/\s]+(/comments/confirm/[^/\s]+/)", message.body).group(1)


def test_anonymous_comment_is_confirmed_by_email_then_held_for_first_time_commenters(
    client, django_capture_on_commit_callbacks
):
    assert ModerationSettings.current().mode == ModerationSettings.Mode.FIRST_TIME
    post = PostFactory(title="Parking")
    with django_capture_on_commit_callbacks(execute=True):
        send_comment(client, post, comment="Please confirm me.")
    comment = Comment.objects.get()
    assert comment.queue == "unconfirmed"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["jane.resident@example.net"]
    assert "Parking" in message.body

    path = confirmation_path(message)
    confirm_page = Client().get(path)
    assert confirm_page.status_code == 200
    assert "Confirm my comment" in text(confirm_page)
    assert "Please confirm me." in text(confirm_page)
    comment.refresh_from_db()
    assert comment.queue == "unconfirmed"  # opening the link (or a mail scanner) is not enough

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.queue == "pending"
    assert comment.held_reason == "First comment from this email address."

    assert "Your comment is awaiting moderation" in text(client.get(response["Location"]))
    assert "Please confirm me." not in text(Client().get(post.get_absolute_url()))


def test_signed_in_users_comment_skips_email_confirmation(
    client, django_capture_on_commit_callbacks
):
    ModerationSettings.objects.update(mode=ModerationSettings.Mode.NONE)
    user = UserFactory(first_name="Sam", last_name="Jones", email="sam@example.org")
    client.force_login(user)
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = send_comment(
            client, post, name=None, email=None, comment="Signed in and posting."
        )
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.confirmed and comment.is_visible
    assert (comment.user, comment.user_name, comment.user_email) == (
        user,
        "Sam Jones",
        "sam@example.org",
    )
    assert not [m for m in mail.outbox if "sam@example.org" in m.to]
    assert "Signed in and posting." in text(Client().get(post.get_absolute_url()))


def test_signed_in_users_cannot_post_under_someone_elses_name(client):
    user = UserFactory(first_name="Sam", last_name="Jones")
    client.force_login(user)
    post = PostFactory()
    send_comment(client, post, name="The Mayor", email="mayor@example.org")
    comment = Comment.objects.get()
    assert (comment.user_name, comment.user_email) == ("Sam Jones", user.email)


def test_a_signed_in_user_with_a_long_name_can_comment(client):
    user = UserFactory(
        first_name="Alexandra Wilhelmina Josephine Theodora", last_name="Fortescue-Smythe"
    )
    client.force_login(user)
    post = PostFactory()
    assert send_comment(client, post, comment="Long names too.").status_code == 302
    comment = Comment.objects.get()
    assert comment.user_name == user.get_full_name()[:50]


def test_preview_shows_the_rendered_comment_and_stores_nothing(client):
    post = PostFactory()
    response = send_comment(
        client,
        post,
        comment="First paragraph.\n\nSee https://example.org/ <b>now</b>",
        preview="Preview",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "How your comment will look" in page
    assert "<p>First paragraph.</p>" in page
    assert '<a href="https://example.org/" rel="nofollow ugc noopener">' in page
    assert "&lt;b&gt;now&lt;/b&gt;" in page  # typed markup is shown as text, not obeyed
    assert Comment.objects.count() == 0


def test_remember_me_sets_a_cookie_only_when_ticked_and_fills_in_the_form_next_time(client):
    post = PostFactory()
    response = send_comment(client, post, email="first@example.net", comment="Not remembered.")
    assert "bb_commenter" not in response.cookies

    response = send_comment(
        client,
        post,
        name="Jane Resident",
        email="jane.resident@example.net",
        url="https://jane.example.org/",
        comment="Remember me, please.",
        remember="on",
        ip="198.51.100.2",
    )
    assert response.status_code == 302
    cookie = response.cookies["bb_commenter"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"

    page = client.get(post.get_absolute_url()).content.decode()
    assert 'value="Jane Resident"' in page
    assert 'value="jane.resident@example.net"' in page
    assert 'value="https://jane.example.org/"' in page
    assert 'value="Jane Resident"' not in Client().get(post.get_absolute_url()).content.decode()

    # Posting later without the tick forgets the details.
    response = send_comment(client, post, email="later@example.net", ip="198.51.100.4")
    assert response.cookies["bb_commenter"]["max-age"] == 0
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'value="Jane Resident"' not in page


def test_follow_up_choice_is_stored(client):
    post = PostFactory()
    send_comment(client, post, comment="Tell me about replies.", followup="on")
    send_comment(
        client,
        post,
        email="quiet@example.net",
        comment="Do not tell me.",
        ip="198.51.100.3",
    )
    assert Comment.objects.get(comment="Tell me about replies.").followup is True
    assert Comment.objects.get(comment="Do not tell me.").followup is False


def test_reply_page_offers_the_form_for_that_comment(client, publish_straight_away):
    post = PostFactory()
    parent = CommentFactory(post=post, user_name="Mrs Angry", comment="What about Friern?")
    page = text(client.get(reverse("comments:reply", args=[parent.pk])))
    assert "Reply to Mrs Angry" in page
    assert "What about Friern?" in page
    assert f'name="reply_to" value="{parent.pk}"' in page

    on_post_page = text(client.get(post.get_absolute_url(), {"replytocom": parent.pk}))
    assert f'name="reply_to" value="{parent.pk}"' in on_post_page

    send_comment(client, post, reply_to=parent.pk, comment="Friern too.")
    assert Comment.objects.get(comment="Friern too.").parent_id == parent.pk


# Bad input: a clear error, nothing stored, never a 500


def assert_refused(response, message, status=400):
    assert response.status_code == status
    page = text(response)
    assert "There is a problem with your comment" in page
    assert message in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "", "email": "", "comment": ""}, "This field is required."),
        ({"comment": "   "}, "Comment: This field is required."),
        ({"comment": "x" * 3001}, "Your comment is 3001 characters long; the limit is 3000."),
        ({"name": "Jane\x00Resident"}, "Null characters are not allowed."),
        ({"comment": "Hello\x00there"}, "Null characters are not allowed."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"url": "javascript:alert(1)"}, "Enter a web address starting with http:// or https://."),
        ({"url": "ftp://files.example.org/"}, "Enter a web address starting with"),
        ({"reply_to": "not-a-number"}, "Enter a whole number."),
    ],
)
def test_bad_input_gets_a_clear_error_and_stores_nothing(client, fields, message):
    post = PostFactory()
    response = send_comment(client, post, **fields)
    assert_refused(response, message)
    assert Comment.objects.count() == 0


def test_a_comment_of_exactly_3000_characters_is_kept_whole(client):
    post = PostFactory()
    body = ("Word " * 600)[:2999] + "!"
    assert len(body) == 3000
    assert send_comment(client, post, comment=body).status_code == 302
    assert Comment.objects.get().comment == body


@pytest.mark.parametrize("state", ["pending", "removed", "spam", "unconfirmed", "other post"])
def test_a_reply_to_a_comment_that_is_not_public_on_this_post_is_refused(client, state):
    post = PostFactory()
    if state == "other post":
        parent = CommentFactory(post=PostFactory())
    else:
        parent = CommentFactory(post=post, **{state: True})
    before = Comment.objects.count()
    response = send_comment(client, post, reply_to=parent.pk, comment="A reply.")
    assert_refused(response, "The comment you are replying to is not available.")
    assert Comment.objects.count() == before
    # The form offers to post it as a new comment instead: the refused parent is dropped.
    assert re.search(r'<input type="hidden" name="reply_to" id="id_reply_to">', text(response))
    assert "A reply." in text(response)


def test_a_reply_to_a_missing_comment_is_refused(client):
    post = PostFactory()
    response = send_comment(client, post, reply_to=987654, comment="A reply.")
    assert_refused(response, "The comment you are replying to is not available.")
    assert Comment.objects.count() == 0


def test_comments_closed_on_a_post_are_refused_with_a_message(client):
    post = PostFactory(comments_enabled=False)
    CommentFactory(post=post)
    response = send_comment(client, post)
    assert response.status_code == 403
    assert "Comments are closed on this post." in text(response)
    assert Comment.objects.count() == 1
    page = text(client.get(post.get_absolute_url()))
    assert "Comments are closed on this post." in page
    assert 'class="comment-form"' not in page


def test_comments_closed_after_n_days_are_refused_with_a_message(client):
    ModerationSettings.objects.update(close_after_days=30)
    post = PostFactory(published_at=timezone.now() - datetime.timedelta(days=31))
    response = send_comment(client, post)
    assert response.status_code == 403
    assert "Comments are closed on this post." in text(response)
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_commenting_on_an_unpublished_post_is_not_found(client, trait):
    post = PostFactory(**{trait: True})
    assert send_comment(client, post).status_code == 404
    assert Comment.objects.count() == 0


def test_the_comment_form_only_accepts_post(client):
    post = PostFactory()
    assert client.get(reverse("comments:post", args=[post.pk])).status_code == 405


# Likes


def like(client, post, **data):
    return client.post(reverse("comments:like", args=[post.pk]), data)


def test_likes_show_a_count_and_a_like_button_that_is_a_post_form(client):
    post = PostFactory()
    page = text(client.get(post.get_absolute_url()))
    assert "0 people like this" in page
    form = re.search(r'<form method="post" action="([^"]+)" class="like-form">', page)
    assert form and form.group(1) == reverse("comments:like", args=[post.pk])

    response = like(client, post)
    assert response.status_code == 302 and response["Location"].endswith("#likes")
    page = text(client.get(post.get_absolute_url()))
    assert "1 person likes this" in page
    assert 'aria-pressed="true"' in page


def test_liking_twice_from_one_browser_counts_once_and_another_browser_counts_again(client):
    post = PostFactory()
    like(client, post)
    like(client, post)
    assert PostLike.objects.filter(post=post).count() == 1
    like(Client(), post)
    assert PostLike.objects.filter(post=post).count() == 2
    assert "2 people like this" in text(client.get(post.get_absolute_url()))


def test_a_signed_in_users_like_is_per_account(client):
    post = PostFactory()
    user = UserFactory()
    client.force_login(user)
    like(client, post)
    elsewhere = Client()
    elsewhere.force_login(user)
    like(elsewhere, post)
    assert list(PostLike.objects.values_list("user", flat=True)) == [user.pk]


def test_unlike_takes_the_like_back(client):
    post = PostFactory()
    like(client, post)
    like(client, post, action="unlike")
    assert PostLike.objects.count() == 0
    assert "0 people like this" in text(client.get(post.get_absolute_url()))


def test_likes_are_rate_limited(client):
    post = PostFactory()
    statuses = [like(client, post, action="unlike" if n % 2 else "").status_code for n in range(21)]
    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429
    assert "Too many likes" in text(like(Client(), post))


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_likes_on_an_unpublished_post_are_not_found(client, trait):
    post = PostFactory(**{trait: True})
    assert like(client, post).status_code == 404
    assert PostLike.objects.count() == 0


def test_the_thread_shows_each_comment_as_the_comment_model_would(db):
    """The thread is read with SQL of its own (comments/threads.py): what it shows of each
    comment (the commenter's name, dates, state, the rule a removal cites) is what the
    model says, for anonymous and signed-in commenters alike."""
    post = PostFactory()
    named = UserFactory(username="priya", first_name="Priya", last_name="Shah")
    unnamed = UserFactory(username="jbloggs", first_name="", last_name="")
    comments = [
        CommentFactory(post=post, user_name="Ann Other"),
        CommentFactory(post=post, user=named, user_name="Someone else"),
        CommentFactory(post=post, user=unnamed, user_name=""),
        CommentFactory(post=post, user=unnamed, user_name="Joe B."),
    ]
    comments.append(CommentFactory(post=post, parent=comments[0], removed=True))
    found = threads.discussion(post)
    shown = {}
    stack = list(found.tops)
    while stack:
        node = stack.pop()
        shown[node.comment.pk] = node.comment
        stack.extend(node.children)
    assert set(shown) == {c.pk for c in comments}
    for comment in Comment.objects.filter(pk__in=shown):
        row = shown[comment.pk]
        assert row.name == comment.name
        assert row.submit_date == comment.submit_date and timezone.is_aware(row.submit_date)
        assert row.moderated_at == comment.moderated_at
        assert (row.is_visible, row.is_removed, row.level) == (
            comment.is_visible,
            comment.is_removed,
            comment.level,
        )
        rule = comment.removal_rule
        assert (row.removal_rule and row.removal_rule.number) == (rule and rule.number)
    assert [c.name for c in comments[:4]] == ["Ann Other", "Priya Shah", "jbloggs", "Joe B."]
    assert (found.public_count, found.like_count) == (4, 0)


def test_a_comments_time_is_shown_in_london_time_with_two_digit_hours(client):
    """`comments/rendering.py` writes the date as the template's `j F Y \\a\\t H:i` did, in
    Europe/London: summer time, winter time, and hours before ten with their leading zero."""
    post = PostFactory(published_at=datetime.datetime(2026, 1, 2, 9, tzinfo=datetime.UTC))
    summer = CommentFactory(post=post)
    winter = CommentFactory(post=post)
    Comment.objects.filter(pk=summer.pk).update(
        submit_date=datetime.datetime(2026, 7, 1, 7, 5, tzinfo=datetime.UTC)
    )
    Comment.objects.filter(pk=winter.pk).update(
        submit_date=datetime.datetime(2026, 12, 24, 23, 59, tzinfo=datetime.UTC)
    )
    html = client.get(post.get_absolute_url()).content.decode()
    assert '<time datetime="2026-07-01T08:05:00+01:00">1 July 2026 at 08:05</time>' in html
    assert '<time datetime="2026-12-24T23:59:00+00:00">24 December 2026 at 23:59</time>' in html
