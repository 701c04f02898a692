"""The post page's data in SQL written once (posts/pagedata.py) is the ORM's own: the same
instances, values and order as select_related, prefetch_related and the neighbour queries
give, on SQLite and PostgreSQL, in one query; and the page it makes reads nothing more. The
site's state every page shows (pre-election period, discussion settings, sidebar) is one more,
or the same one when it is read with the post.
"""

import contextlib
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import pagecache
from posts import pagedata
from posts.models import Attachment, Post
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PostFactory,
    TagFactory,
    text,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def values(instance, leave_out=("search_vector",)):
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
        if f.name not in leave_out
    }


@pytest.fixture
def world():
    author = AuthorFactory(display_name="Cllr Jo Bloggs")
    at = NOW - datetime.timedelta(days=2)
    before = PostFactory(author=author, published_at=at - datetime.timedelta(hours=1))
    # Same moment as the post: neighbours by id then, as the model's methods order them.
    twin = PostFactory(author=author, published_at=at)
    post = PostFactory(
        author=author,
        published_at=at,
        title="Library opening hours",
        image=ImageFactory(),
        image_alt="The library",
        election_material=True,
        categories=[CategoryFactory(name="Zebra crossings"), CategoryFactory(name="Arts")],
        tags=[TagFactory(name="roads"), TagFactory(name="Budget")],
    )
    for title, position in (("Minutes", 2), ("Report", 1), ("Agenda", 1)):
        Attachment.objects.create(
            post=post,
            title=title,
            file=SimpleUploadedFile(f"{title}.pdf", b"%PDF-1.4 " + title.encode()),
            position=position,
        )
    after = PostFactory(author=author, published_at=at + datetime.timedelta(hours=1))
    PostFactory(author=author, draft=True)  # neither a neighbour nor found
    PostFactory(author=author, scheduled=True)
    return {"post": post, "before": before, "twin": twin, "after": after}


def orm(post):
    found = (
        Post.objects.published()
        .select_related("author", "image")
        .prefetch_related("categories", "tags", "attachments")
        .get(pk=post.pk)
    )
    return found, found.get_previous_published(), found.get_next_published()


def test_the_post_and_all_around_it_are_as_the_orm_makes_them(world):
    post = world["post"]
    day = post.local_date
    with CaptureQueriesContext(connection) as queries:
        found, previous_post, next_post = pagedata.find(
            day, day + datetime.timedelta(days=1), post.slug
        )
        categories, tags = list(found.category_list), list(found.tag_list)
        attachments = list(found.attachment_list)
        author, image = found.author, found.image
    assert len(queries) == 1
    expected, expected_previous, expected_next = orm(post)
    assert values(found) == values(expected)
    assert values(author) == values(expected.author)
    assert values(image) == values(expected.image)
    assert image.renditions and image.renditions == expected.image.renditions
    assert [values(c) for c in categories] == [values(c) for c in expected.categories.all()]
    assert [c.name for c in categories] == ["Arts", "Zebra crossings"]
    assert [values(t) for t in tags] == [values(t) for t in expected.tags.all()]
    assert [values(a) for a in attachments] == [values(a) for a in expected.attachments.all()]
    assert [a.title for a in attachments] == ["Report", "Agenda", "Minutes"]
    assert found.published_at == post.published_at and timezone.is_aware(found.published_at)
    assert found.election_material is True and found.comments_enabled is True
    assert values(previous_post, leave_out=()) == values(expected_previous, leave_out=())
    assert previous_post.pk == world["twin"].pk
    assert next_post.pk == expected_next.pk == world["after"].pk
    assert found._state.adding is False and found._state.db == "default"
    # The relations themselves still answer, from the database.
    assert list(found.categories.all()) == categories
    assert list(found.attachments.all()) == attachments


