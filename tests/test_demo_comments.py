"""`load_demo` gives the demo its discussion: the seed post's two responses, a long threaded
discussion with a removed comment, two comments waiting for a moderator, and a moderator."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from comments.demo import COUNCILLOR_REPLY, MRS_ANGRY
from comments.models import Comment, ModerationEvent
from posts.demo import DEMO_PASSWORD
from posts.models import Post
from tests.reading import CommentTree

pytestmark = pytest.mark.django_db

SEED_SLUG = "back-office-and-customer-service-project-given-the-green-light"
DISCUSSION_SLUG = "parking-charges-consultation-opens"


def article_of(html, comment):
    """The HTML of one comment's own article (not its replies)."""
    start = html.index(f'id="comment-{comment.pk}"')
    return html[start : html.index("</article>", start)]


@pytest.fixture
def demo():
    call_command("load_demo")
    return {
        "seed": Post.objects.get(slug=SEED_SLUG),
        "discussion": Post.objects.get(slug=DISCUSSION_SLUG),
    }


def test_load_demo_twice_adds_nothing_the_second_time(demo, capsys):
    counts = (
        Comment.objects.count(),
        ModerationEvent.objects.count(),
        get_user_model().objects.count(),
        Post.objects.count(),
    )
    call_command("load_demo")
    assert (
        Comment.objects.count(),
        ModerationEvent.objects.count(),
        get_user_model().objects.count(),
        Post.objects.count(),
    ) == counts
    output = capsys.readouterr().out
    assert "Demo comments are already loaded." in output
    for username in ("robertrams", "admin", "moderator"):
        assert f" {username} / {DEMO_PASSWORD}" in output


def test_seed_post_shows_mrs_angry_and_the_councillors_reply_under_it(demo, client):
    seed = demo["seed"]
    angry, reply = Comment.objects.for_post(seed).order_by("submit_date")
    assert angry.name == "Mrs Angry, Broken Barnet blog"
    assert angry.user_url == "https://brokenbarnet.blogspot.com/"
    assert angry.user_email.endswith("@example.org")
    assert reply.user.username == "robertrams"
    assert reply.parent_id == angry.pk and reply.level == 1
    for comment in (angry, reply):
        assert comment.is_visible and comment.confirmed
        local = comment.submit_date.astimezone(seed.published_at.tzinfo)
        assert (local.year, local.month, local.day) == (2011, 6, 30)
        assert 12 <= local.hour < 22  # afternoon or evening

    html = client.get(seed.get_absolute_url()).content.decode()
    assert "2 Responses to “Back office and customer service project given the green" in html
    assert MRS_ANGRY in html
    paragraphs = COUNCILLOR_REPLY.split("\n\n")
    assert len(paragraphs) == 3
    for paragraph in paragraphs:
        assert f"<p>{paragraph}</p>" in html
    assert CommentTree(html).parents == {angry.pk: None, reply.pk: angry.pk}
    assert "badge--author" in article_of(html, reply)
    assert "badge--author" not in article_of(html, angry)
    assert 'href="https://brokenbarnet.blogspot.com/" rel="nofollow ugc noopener"' in html
    assert angry.user_email not in html


def test_long_discussion_is_threaded_four_levels_deep_around_a_removed_comment(demo, client):
    post = demo["discussion"]
    in_threads = Comment.objects.for_post(post).in_threads()
    assert 55 <= in_threads.count() <= 65
    assert max(c.level for c in in_threads) == 3
    assert in_threads.values("user_email").distinct().count() >= 12
    dates = sorted(c.submit_date for c in in_threads)
    assert dates[0] > post.published_at
    assert (dates[-1] - dates[0]).days >= 2

    (removed,) = in_threads.filter(is_removed=True)
    assert removed.removal_rule.number == 1
    assert removed.events.get().actor.username == "moderator"
    replies = in_threads.filter(parent_id=removed.pk).exclude(pk=removed.pk)
    assert replies.count() >= 2 and all(reply.is_visible for reply in replies)

    html = client.get(post.get_absolute_url()).content.decode()
    tree = CommentTree(html)
    assert set(tree.parents) == {c.pk for c in in_threads}
    assert all(tree.parents[c.pk] == (None if c.level == 0 else c.parent_id) for c in in_threads)
    assert f"{in_threads.count() - 1} Responses to" in html  # the removed one is not counted
    placeholder = article_of(html, removed)
    assert "Removed by a moderator on" in placeholder and "house rule 1" in placeholder
    assert removed.comment not in html
    assert html.count("badge--author") == in_threads.filter(user__username="robertrams").count()
    assert "@example.org" not in html


def test_two_comments_wait_in_the_pending_queue_unseen(demo, client):
    pending = Comment.objects.pending()
    assert pending.count() == 2
    for comment in pending:
        assert comment.confirmed and not comment.is_public
        assert comment.held_reason
        actions = comment.events.order_by("pk").values_list("action", flat=True)
        assert list(actions) == [ModerationEvent.Action.POSTED, ModerationEvent.Action.HELD]
        html = client.get(comment.content_object.get_absolute_url()).content.decode()
        assert comment.comment not in html


def test_moderator_signs_in_to_the_admin_and_sees_the_pending_queue(demo, client):
    moderator = get_user_model().objects.get(username="moderator")
    assert moderator.is_staff and not moderator.is_superuser and moderator.email
    assert moderator.groups.filter(name="Moderators").exists()
    # Through the admin's sign-in form, as a person does (django-axes needs the request).
    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": "moderator", "password": DEMO_PASSWORD, "next": "/admin/"},
    )
    assert signed_in.status_code == 302, signed_in.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
    queue = client.get("/admin/comments/comment/?queue=pending")
    assert queue.status_code == 200
    html = queue.content.decode()
    for comment in Comment.objects.pending():
        assert comment.name in html
