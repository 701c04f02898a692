"""The page cache for anonymous readers (core/pagecache.py): the same bytes for everyone,
served without touching the database, made afresh after any change a reader could see, and
never for a reader with something of their own on the page.

Writes run inside `committed()`: the on-commit hooks that invalidate the cache run as they
would after a real commit.
"""

import datetime
import gzip
import io
import re
import threading
import time

import brotli
import pytest
from django.contrib.flatpages.models import FlatPage
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.models import Comment, HouseRule, ModerationSettings, PostLike
from comments.views import OWN_COMMENTS_COOKIE, REMEMBER_COOKIE, VISITOR_COOKIE
from core import pagecache, sql
from posts import pagedata
from posts.models import Post
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    UserFactory,
    comment_form_data,
    text,
    unsigned,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache", "comment_settings")]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block of writes as if it were committed: its on-commit hooks run at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def post(committed):
    with committed():
        return PostFactory(title="Library opening hours", body="Longer hours from May.")


def get(url, client=None, **headers):
    return (client or Client()).get(url, **headers)


def cache_state(response):
    return response.headers.get("X-Page-Cache")


def test_a_second_reader_gets_the_same_bytes_without_the_database(post, django_assert_num_queries):
    first = get(post.get_absolute_url())
    assert cache_state(first) == "miss"
    with django_assert_num_queries(0):
        second = get(post.get_absolute_url())
    assert cache_state(second) == "hit"
    assert second.content == first.content
    assert "Library opening hours" in text(second)


@pytest.mark.parametrize(
    "url",
    ["/", "archive", "/feed/", "/feed/atom/", "/comments/feed/", "/search/?q=library", "/about/"],
)
def test_every_kind_of_public_page_is_cached(post, url, django_assert_num_queries):
    if url == "archive":
        url = reverse("posts:archive-year", args=[post.local_date.year])
    assert cache_state(get(url)) == "miss"
    with django_assert_num_queries(0):
        assert cache_state(get(url)) == "hit"


def test_cached_pages_have_headers_a_proxy_can_use(post):
    get(post.get_absolute_url())
    response = get(post.get_absolute_url())
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in response.headers["Cache-Control"]
    assert response.headers["Vary"] == "Cookie, Accept-Encoding"
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Last-Modified"]
    assert not response.cookies and "Set-Cookie" not in response.headers