def test_a_post_with_nothing_around_it_has_empty_lists_and_no_neighbours(db):
    post = PostFactory(published_at=NOW - datetime.timedelta(days=1))
    day = post.local_date
    found, previous_post, next_post = pagedata.find(
        day, day + datetime.timedelta(days=1), post.slug
    )
    assert found.image is None
    assert list(found.category_list) == [] == list(found.attachment_list)
    assert list(found.tag_list) == []
    assert previous_post is None and next_post is None


@pytest.mark.parametrize("which", ["draft", "scheduled", "other day", "other slug"])
def test_only_a_published_post_of_that_day_and_slug_is_found(db, which):
    post = PostFactory(published_at=NOW - datetime.timedelta(days=1))
    day, slug = post.local_date, post.slug
    if which == "draft":
        Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    elif which == "scheduled":
        Post.objects.filter(pk=post.pk).update(published_at=NOW + datetime.timedelta(days=1))
    elif which == "other day":
        day -= datetime.timedelta(days=1)
    else:
        slug += "-2"
    assert pagedata.find(day, day + datetime.timedelta(days=1), slug) is None


def test_the_page_shows_what_was_found_and_asks_nothing_more_of_it(world, client):
    post = world["post"]
    page = client.get(post.get_absolute_url())
    assert page.status_code == 200
    shown = text(page)
    for words in ("Library opening hours", "Arts", "Zebra crossings", "roads", "Budget"):
        assert words in shown
    html = page.content.decode()
    assert html.index("Report") < html.index("Agenda") < html.index("Minutes")
    assert 'rel="prev"' in html and 'rel="next"' in html
    assert post.image.default_url in html


def test_the_sidebar_lists_what_the_orm_counts_in_local_months(db):
    """Categories with published posts (by name, with their numbers) and months in London
    time: a post at 23:30 UTC on 30 June is July's, in British Summer Time."""
    from posts.models import Category

    roads, arts = CategoryFactory(name="Roads"), CategoryFactory(name="Arts")
    CategoryFactory(name="Empty")
    late_june_utc = datetime.datetime(2026, 6, 30, 23, 30, tzinfo=datetime.UTC)
    PostFactory(published_at=late_june_utc, categories=[roads, arts])
    PostFactory(published_at=late_june_utc - datetime.timedelta(days=40), categories=[roads])
    PostFactory(draft=True, categories=[arts])
    PostFactory(scheduled=True, categories=[arts])
    with CaptureQueriesContext(connection) as queries:
        found = pagedata.read_site()
    assert len(queries) == 1
    expected = list(Category.objects.with_published_counts())
    assert [(c.pk, c.name, c.num_posts) for c in found.categories] == [
        (c.pk, c.name, c.num_posts) for c in expected
    ]
    assert [(c.name, c.num_posts) for c in found.categories] == [("Arts", 1), ("Roads", 2)]
    assert [values(c) for c in found.categories] == [values(c) for c in expected]
    assert found.months == list(Post.objects.published().months())
    assert [(m["month"].year, m["month"].month, m["num_posts"]) for m in found.months] == [
        (2026, 7, 1),
        (2026, 5, 1),
    ]


def test_the_site_state_has_the_period_in_force_and_the_discussion_settings(db):
    """The pre-election period in force today (London time), as `ElectionPeriod.current()`
    finds it, and the saved discussion settings, or their defaults, even with no posts."""
    from comments.models import ModerationSettings
    from posts.models import ElectionPeriod

    ModerationSettings.objects.all().delete()
    found = pagedata.read_site()
    assert found.election_period is None
    assert found.categories == [] == found.months
    assert found.settings["discussion"].pk is None
    assert values(found.settings["discussion"]) == values(ModerationSettings())

    today = timezone.localdate()
    ElectionPeriod.objects.create(
        name="Last year's", starts_on=today - datetime.timedelta(days=400),
        polling_day=today - datetime.timedelta(days=370), banner="Old",
    )  # fmt: skip
    period = ElectionPeriod.objects.create(
        name="Local elections", starts_on=today - datetime.timedelta(days=3),
        polling_day=today + datetime.timedelta(days=30), banner="**Purdah** applies",
        comment_policy=ElectionPeriod.CommentPolicy.HOLD,
    )  # fmt: skip
    rules = ModerationSettings.objects.create(close_after_days=14, hold_links=2)
    rules.refresh_from_db()
    PostFactory(categories=[CategoryFactory(name="Roads")])
    with CaptureQueriesContext(connection) as queries:
        found = pagedata.read_site()
    assert len(queries) == 1
    assert values(found.election_period) == values(ElectionPeriod.current()) == values(period)
    assert found.election_period.banner_html == period.banner_html != ""
    assert found.election_period.holds_comments
    assert values(found.settings["discussion"]) == values(rules)
    assert found.settings["discussion"].close_after_days == 14
    assert [c.name for c in found.categories] == ["Roads"] and len(found.months) == 1

    ElectionPeriod.objects.filter(pk=period.pk).update(
        polling_day=today - datetime.timedelta(days=1)
    )
    assert pagedata.read_site().election_period is None


