"""A page of a list of posts in SQL written once (posts/pagedata.py, `read_list`) is the ORM's
own: the same posts in the same order as `published()…for_listing()` and a Paginator give
them, with the same values, authors, pictures and categories, and the same number of posts,
for every kind of list, on SQLite and PostgreSQL, in one query (with the site's state when it
is not kept)."""

import datetime

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import pagecache
from posts import pagedata
from posts.models import Post
from posts.views import list_page
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
PER_PAGE = 3


def values(instance, leave_out=("body", "body_html", "search_vector")):
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
        if f.name not in leave_out and f.attname not in instance.get_deferred_fields()
    }


@pytest.fixture
def world():
    jo, sam = AuthorFactory(display_name="Cllr Jo Bloggs"), AuthorFactory(display_name="Sam")
    roads, arts = CategoryFactory(name="Roads"), CategoryFactory(name="Arts")
    budget = TagFactory(name="Budget")
    picture = ImageFactory()
    day = NOW - datetime.timedelta(days=40)
    posts = []
    for n in range(8):
        posts.append(
            PostFactory(
                author=jo if n % 3 else sam,
                # Two pairs at the same moment: ordered by id then, as the model orders them.
                published_at=day + datetime.timedelta(hours=n // 2 * 5),
                image=picture if n % 2 else None,
                image_alt="A picture" if n % 2 else "",
                categories=[roads, arts] if n % 2 else [roads] if n % 3 else [],
                tags=[budget] if n % 4 == 0 else [],
                sticky=n == 1,
            )
        )
    PostFactory(author=jo, draft=True, categories=[roads], tags=[budget])
    PostFactory(author=jo, scheduled=True, categories=[roads], tags=[budget])
    local = timezone.localtime(day).date()
    return {
        "home": (pagedata.PostList("home"), Post.objects.published().order_by(
            "-sticky", "-published_at", "-pk"
        )),
        "period": (
            pagedata.PostList("period", (local, local + datetime.timedelta(days=1))),
            Post.objects.published().between_local_dates(local, local + datetime.timedelta(days=1)),
        ),
        "category": (pagedata.PostList("category", (roads.pk,)), roads.posts.published()),
        "tag": (pagedata.PostList("tag", (budget.pk,)), budget.posts.published()),
        "author": (pagedata.PostList("author", (jo.pk,)), jo.posts.published()),
    }  # fmt: skip


def seen(post):
    return (
        values(post),
        values(post.author),
        values(post.image) if post.image else None,
        [values(category) for category in post.category_list],
    )


@pytest.mark.parametrize("kind", ["home", "period", "category", "tag", "author"])
def test_each_page_of_each_list_is_the_orms(world, kind, settings):
    settings.POSTS_PER_PAGE = PER_PAGE
    post_list, queryset = world[kind]
    orm = Paginator(queryset.for_listing(), PER_PAGE, allow_empty_first_page=True)
    assert orm.count >= 1
    for number in orm.page_range:
        expected = orm.page(number)
        with pagecache.request_scope(), CaptureQueriesContext(connection) as queries:
            page = list_page(post_list, str(number))
        assert len(queries) == 1  # with the site's state
        assert [seen(post) for post in page.object_list] == [
            seen(post) for post in expected.object_list
        ]
        assert (page.number, page.paginator.count, page.paginator.num_pages) == (
            expected.number, orm.count, orm.num_pages
        )  # fmt: skip
        assert (page.has_previous(), page.has_next()) == (
            expected.has_previous(), expected.has_next()
        )  # fmt: skip


def test_the_home_page_lists_the_pinned_post_first_and_nothing_unpublished(world, settings):
    settings.POSTS_PER_PAGE = PER_PAGE
    page = list_page(world["home"][0], "1")
    assert page.object_list[0].sticky
    assert not any(post.sticky for post in page.object_list[1:])
    listed = {post.pk for post in list_page(world["home"][0], "3").object_list}
    listed |= {p.pk for n in ("1", "2") for p in list_page(world["home"][0], n).object_list}
    assert listed == set(Post.objects.published().values_list("pk", flat=True))
    assert len(listed) == 8


@pytest.mark.parametrize("number", ["4", "0", "-1", "x", "1.0", "²", "9" * 30])
def test_a_page_that_is_not_there_is_a_404_as_the_paginator_says(world, settings, number):
    from django.http import Http404

    settings.POSTS_PER_PAGE = PER_PAGE
    with pytest.raises(Http404):
        list_page(world["home"][0], number)


def test_an_empty_list_has_an_empty_first_page(db):
    page = list_page(pagedata.PostList("author", (AuthorFactory().pk,)), "1")
    assert list(page.object_list) == [] and page.paginator.count == 0
    assert page.paginator.num_pages == 1


def test_a_list_read_when_the_site_is_kept_reads_only_the_list(world, client):
    """The site's state read once for the request, with the list or before it."""
    post_list = world["author"][0]
    with pagecache.request_scope():
        state = pagedata.site()
        with CaptureQueriesContext(connection) as queries:
            page = list_page(post_list, "1")
            assert pagedata.site() is state
    assert len(queries) == 1
    assert "posts_electionperiod" not in queries[0]["sql"]
    assert page.paginator.count == 5


def test_the_home_page_shows_the_posts_with_their_categories(world, client, settings):
    settings.POSTS_PER_PAGE = PER_PAGE
    page = client.get("/")
    shown = text(page)
    first = list_page(world["home"][0], "1").object_list
    for post in first:
        assert post.title in shown
    assert "Arts" in shown and "Roads" in shown
    assert "Page 1 of 3" in shown