def test_a_conditional_get_of_a_cached_page_is_a_304(post):
    etag = get(post.get_absolute_url()).headers["ETag"]
    response = get(post.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    modified = get(post.get_absolute_url()).headers["Last-Modified"]
    assert get(post.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=modified).status_code == 304


def test_fresh_pages_answer_conditional_gets_too(post):
    signed_in = Client()
    signed_in.force_login(UserFactory())
    first = signed_in.get(post.get_absolute_url())
    again = signed_in.get(post.get_absolute_url(), HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert cache_state(first) is None
    assert again.status_code in (200, 304)  # the CSRF token is masked afresh each time


@pytest.mark.parametrize(
    ("accept", "encoding", "decompress"),
    [
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("br;q=0, gzip", "gzip", gzip.decompress),
        ("", None, lambda body: body),
    ],
)
def test_pages_are_stored_compressed_and_sent_as_the_browser_accepts(
    post, accept, encoding, decompress
):
    plain = get(post.get_absolute_url()).content
    for _ in range(2):  # the miss and the hit
        response = get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING=accept)
        assert response.headers.get("Content-Encoding") == encoding
        assert decompress(response.content) == plain


def test_a_page_over_a_few_hundred_bytes_is_much_smaller_gzipped(committed):
    with committed():
        post = PostFactory(body="\n\n".join(["The council met on Tuesday."] * 200))
    plain = get(post.get_absolute_url()).content
    zipped = get(post.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip").content
    assert len(zipped) * 4 < len(plain)


# --- Invalidation: every change a reader could see -----------------------------------------


def test_publishing_a_draft_shows_it_on_the_next_request(committed):
    with committed():
        draft = PostFactory(draft=True, title="Budget consultation")
    assert "Budget consultation" not in text(get("/"))
    with committed():
        draft.publish()
    response = get("/")
    assert cache_state(response) == "miss"
    assert "Budget consultation" in text(response)


def test_editing_and_unpublishing_a_post_change_its_page_at_once(post, committed):
    get(post.get_absolute_url())
    with committed():
        post.title = "Library opening hours extended"
        post.save()
    assert "Library opening hours extended" in text(get(post.get_absolute_url()))
    with committed():
        post.unpublish()
    assert get(post.get_absolute_url()).status_code == 404
    assert "Library opening hours" not in text(get("/"))


def test_a_scheduled_post_appears_at_its_time_with_no_write(committed):
    with committed():
        PostFactory(title="Already out")
        soon = PostFactory(
            title="Scheduled for later",
            published_at=timezone.now() + datetime.timedelta(seconds=2),
        )
    page = get("/")
    assert "Scheduled for later" not in text(page)
    assert int(page.headers["Cache-Control"].split("max-age=")[1].split(",")[0]) <= 2
    assert cache_state(get("/")) == "hit"
    time.sleep(max(0.0, (soon.published_at - timezone.now()).total_seconds()) + 0.3)
    assert "Scheduled for later" in text(get("/"))


def test_comments_close_after_n_days_with_no_write(committed):
    with committed():
        ModerationSettings.objects.update(close_after_days=3)
        ModerationSettings.current().save()
        post = PostFactory(
            published_at=timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(seconds=2)
        )
    assert "Leave a Reply" in text(get(post.get_absolute_url()))
    time.sleep(2.3)
    page = text(get(post.get_absolute_url()))
    assert "Comments are closed on this post." in page
    assert "Leave a Reply" not in page


@pytest.fixture
def held(post, committed):
    with committed():
        return CommentFactory(post=post, pending=True, comment="The library needs a lift.")


def test_approving_removing_and_restoring_a_comment_show_at_once(post, held, committed):
    moderator = UserFactory(is_superuser=True, is_staff=True)
    assert "The library needs a lift." not in text(get(post.get_absolute_url()))
    with committed():
        services.approve(held, by=moderator)
    assert "The library needs a lift." in text(get(post.get_absolute_url()))
    assert "1 Response" in text(get("/"))
    with committed():
        held.remove(HouseRule.objects.get(number=1), by=moderator)
    page = text(get(post.get_absolute_url()))
    assert "The library needs a lift." not in page
    assert "Removed by a moderator" in page
    with committed():
        services.restore(held, by=moderator)
    assert "The library needs a lift." in text(get(post.get_absolute_url()))


def test_a_new_comment_nobody_can_see_yet_keeps_the_cache(post, committed):
    get(post.get_absolute_url())
    with committed():
        response = Client().post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post),
            REMOTE_ADDR="192.0.2.50",
        )
    assert response.status_code == 302
    assert Comment.objects.get().queue == "unconfirmed"
    assert cache_state(get(post.get_absolute_url())) == "hit"
    assert len(mail.outbox) == 1


def test_a_like_changes_the_count_every_reader_sees(post, committed):
    assert "0 people like this" in text(get(post.get_absolute_url()))
    with committed():
        liker = Client()
        assert liker.post(reverse("comments:like", args=[post.pk])).status_code == 302
    assert PostLike.objects.count() == 1
    assert "1 person likes this" in text(get(post.get_absolute_url()))


@pytest.mark.parametrize("what", ["category", "flat page", "house rule", "discussion settings"])
def test_changing_what_pages_show_around_posts_invalidates_them(post, committed, what):
    with committed():
        category = CategoryFactory(name="Libraries")
        post.categories.add(category)
    get("/")
    get("/about/")
    get("/house-rules/")
    get(post.get_absolute_url())
    with committed():
        if what == "category":
            category.name = "Libraries and museums"
            category.save()
        elif what == "flat page":
            page = FlatPage.objects.get(url="/about/")
            page.content = "A new introduction."
            page.save()
        elif what == "house rule":
            rule = HouseRule.objects.get(number=1)
            rule.title = "Be courteous"
            rule.save()
        else:
            rules = ModerationSettings.current()
            rules.close_after_days = 0
            rules.save()
    expected = {
        "category": ("/", "Libraries and museums"),
        "flat page": ("/about/", "A new introduction."),
        "house rule": ("/house-rules/", "Be courteous."),
        "discussion settings": (post.get_absolute_url(), "Comments are closed on this post."),
    }[what]
    response = get(expected[0])
    assert cache_state(response) == "miss"
    assert expected[1] in text(response)