def test_hand_written_sql_sees_what_published_sees(db):
    """`published_sql()` is `published()`'s rule: the same posts, whatever their state."""
    PostFactory(), PostFactory(draft=True), PostFactory(scheduled=True)
    PostFactory(published_at=NOW - datetime.timedelta(seconds=1))
    PostFactory(status=Post.Status.DRAFT, published_at=NOW - datetime.timedelta(days=3))
    condition, params = Post.objects.published_sql("p")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT p.id FROM posts_post p WHERE {condition}", params())  # noqa: S608
        found = {pk for (pk,) in cursor.fetchall()}
    assert found == set(Post.objects.published().values_list("pk", flat=True))
    assert len(found) == 2


@contextlib.contextmanager
def in_a_request():
    """What a request's `once_per_request` holds, as PageCacheMiddleware keeps it."""
    with pagecache.request_scope():
        yield pagecache._request.values


def test_the_site_state_read_with_the_post_is_the_state_read_alone(world):
    """After a change to the content, a post's page reads the post and the site's state in
    one query; what it reads of the site is what `read_site()` reads: the same period,
    settings, categories (in order, with counts) and months."""
    from comments.models import ModerationSettings
    from posts.models import ElectionPeriod

    post = world["post"]
    today = timezone.localdate()
    ElectionPeriod.objects.create(
        name="Local elections", starts_on=today - datetime.timedelta(days=3),
        polling_day=today + datetime.timedelta(days=30), banner="**Purdah** applies",
    )  # fmt: skip
    ModerationSettings.objects.all().delete()
    ModerationSettings.objects.create(close_after_days=9)
    PostFactory(published_at=NOW - datetime.timedelta(days=70), categories=[CategoryFactory()])
    day = post.local_date
    with in_a_request() as held, CaptureQueriesContext(connection) as queries:
        found, _, _ = pagedata.find(day, day + datetime.timedelta(days=1), post.slug)
        state = pagedata.site()  # the page's banner, sidebar and discussion ask again
    assert len(queries) == 1
    assert held["site"] is state
    alone = pagedata.read_site()
    assert values(found) == values(Post.objects.get(pk=post.pk))
    assert values(state.election_period) == values(alone.election_period)
    assert state.election_period.name == "Local elections"
    assert values(state.settings["discussion"]) == values(alone.settings["discussion"])
    assert state.settings["discussion"].close_after_days == 9
    assert [(values(c), c.num_posts) for c in state.categories] == [
        (values(c), c.num_posts) for c in alone.categories
    ]
    assert len(state.categories) == 3
    assert state.months == alone.months and len(state.months) == 2

    # A post that is not there: None, and the site's state all the same.
    with in_a_request() as held:
        assert pagedata.find(day, day + datetime.timedelta(days=1), "no-such-post") is None
        assert [c.pk for c in held["site"].categories] == [c.pk for c in alone.categories]


