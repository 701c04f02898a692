"""Every public page issues the same number of SQL queries for 3 posts or 60.

The expected numbers are pinned: a change that adds a query to a page must say so here.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PostFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

# Fixed day so that every post falls in the same year, month and day archives.
DAY = datetime.datetime(2011, 6, 30, 9, 0, tzinfo=datetime.UTC)

# page name -> SQL queries for an anonymous reader. Every page asks for the pre-election
# period in force (the banner) once: "banner" below. With the page cache's data on, as in
# production, that answer is kept for the generation, and a warm page asks nothing.
EXPECTED = {
    # the page of posts (with author, image and categories) with the number of posts and the
    # site's state (the banner's period, the discussion settings and the sidebar) in one
    # (posts/pagedata.py); the response counts. (A list shows no tags, and asks for none.)
    "home": 2,
    # the post with its author, picture, terms, documents and neighbours, the site's state,
    # and the discussion, its counts and the page's comments, in one (posts/pagedata.py,
    # comments/threads.py)
    "detail": 1,
    "archive-year": 2,  # as home
    "archive-month": 2,
    "archive-day": 2,
    "category": 3,  # the category, then as home
    "tag": 3,
    "author": 3,
    "flatpage": 2,  # the page, the site's state
}


def make_posts(count, image):
    author = AuthorFactory(display_name="Robert Rams", slug="robert-rams")
    categories = [CategoryFactory(slug="council-services")] + CategoryFactory.create_batch(3)
    tags = [TagFactory(slug="budget")] + TagFactory.create_batch(4)
    posts = []
    for n in range(count):
        posts.append(
            PostFactory(
                author=author,
                published_at=DAY + datetime.timedelta(minutes=n),
                categories=categories,
                tags=tags,
                image=image if n % 2 else None,
                image_alt="A picture" if n % 2 else "",
            )
        )
    return posts


def page_urls(posts):
    day = timezone.localtime(DAY)
    middle = posts[len(posts) // 2]
    return {
        "home": reverse("posts:home"),
        "detail": middle.get_absolute_url(),
        "archive-year": reverse("posts:archive-year", kwargs={"year": day.year}),
        "archive-month": reverse(
            "posts:archive-month", kwargs={"year": day.year, "month": day.month}
        ),
        "archive-day": reverse(
            "posts:archive-day", kwargs={"year": day.year, "month": day.month, "day": day.day}
        ),
        "category": reverse("posts:category", kwargs={"slug": "council-services"}),
        "tag": reverse("posts:tag", kwargs={"slug": "budget"}),
        "author": reverse("posts:author", kwargs={"slug": "robert-rams"}),
        "flatpage": reverse("about"),
    }


def count_queries(client, url):
    client.get(url)  # warm process-wide caches (the current Site), as on a running server
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize("page", EXPECTED)
def test_public_page_query_count_is_constant(client, django_assert_num_queries, page):
    image = ImageFactory()
    few = make_posts(3, image)
    small = count_queries(client, page_urls(few)[page])

    make_posts_more = [
        PostFactory(
            author=few[0].author,
            published_at=DAY + datetime.timedelta(minutes=100 + n),
            categories=list(few[0].categories.all()),
            tags=list(few[0].tags.all()),
            image=image if n % 2 else None,
            image_alt="A picture" if n % 2 else "",
        )
        for n in range(57)
    ]
    assert len(few) + len(make_posts_more) == 60
    url = page_urls(few + make_posts_more)[page]
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert small == EXPECTED[page], f"{page}: {small} queries"