# --- Per-reader state ----------------------------------------------------------------------


def test_a_reader_with_a_comment_awaiting_moderation_sees_it(post, committed):
    get(post.get_absolute_url())  # the shared copy
    author = Client()
    with committed():
        response = author.post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, comment="Mine, still held."),
            REMOTE_ADDR="192.0.2.51",
        )
    assert OWN_COMMENTS_COOKIE in response.cookies
    mine = author.get(response["Location"])
    assert cache_state(mine) is None
    assert "Mine, still held." in text(mine)
    assert "awaiting moderation" in text(mine)
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert "Mine, still held." not in text(get(post.get_absolute_url()))


def test_remember_me_fills_in_the_form_for_that_reader_only(post, committed):
    reader = Client()
    with committed():
        reader.post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, remember="on", name="Priya Shah"),
            REMOTE_ADDR="192.0.2.52",
        )
    assert REMEMBER_COOKIE in reader.cookies
    page = reader.get(post.get_absolute_url())
    assert cache_state(page) is None
    assert 'value="Priya Shah"' in page.content.decode()
    assert 'value="Priya Shah"' not in get(post.get_absolute_url()).content.decode()


def test_a_reader_who_liked_a_post_sees_it_pressed(post, committed):
    reader = Client()
    with committed():
        reader.post(reverse("comments:like", args=[post.pk]))
    assert VISITOR_COOKIE in reader.cookies
    assert 'aria-pressed="true"' in reader.get(post.get_absolute_url()).content.decode()
    assert 'aria-pressed="true"' not in get(post.get_absolute_url()).content.decode()


def test_staff_and_previews_are_never_cached(post, committed, admin_client):
    with committed():
        draft = PostFactory(draft=True, title="Secret draft")
    for url in [post.get_absolute_url(), reverse("posts:preview", args=[draft.pk])]:
        for _ in range(2):
            response = admin_client.get(url)
            assert response.status_code == 200
            assert cache_state(response) is None
            assert "public" not in response.headers["Cache-Control"]
    assert "Secret draft" not in text(get(post.get_absolute_url()))
    anonymous = get(reverse("posts:preview", args=[draft.pk]))
    assert anonymous.status_code == 302  # to the admin login
    assert "public" not in anonymous.headers.get("Cache-Control", "")


def test_an_unknown_query_string_is_served_fresh_and_not_stored(post):
    for _ in range(2):
        response = get(post.get_absolute_url() + "?utm_source=paper&x=1")
        assert response.status_code == 200
        assert cache_state(response) is None
        assert response.headers["Cache-Control"] == "private, no-cache"


def test_a_response_that_sets_a_cookie_is_never_stored(post):
    reply = CommentFactory(post=post)
    url = reverse("comments:reply", args=[reply.pk])
    # The reply page has a form but sets no cookie: it may be cached. The confirmation page
    # sets the CSRF cookie: it may not.
    assert cache_state(get(url)) == "miss"
    token = services.confirmation_token(CommentFactory(post=post, unconfirmed=True))
    confirm = get(reverse("comments:confirm", args=[token]))
    assert cache_state(confirm) is None
    assert "public" not in confirm.headers["Cache-Control"]


def test_pages_are_served_from_the_database_when_the_cache_is_down(post, settings):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    for _ in range(2):
        response = get(post.get_absolute_url())
        assert response.status_code == 200
        assert "Library opening hours" in text(response)
        assert cache_state(response) is None
        assert response.headers["Cache-Control"] == "private, no-cache"


# --- Refusals are cheap --------------------------------------------------------------------


def test_a_flood_is_refused_with_a_short_429_before_any_form_is_rendered(
    post, committed, django_assert_max_num_queries
):
    with committed():
        Client().post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, comment="First."),
            REMOTE_ADDR="192.0.2.60",
        )
    with django_assert_max_num_queries(3):
        response = Client().post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, comment="Second, too soon."),
            REMOTE_ADDR="192.0.2.60",
        )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert "Nothing has been posted." in text(response)
    assert 'name="comment"' not in response.content.decode()
    assert Comment.objects.count() == 1
    assert Post.objects.count() == 1