def test_a_request_that_has_the_site_state_reads_only_the_post(world):
    """(As on a post's first render after a comment, the site's state kept.)"""
    post = world["post"]
    day = post.local_date
    with in_a_request():
        state = pagedata.site()
        with CaptureQueriesContext(connection) as queries:
            found, _, _ = pagedata.find(day, day + datetime.timedelta(days=1), post.slug)
            assert pagedata.site() is state
    assert len(queries) == 1
    assert values(found) == values(Post.objects.get(pk=post.pk))


def summary(found):
    """What a reader sees of a page of the discussion: where it is, the counts, and each
    thread's comments with their names, dates, states and replies."""

    def node(n):
        c = n.comment
        return (
            c.pk, c.name, c.submit_date, c.is_visible, c.is_removed,
            c.removal_rule, c.moderated_at, [node(child) for child in n.children],
        )  # fmt: skip

    return (
        found.number, found.num_pages, found.public_count, found.like_count,
        [node(top) for top in found.tops],
    )  # fmt: skip


@pytest.mark.parametrize("cpage", ["", "2", "3", "99", "x"])
def test_the_discussion_read_with_the_post_is_the_discussion_read_alone(world, rf, settings, cpage):
    """After a change to the content a post's page reads its discussion with the post, in
    the same one query: the same page (a page past the last, or no page number, is page 1),
    threads, replies, removed comments in place, counts and likes as read alone."""
    from comments import threads
    from comments.models import PostLike
    from tests.factories import CommentFactory

    settings.COMMENTS_PER_PAGE = 2
    post = world["post"]
    first = CommentFactory(post=post, user_name="Ann")
    reply = CommentFactory(parent=first, user_name="Cllr Jo Bloggs")
    CommentFactory(parent=reply, removed=True)
    CommentFactory(post=post, pending=True)  # nobody's page shows it
    for n in range(3):
        CommentFactory(post=post, user_name=f"Resident {n}")
    CommentFactory(post=world["before"])  # another post's
    PostLike.objects.create(post=post, visitor="a" * 32)
    alone = summary(threads.discussion(post, cpage or 1))
    day = post.local_date
    request = rf.get(post.get_absolute_url(), {"cpage": cpage} if cpage else {})
    with in_a_request(), CaptureQueriesContext(connection) as queries:
        found, _, _ = pagedata.find(day, day + datetime.timedelta(days=1), post.slug, request)
        ahead = summary(threads.discussion(post, cpage or 1))
    assert found.pk == post.pk
    past_the_last = cpage in ("3", "99")  # asked again, for page 1, as when read alone
    assert len(queries) == (2 if past_the_last else 1)
    assert ahead == alone
    number = 2 if cpage == "2" else 1
    assert alone[:4] == (number, 2, 5, 1)  # four threads; the removed comment not counted
    names = [top[1] for top in alone[4]]
    assert names == (["Resident 1", "Resident 2"] if number == 2 else ["Ann", "Resident 0"])
    if number == 1:
        [(_, _, _, _, _, _, _, [(_, jo, _, _, _, _, _, [removed])])] = alone[4][:1]
        assert jo == "Cllr Jo Bloggs"
        assert removed[4] and removed[5].number == 1


def test_a_reader_with_a_comment_of_their_own_reads_their_discussion_alone(world, rf):
    """Read ahead, the discussion is everyone's: a reader with a comment awaiting moderation
    gets theirs, with it in place, from a query of its own."""
    from comments import threads
    from tests.factories import CommentFactory

    post = world["post"]
    CommentFactory(post=post, user_name="Ann")
    mine = CommentFactory(post=post, pending=True, user_name="Me")
    day = post.local_date
    with in_a_request(), CaptureQueriesContext(connection) as queries:
        pagedata.find(day, day + datetime.timedelta(days=1), post.slug, rf.get("/"))
        everyone = summary(threads.discussion(post))
        own = summary(threads.discussion(post, own_ids=[mine.pk]))
    assert len(queries) == 2
    assert [top[1] for top in everyone[4]] == ["Ann"]
    assert [top[1] for top in own[4]] == ["Ann", "Me"]
