"""A draft or scheduled post never reaches the public, on any surface; staff can preview it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from posts.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """One published, one draft (with a date) and one scheduled post, sharing everything."""
    author = AuthorFactory(display_name="Robert Rams", slug="robert-rams")
    category = CategoryFactory(name="Council services", slug="council-services")
    tag = TagFactory(name="budget", slug="budget")
    when = timezone.now() - datetime.timedelta(hours=2)
    common = {"author": author, "categories": [category], "tags": [tag]}
    return {
        "published": PostFactory(title="PUBLIC-POST", published_at=when, **common),
        "draft": PostFactory(
            title="SECRET-DRAFT", status=Post.Status.DRAFT, published_at=when, **common
        ),
        "scheduled": PostFactory(
            title="SECRET-SCHEDULED",
            published_at=timezone.now() + datetime.timedelta(days=2),
            **common,
        ),
        "author": author,
        "category": category,
        "tag": tag,
        "when": timezone.localtime(when),
    }


def public_listing_urls(world):
    day = world["when"]
    return [
        reverse("posts:home"),
        reverse("posts:archive-year", kwargs={"year": day.year}),
        reverse("posts:archive-month", kwargs={"year": day.year, "month": day.month}),
        reverse("posts:archive-day", kwargs={"year": day.year, "month": day.month, "day": day.day}),
        reverse("posts:category", kwargs={"slug": "council-services"}),
        reverse("posts:tag", kwargs={"slug": "budget"}),
        reverse("posts:author", kwargs={"slug": "robert-rams"}),
        reverse("about"),
    ]


def test_published_queryset_and_is_published_agree(world):
    public = set(Post.objects.published())
    for name in ("published", "draft", "scheduled"):
        post = world[name]
        assert (post in public) == post.is_published(), name
    assert public == {world["published"]}


@pytest.mark.parametrize(
    ("status", "offset_hours", "expected"),
    [
        (Post.Status.PUBLISHED, -1, True),
        (Post.Status.PUBLISHED, +1, False),
        (Post.Status.DRAFT, -1, False),
        (Post.Status.DRAFT, +1, False),
        (Post.Status.DRAFT, None, False),
    ],
)
def test_visibility_truth_table(status, offset_hours, expected):
    when = None if offset_hours is None else timezone.now() + datetime.timedelta(hours=offset_hours)
    post = PostFactory(status=status)
    Post.objects.filter(pk=post.pk).update(published_at=when)  # bypass save()'s defaults
    post.refresh_from_db()
    assert post.is_published() is expected
    assert Post.objects.published().filter(pk=post.pk).exists() is expected


def test_draft_and_scheduled_posts_appear_on_no_public_page(client, world):
    for url in public_listing_urls(world):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "SECRET-DRAFT" not in html, url
        assert "SECRET-SCHEDULED" not in html, url
    assert "PUBLIC-POST" in client.get(reverse("posts:home")).content.decode()


def test_draft_and_scheduled_posts_are_404_at_their_addresses(client, world):
    assert client.get(world["published"].get_absolute_url()).status_code == 200
    assert client.get(world["draft"].get_absolute_url()).status_code == 404
    assert client.get(world["scheduled"].get_absolute_url()).status_code == 404


def test_sidebar_counts_and_months_ignore_unpublished_posts(client, world):
    html = client.get(reverse("posts:home")).content.decode()
    assert 'Council services</a> <span class="count">(1)</span>' in html
    scheduled_month = timezone.localtime(world["scheduled"].published_at)
    if (scheduled_month.year, scheduled_month.month) != (world["when"].year, world["when"].month):
        assert scheduled_month.strftime("%B %Y") not in html


def test_archives_with_only_unpublished_posts_are_404(client):
    draft = PostFactory(draft=True)
    draft.publish(when=timezone.now() + datetime.timedelta(days=400))  # scheduled next year
    day = timezone.localtime(draft.published_at)
    assert client.get(reverse("posts:archive-year", kwargs={"year": day.year})).status_code == 404
    category = CategoryFactory()
    draft.categories.add(category)
    response = client.get(category.get_absolute_url())
    assert response.status_code == 200
    assert draft.title not in response.content.decode()


def test_the_preview_shows_drafts_and_scheduled_posts_to_their_author_only(client, world):
    for name in ("draft", "scheduled"):
        url = reverse("posts:preview", kwargs={"pk": world[name].pk})
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]

    non_staff = UserFactory(username="resident")
    client.force_login(non_staff)
    url = reverse("posts:preview", kwargs={"pk": world["draft"].pk})
    assert client.get(url).status_code == 302

    # Staff who may not edit the post (a moderator, another author) do not see it either.
    client.force_login(UserFactory(username="moderator", is_staff=True))
    assert client.get(url).status_code == 404

    client.force_login(world["draft"].author.user)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SECRET-DRAFT" in html
    assert "Draft — not public" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    scheduled = client.get(reverse("posts:preview", kwargs={"pk": world["scheduled"].pk}))
    assert "Scheduled — not public until" in scheduled.content.decode()


def test_a_scheduled_post_goes_public_when_its_time_comes(client, world):
    post = world["scheduled"]
    assert client.get(post.get_absolute_url()).status_code == 404
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    post.refresh_from_db()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert "SECRET-SCHEDULED" in client.get(reverse("posts:home")).content.decode()


def test_unpublishing_takes_a_post_off_every_public_page(client, world):
    post = world["published"]
    url = post.get_absolute_url()
    post.unpublish()
    assert client.get(url).status_code == 404
    for listing in public_listing_urls(world):
        assert "PUBLIC-POST" not in client.get(listing).content.decode(), listing