def test_a_host_the_site_does_not_serve_is_refused_even_when_cached(post):
    get(post.get_absolute_url())
    assert get(post.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400


# --- The data cache: what uncached pages share ---------------------------------------------


@pytest.fixture
def data_cache_only(page_cache, settings):
    settings.PAGE_CACHE_ENABLED = False
    settings.PAGE_CACHE_DATA = True


@pytest.mark.usefixtures("data_cache_only")
def test_with_the_page_cache_off_shared_fragments_follow_every_change(
    post, held, committed, django_assert_num_queries
):
    first = get(post.get_absolute_url())
    assert cache_state(first) is None
    with django_assert_num_queries(0):  # the post, its neighbours, discussion and sidebar
        again = get(post.get_absolute_url())
    assert again.content == first.content
    assert "The library needs a lift." not in text(again)
    with committed():
        services.approve(held, by=UserFactory(is_superuser=True, is_staff=True))
    assert "The library needs a lift." in text(get(post.get_absolute_url()))
    with committed():
        post.title = "Library hours, again"
        post.save()
    assert "Library hours, again" in text(get(post.get_absolute_url()))


def tables_read(queries):
    """The tables named after FROM or JOIN in the captured queries (a prepared statement's
    EXECUTE read as the SQL it runs, core/sql.py)."""
    prepared = {name: text for text, (name, _) in sql._names.items()}
    texts = [
        prepared.get(q["sql"].removeprefix("EXECUTE ").split("(")[0], q["sql"]) for q in queries
    ]
    return set(re.findall(r'(?:FROM|JOIN) "(\w+)"', " ".join(texts)))


@pytest.mark.usefixtures("data_cache_only")
def test_a_comment_rebuilds_the_discussion_but_not_the_post_or_the_sidebar(post, held, committed):
    """The first render after a comment is approved (or a like) fetches the discussion
    again, not the post, its neighbours, the sidebar, the pre-election period or the lists
    of posts (only their counts of responses); an edit of the post fetches them all."""
    with committed():
        post.categories.add(CategoryFactory(name="Libraries", slug="libraries"))
    get(post.get_absolute_url())
    assert "0 Responses" in text(get("/"))
    with committed():
        services.approve(held, by=UserFactory(is_superuser=True, is_staff=True))
    with CaptureQueriesContext(connection) as after_comment:
        page = get(post.get_absolute_url())
    assert "The library needs a lift." in text(page)
    assert "comments_comment" in tables_read(after_comment)
    content_tables = {"posts_post", "posts_category", "posts_electionperiod"}
    assert not tables_read(after_comment) & content_tables
    # A list of posts is kept too: only its counts of responses are looked up again.
    with CaptureQueriesContext(connection) as home_after_comment:
        assert "1 Response<" in text(get("/"))
    assert len(home_after_comment) == 1
    assert not tables_read(home_after_comment) & content_tables
    with committed():
        post.title = "Library hours, at last"
        post.save()
    with CaptureQueriesContext(connection) as after_edit:
        page = get(post.get_absolute_url())
    assert "Library hours, at last" in text(page)
    assert content_tables <= tables_read(after_edit)


@pytest.mark.usefixtures("data_cache_only")
def test_a_reader_with_a_pending_comment_never_gets_the_shared_discussion(post, committed):
    get(post.get_absolute_url())  # the shared discussion is now kept
    author = Client()
    with committed():
        response = author.post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, comment="Only mine to see."),
            REMOTE_ADDR="192.0.2.61",
        )
    assert "Only mine to see." in text(author.get(response["Location"]))
    assert "Only mine to see." not in text(get(post.get_absolute_url()))


@pytest.mark.usefixtures("data_cache_only")
def test_lists_and_feeds_made_afresh_reuse_their_shared_part_until_a_change(
    post, held, committed, django_assert_num_queries
):
    with committed():
        category = CategoryFactory(name="Libraries", slug="libraries")
        post.categories.add(category)
    local = timezone.localtime(post.published_at)
    month = reverse("posts:archive-month", kwargs={"year": local.year, "month": local.month})
    lists = ["/", month, f"/author/{post.author.slug}/", "/category/libraries/"]
    feeds = ["/feed/", "/feed/atom/", "/comments/feed/"]
    first = {url: get(url) for url in lists + feeds}
    assert {url: r.status_code for url, r in first.items()} == dict.fromkeys(lists + feeds, 200)
    for url in lists + feeds:
        # At most the lookup of the author or category the URL names: the list is kept.
        with django_assert_num_queries(1 if url in lists[2:] else 0):
            again = get(url)
        assert again.content == first[url].content, url
    assert "0 Responses" in text(get("/"))
    with committed():
        services.approve(held, by=UserFactory(is_superuser=True, is_staff=True))
    assert "1 Response" in text(get("/"))
    assert "1 Response" in text(get("/category/libraries/"))
    assert "The library needs a lift." in get("/comments/feed/").content.decode()
    with committed():
        PostFactory(title="Swimming pool reopens", author=post.author)
    for url in ["/", month, f"/author/{post.author.slug}/", "/feed/"]:
        assert "Swimming pool reopens" in get(url).content.decode(), url


@pytest.mark.usefixtures("data_cache_only")
def test_a_reader_with_a_cookie_of_their_own_shares_the_thread_but_not_their_form(
    post, held, committed, django_assert_num_queries
):
    reader = Client()
    with committed():
        reader.post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post, remember="on", name="Priya Shah", comment="Mine."),
            REMOTE_ADDR="192.0.2.62",
        )
        services.approve(Comment.objects.get(comment="Mine."), by=UserFactory(is_staff=True))
        reader.post(reverse("comments:like", args=[post.pk]))
    reader.cookies.pop(OWN_COMMENTS_COOKIE)  # theirs is public now: nothing awaits for them
    assert {REMEMBER_COOKIE, VISITOR_COOKIE} <= set(reader.cookies)
    first = reader.get(post.get_absolute_url())
    # Only what is theirs is looked up afresh: whether they like the post.
    with django_assert_num_queries(1):
        page = reader.get(post.get_absolute_url())
    # The same page, but for the form's signed timestamp, made afresh for every render (it
    # differs whenever a second has passed between the two).
    assert unsigned(page.content) == unsigned(first.content)
    assert cache_state(page) is None
    assert 'value="Priya Shah"' in page.content.decode()
    assert 'aria-pressed="true"' in page.content.decode()
    assert "1 person likes this" in text(page)
    assert 'value="Priya Shah"' not in get(post.get_absolute_url()).content.decode()
    with committed():
        services.approve(held, by=UserFactory(is_staff=True))
    assert "The library needs a lift." in text(reader.get(post.get_absolute_url()))


def test_clear_page_cache_makes_every_page_afresh(post):
    get(post.get_absolute_url())
    assert cache_state(get(post.get_absolute_url())) == "hit"
    out = io.StringIO()
    call_command("clear_page_cache", stdout=out)
    assert "Cached pages dropped" in out.getvalue()
    assert cache_state(get(post.get_absolute_url())) == "miss"


@pytest.mark.usefixtures("data_cache_only")
def test_a_page_made_afresh_reads_the_cache_once_for_each_generation(post, monkeypatch):
    """The post, its neighbours, the sidebar, the period and the discussion are all kept:
    the request reads the two generations and nothing else, every entry coming from the
    process's own copies of entries already read under those generations (a long discussion
    is not fetched and unpickled again for every reader)."""
    get(post.get_absolute_url())
    get(post.get_absolute_url())
    store = pagecache.page_cache()
    reads = []
    inside = []  # the file cache's get_many() reads each key with get(): count the outer call
    for method in ("get", "get_many"):
        original = getattr(store, method)

        def counted(*args, _original=original, _method=method, **kwargs):
            if not inside:
                reads.append(_method)
            inside.append(_method)
            try:
                return _original(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(store, method, counted)
    monkeypatch.setattr(pagecache, "page_cache", lambda: store)
    assert "Library opening hours" in text(get(post.get_absolute_url()))
    assert reads == ["get", "get"]


@pytest.mark.usefixtures("data_cache_only")
def test_each_reader_gets_kept_data_of_their_own_to_change(db):
    """A value kept in the process's copies comes back as a new object every time, as from
    the cache itself: what one request changes, the next does not see."""
    with pagecache.request_scope():
        first = pagecache.cached("a-list", lambda: ["as built"])
        first.append("changed by the first request")
        again = pagecache.cached("a-list", lambda: ["built again"])
    assert again == ["as built"]


# --- Kept parts of pages ({% kept %}): HTML made once for a content generation ------------


@pytest.mark.usefixtures("data_cache_only")
def test_a_post_page_made_afresh_reuses_its_article_until_the_post_changes(post, committed):
    """The article and its head are kept (as HTML, with the data they are made from) for the
    content generation: a change that bypasses the models' signals (as no edit in the admin
    does) is not seen; one made through them is, in the article, the head and the JSON-LD."""
    url = post.get_absolute_url()
    first = get(url).content
    Post.objects.filter(pk=post.pk).update(title="Not through the signals")
    again = get(url).content
    assert b"Not through the signals" not in again
    assert unsigned(again) == unsigned(first)
    with committed():
        post.refresh_from_db()
        post.title = "Library hours, extended"
        post.save()
    page = get(url).content.decode()
    assert '<h1 id="post-title">Library hours, extended</h1>' in page
    assert '<meta property="og:title" content="Library hours, extended">' in page
    assert '"headline": "Library hours, extended"' in page


@pytest.mark.usefixtures("data_cache_only")
def test_a_preview_is_made_afresh_even_while_the_article_is_kept(post, admin_client):
    get(post.get_absolute_url())
    Post.objects.filter(pk=post.pk).update(title="Edited, not yet saved through the admin")
    preview = admin_client.get(reverse("posts:preview", args=[post.pk]))
    assert "Edited, not yet saved through the admin" in text(preview)
    assert "Edited, not yet saved through the admin" not in text(get(post.get_absolute_url()))


@pytest.mark.usefixtures("data_cache_only")
def test_the_kept_header_marks_the_current_page_of_the_navigation(post, committed):
    with committed():
        FlatPage.objects.get_or_create(url="/about/", defaults={"title": "About", "content": "x"})
    urls = ("/", "/about/", post.get_absolute_url())
    for _ in range(2):  # made, then kept
        pages = {url: get(url).content.decode() for url in urls}
        current = {
            url: re.findall(r'<a href="([^"]+)" aria-current="page">', html.split("</header>")[0])
            for url, html in pages.items()
        }
        assert current == {"/": ["/"], "/about/": ["/about/"], post.get_absolute_url(): []}


def header_and_footer(response):
    html = response.content.decode()
    header, footer = (
        html.index(start)
        for start in ('<header class="site-header">', '<footer class="site-footer">')
    )
    return (
        html[header : html.index("</header>", header)],
        html[footer : html.index("</footer>", footer)],
    )


def test_the_site_header_and_footer_are_made_once_per_process_as_the_template_makes_them(
    post, committed, settings
):
    """{% constant %}: with every cache off, the header and footer (which show no data, only
    settings and links) come from the process's own copies, byte for byte what the template
    makes (it renders them every time with DEBUG on), the current page marked on each; a
    changed setting shows at once."""
    settings.PAGE_CACHE_ENABLED = settings.PAGE_CACHE_DATA = False
    with committed():
        FlatPage.objects.get_or_create(url="/about/", defaults={"title": "About", "content": "x"})
    urls = ("/", "/about/", post.get_absolute_url(), f"/{post.local_date.year}/")
    kept = {url: header_and_footer(get(url)) for url in urls}
    assert kept == {url: header_and_footer(get(url)) for url in urls}
    settings.DEBUG = True
    made = {url: header_and_footer(get(url)) for url in urls}
    settings.DEBUG = False
    assert kept == made
    assert all("Accessibility statement" in footer for _, footer in kept.values())
    assert 'href="/" aria-current="page"' in kept["/"][0]
    assert 'aria-current="page"' not in kept[post.get_absolute_url()][0]
    assert 'href="/about/" aria-current="page"' in kept["/about/"][0]
    settings.SITE_NAME = "Ward Three News"
    header, footer = header_and_footer(get(post.get_absolute_url()))
    assert ">Ward Three News</a>" in header and "Ward Three News is the personal blog" in footer


@pytest.mark.usefixtures("data_cache_only")
def test_a_search_box_shows_that_search_only(post):
    assert 'value="library"' in get("/search/?q=library").content.decode()
    assert 'value="library"' not in get("/").content.decode()
    assert 'value="other"' in get("/search/?q=other").content.decode()


def test_a_new_release_never_serves_what_the_last_one_made(post, settings):
    """Entries are named by the release (templates, code and static files): after a deploy
    the first request makes the page afresh, while invalidations stay shared."""
    url = post.get_absolute_url()
    get(url)
    assert cache_state(get(url)) == "hit"
    settings.PAGE_CACHE_RELEASE = "next-release"
    pagecache.release.cache_clear()
    try:
        assert cache_state(get(url)) == "miss"
        assert cache_state(get(url)) == "hit"
    finally:
        settings.PAGE_CACHE_RELEASE = ""
        pagecache.release.cache_clear()


def test_the_release_is_named_by_the_files_that_make_pages(settings, tmp_path):
    settings.PAGE_CACHE_RELEASE = ""
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.PAGE_CACHE_RELEASE_SOURCES = ("templates",)
    (tmp_path / "templates").mkdir()
    template = tmp_path / "templates" / "base.html"
    names = []
    for body in ("<p>one</p>", "<p>one</p>", "<p>two</p>"):
        template.write_text(body)
        pagecache.release.cache_clear()
        names.append(pagecache.release())
    pagecache.release.cache_clear()
    assert names[0] == names[1] != names[2]


# --- The discussion read with the post ----------------------------------------------------


@pytest.mark.parametrize("page", ["post", "home"])
@pytest.mark.parametrize("where", ["another server", "this request"])
@pytest.mark.parametrize("mode", ["page cache", "data cache only"])
def test_a_comment_approved_while_a_page_is_made_shows_on_the_next_page(
    post, held, committed, settings, monkeypatch, mode, where, page
):
    """After an edit, a post's page reads its discussion with the post (and a list its
    posts with the site's state). A comment approved between that read and the page's end
    must not be kept out of the pages that follow: what was read is kept under the
    generation the request had read before, never a later one (so with the page cache off,
    where no generation is read before the post, the discussion is read in its own query,
    after)."""
    url = post.get_absolute_url() if page == "post" else "/"
    if mode == "data cache only":
        settings.PAGE_CACHE_ENABLED = False
    with committed():
        post.title = "Library hours, again"
        post.save()
    real_fetch = pagedata._fetch
    approved = []

    def fetch_then_approve(query, params):
        rows = real_fetch(query, params)
        if not approved:  # a moderator's approval, committed just then
            approved.append(True)
            moderator = UserFactory(is_superuser=True, is_staff=True)
            if where == "this request":
                with committed():
                    services.approve(held, by=moderator)
            else:  # its invalidation from another process, which this request knows nothing of
                services.approve(held, by=moderator)
                until = pagecache._next_deadline()  # (read here: the test's data is this thread's)
                monkeypatch.setattr(pagecache, "_next_deadline", lambda: until)
                elsewhere = threading.Thread(target=pagecache.new_generation)
                elsewhere.start()
                elsewhere.join()
        return rows

    monkeypatch.setattr(pagedata, "_fetch", fetch_then_approve)
    assert "Library hours, again" in text(get(url))
    assert approved
    after = text(get(url))
    assert "1 Response" in after
    if page == "post":
        assert "The library needs a lift." in after


def test_after_an_edit_an_anonymous_readers_page_is_one_query(post, held, committed):
    with committed():
        services.approve(held, by=UserFactory(is_superuser=True, is_staff=True))
        post.title = "Library hours, again"
        post.save()
    with CaptureQueriesContext(connection) as queries:
        page = get(post.get_absolute_url())
    assert cache_state(page) == "miss"
    assert "Library hours, again" in text(page) and "The library needs a lift." in text(page)
    assert len(queries) == 1


def test_what_a_request_read_is_not_kept_while_an_invalidation_is_owed(db, monkeypatch):
    """A request that read a generation, then finds this process owing the cache an
    invalidation (it could not write one), builds what it needs and keeps none of it: what
    it read before may predate the change."""
    with pagecache.request_scope():
        assert pagecache.cached("before", lambda: "read") == "read"
        monkeypatch.setitem(pagecache._pending_invalidation, "since", time.time())
        assert pagecache.cached("during", lambda: "built") == "built"
        monkeypatch.delitem(pagecache._pending_invalidation, "since")
        assert pagecache.cached("during", lambda: "built again") == "built again"
