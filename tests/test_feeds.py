"""RSS and Atom feeds, read the way a feed reader reads them (with feedparser).

What a subscriber notices: the latest published posts and nothing else, each with its title,
link, author, date, categories, summary and full text (with working links and pictures), its
documents as enclosures, and an identity that survives edits; per-category, per-tag and
per-author feeds; cheap polling (304 Not Modified); and pages that advertise their feeds.
"""

import datetime
import re
from urllib.parse import urlsplit

import feedparser
import pytest
from django.contrib.sites.models import Site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from posts.models import Attachment, Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

RSS, ATOM = "/feed/", "/feed/atom/"
NOW = timezone.now()

RSS_DATE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
ATOM_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def site_url():
    return f"http://{Site.objects.get_current().domain}"


def absolute(post):
    return site_url() + post.get_absolute_url()


def read(client, url, **headers):
    """Fetch and parse a feed as a reader would; the response must be a well-formed feed."""
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    # Keep relative URLs as sent: the feed itself must make them absolute.
    feed = feedparser.parse(response.content, resolve_relative_uris=False)
    assert feed.bozo == 0, f"{url}: {feed.get('bozo_exception')!r}"
    return response, feed


def attach(post, name, data, position=0):
    return Attachment.objects.create(
        post=post, title=name, file=SimpleUploadedFile(name, data), position=position
    )


def ago(minutes):
    return NOW - datetime.timedelta(minutes=minutes)


@pytest.fixture
def feed_world():
    """22 published posts a minute apart, plus a newer draft and a scheduled post."""
    author = AuthorFactory(display_name="Robert Rams", slug="robert-rams")
    posts = [
        PostFactory(title=f"Published {n:02}", published_at=ago(100 - n), author=author)
        for n in range(22)
    ]
    PostFactory(title="SECRET-DRAFT", status=Post.Status.DRAFT, published_at=ago(1))
    PostFactory(title="SECRET-SCHEDULED", published_at=NOW + datetime.timedelta(days=1))
    return posts


# --- What the feeds list ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [RSS, ATOM])
def test_feeds_list_the_latest_20_published_posts_newest_first(client, feed_world, url):
    _, feed = read(client, url)
    newest_first = sorted(feed_world, key=lambda p: p.published_at, reverse=True)
    assert [e.link for e in feed.entries] == [absolute(p) for p in newest_first[:20]]
    titles = {e.title for e in feed.entries}
    assert "SECRET-DRAFT" not in titles and "SECRET-SCHEDULED" not in titles
    assert feed.feed.title == "Barnet Blog"
    assert feed.feed.link == site_url() + "/"


def test_the_rss_feed_is_rss_2_and_the_atom_feed_is_atom_1(client, feed_world):
    rss_response, rss = read(client, RSS)
    atom_response, atom = read(client, ATOM)
    assert rss.version == "rss20"
    assert atom.version == "atom10"
    assert rss_response["Content-Type"].startswith("application/rss+xml")
    assert atom_response["Content-Type"].startswith("application/atom+xml")


@pytest.fixture
def full_post():
    """A post with everything a feed entry can carry."""
    post = PostFactory(
        title="Library opening hours",
        author=AuthorFactory(display_name="Robert Rams", slug="robert-rams"),
        excerpt="The library opens later on Saturdays.",
        body=(
            "Read [the decision](/2024/01/02/decision/) and [our rules](/house-rules/).\n\n"
            "![The library](/media/images/library.jpg)\n\n"
            "Also [the council](https://www.barnet.gov.uk/) and [elsewhere](//cdn.example/x)."
        ),
        published_at=datetime.datetime(2024, 3, 5, 14, 30, 15, tzinfo=datetime.UTC),
        categories=[CategoryFactory(name="Libraries")],
        tags=[TagFactory(name="opening hours"), TagFactory(name="Saturdays")],
    )
    attach(post, "minutes.docx", b"PK\x03\x04 minutes", position=2)
    attach(post, "report.pdf", b"%PDF-1.4 the report", position=1)
    return post


@pytest.mark.parametrize("url", [RSS, ATOM])
def test_an_entry_shows_what_a_reader_displays(client, full_post, url):
    _, feed = read(client, url)
    (entry,) = feed.entries
    assert entry.title == "Library opening hours"
    assert entry.link == absolute(full_post)
    assert entry.author == "Robert Rams"
    published = datetime.datetime(*entry.published_parsed[:6], tzinfo=datetime.UTC)
    assert published == full_post.published_at.replace(microsecond=0)
    assert sorted(t.term for t in entry.tags) == ["Libraries", "Saturdays", "opening hours"]
    assert entry.summary == "The library opens later on Saturdays."


@pytest.mark.parametrize("url", [RSS, ATOM])
def test_the_full_content_has_absolute_links_and_image_addresses(client, full_post, url):
    _, feed = read(client, url)
    (entry,) = feed.entries
    (content,) = entry.content
    html = content.value
    base = site_url()
    assert f'href="{base}/2024/01/02/decision/"' in html
    assert f'href="{base}/house-rules/"' in html
    assert f'src="{base}/media/images/library.jpg"' in html
    assert 'href="https://www.barnet.gov.uk/"' in html  # already absolute: untouched
    assert 'href="//cdn.example/x"' in html  # protocol-relative: not glued to our domain
    assert not re.search(r'(href|src)="/[^/]', html), "a root-relative URL is left"


def test_rss_carries_the_first_attachment_as_its_single_enclosure(client, full_post):
    _, feed = read(client, RSS)
    (entry,) = feed.entries
    (enclosure,) = entry.enclosures
    assert enclosure.href.startswith(site_url() + "/media/")
    assert enclosure.href.endswith("/report.pdf")
    assert enclosure.type == "application/pdf"
    assert enclosure.length == str(len(b"%PDF-1.4 the report"))


def test_atom_carries_every_attachment_as_an_enclosure(client, full_post):
    _, feed = read(client, ATOM)
    (entry,) = feed.entries
    found = [(urlsplit(e.href).path.rsplit("/", 1)[1], e.type, e.length) for e in entry.enclosures]
    assert found == [
        ("report.pdf", "application/pdf", str(len(b"%PDF-1.4 the report"))),
        (
            "minutes.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            str(len(b"PK\x03\x04 minutes")),
        ),
    ]
    for enclosure in entry.enclosures:
        assert enclosure.href.startswith(site_url() + "/media/")
        response = client.get(urlsplit(enclosure.href).path)
        assert response.status_code == 200
        assert len(b"".join(response.streaming_content)) == int(enclosure.length)


@pytest.mark.parametrize("url", [RSS, ATOM])
def test_entry_ids_are_the_posts_permanent_urn_uuid(client, feed_world, url):
    _, feed = read(client, url)
    by_link = {absolute(p): p for p in feed_world}
    for entry in feed.entries:
        assert entry.id == f"urn:uuid:{by_link[entry.link].uid}"
    assert len({e.id for e in feed.entries}) == len(feed.entries) == 20


@pytest.mark.parametrize("url", [RSS, ATOM])
def test_editing_title_body_and_slug_keeps_the_entry_id(client, url):
    post = PostFactory(title="First title", body="First body.")
    _, before = read(client, url)
    post.title, post.body, post.slug = "A better title", "A corrected body.", "a-better-title"
    post.save()
    _, after = read(client, url)
    assert after.entries[0].id == before.entries[0].id == f"urn:uuid:{post.uid}"
    assert after.entries[0].title == "A better title"
    assert after.entries[0].link == absolute(post) != before.entries[0].link


def test_rss_dates_are_rfc_822(client, feed_world):
    response, _ = read(client, RSS)
    xml = response.content.decode()
    dates = re.findall(r"<(pubDate|lastBuildDate)>([^<]*)</", xml)
    assert len(dates) == 21  # 20 items and the channel
    for tag, value in dates:
        assert RSS_DATE.match(value), (tag, value)


def test_atom_dates_are_rfc_3339(client, feed_world):
    response, _ = read(client, ATOM)
    xml = response.content.decode()
    dates = re.findall(r"<(published|updated)>([^<]*)</", xml)
    assert len(dates) == 41  # published and updated per entry, and the feed's updated
    for tag, value in dates:
        assert ATOM_DATE.match(value), (tag, value)
        assert datetime.datetime.fromisoformat(value).tzinfo is not None


def test_an_empty_blog_still_serves_valid_feeds(client):
    for url in (RSS, ATOM):
        _, feed = read(client, url)
        assert feed.entries == []


# --- Per category, tag and author ------------------------------------------------------------


@pytest.fixture
def filed():
    roads, parks = CategoryFactory(slug="roads"), CategoryFactory(slug="parks")
    potholes, trees = TagFactory(slug="potholes"), TagFactory(slug="trees")
    robert = AuthorFactory(slug="robert-rams")
    other = AuthorFactory(slug="someone-else")
    return {
        "roads": PostFactory(title="Road post", categories=[roads], tags=[potholes], author=robert),
        "parks": PostFactory(title="Park post", categories=[parks], tags=[trees], author=other),
        "draft": PostFactory(
            title="SECRET-DRAFT", categories=[roads], tags=[potholes], author=robert, draft=True
        ),
        "scheduled": PostFactory(
            title="SECRET-SCHEDULED",
            categories=[roads],
            tags=[potholes],
            author=robert,
            published_at=NOW + datetime.timedelta(days=2),
        ),
    }


@pytest.mark.parametrize(
    "url",
    ["/category/roads/feed/", "/tag/potholes/feed/", "/author/robert-rams/feed/"],
)
def test_category_tag_and_author_feeds_hold_only_their_published_posts(client, filed, url):
    _, feed = read(client, url)
    assert [e.title for e in feed.entries] == ["Road post"]
    assert feed.version == "rss20"


def test_per_term_feeds_link_back_to_their_archive(client, filed):
    for url, archive in [
        ("/category/parks/feed/", "/category/parks/"),
        ("/tag/trees/feed/", "/tag/trees/"),
        ("/author/someone-else/feed/", "/author/someone-else/"),
    ]:
        _, feed = read(client, url)
        assert [e.title for e in feed.entries] == ["Park post"]
        assert feed.feed.link == site_url() + archive


@pytest.mark.parametrize("kind", ["category", "tag", "author"])
def test_a_feed_for_an_unknown_slug_is_404(client, filed, kind):
    assert client.get(f"/{kind}/no-such-thing/feed/").status_code == 404


# --- Conditional GET -------------------------------------------------------------------------

FEED_URLS = [RSS, ATOM, "/category/roads/feed/", "/tag/potholes/feed/", "/author/robert-rams/feed/"]


@pytest.mark.parametrize("url", FEED_URLS)
def test_polling_with_the_etag_gets_304_with_no_body(client, filed, url):
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("url", FEED_URLS)
def test_polling_with_last_modified_gets_304_with_no_body(client, filed, url):
    first = client.get(url)
    assert first.status_code == 200 and first["Last-Modified"]
    again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304
    assert again.content == b""


def test_last_modified_still_gives_304_after_an_old_post_is_edited(client):
    """Editing a post that has left the feed must not make If-Modified-Since polls 200 forever."""
    posts = [PostFactory(published_at=ago(1000 - n)) for n in range(22)]
    Post.objects.update(updated_at=F("published_at"))  # written long ago, not edited since
    oldest = posts[0]
    oldest.body = "A typo fixed years later."
    oldest.save()
    first = client.get(RSS)
    again = client.get(RSS, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_different_feeds_have_different_etags(client, filed):
    etags = {client.get(url)["ETag"] for url in FEED_URLS}
    assert len(etags) == len(FEED_URLS)


def _etag_changes_after(client, change, url=RSS):
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    change()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    return feedparser.parse(response.content)


def test_editing_a_post_makes_the_old_etag_stale(client, filed):
    post = filed["roads"]

    def edit():
        post.title = "Road post, corrected"
        post.save()

    feed = _etag_changes_after(client, edit)
    assert "Road post, corrected" in [e.title for e in feed.entries]


def test_publishing_a_post_makes_the_old_etag_stale(client, filed):
    feed = _etag_changes_after(client, lambda: PostFactory(title="Brand new post"))
    assert feed.entries[0].title == "Brand new post"


def test_publishing_a_draft_makes_the_category_feeds_etag_stale(client, filed):
    feed = _etag_changes_after(client, filed["draft"].publish, url="/category/roads/feed/")
    assert "SECRET-DRAFT" in [e.title for e in feed.entries]


def test_unpublishing_a_post_makes_the_old_etag_stale(client, filed):
    feed = _etag_changes_after(client, filed["parks"].unpublish)
    assert "Park post" not in [e.title for e in feed.entries]


def test_a_scheduled_post_coming_due_makes_the_old_etag_stale(client, filed):
    def come_due():
        Post.objects.filter(pk=filed["scheduled"].pk).update(published_at=ago(1))

    feed = _etag_changes_after(client, come_due)
    assert "SECRET-SCHEDULED" in [e.title for e in feed.entries]


# --- Autodiscovery ---------------------------------------------------------------------------


def alternate_links(html):
    """{type: [href, ...]} of the <link rel="alternate"> feed links in the page head."""
    head = html.split("</head>", 1)[0]
    found = {}
    for tag in re.findall(r"<link\b[^>]*>", head):
        if 'rel="alternate"' in tag:
            kind = re.search(r'type="([^"]+)"', tag).group(1)
            found.setdefault(kind, []).append(re.search(r'href="([^"]+)"', tag).group(1))
    return found


def public_pages():
    post = PostFactory(published_at=datetime.datetime(2024, 3, 5, 12, tzinfo=datetime.UTC))
    return {
        "home": reverse("posts:home"),
        "post": post.get_absolute_url(),
        "archive": reverse("posts:archive-month", kwargs={"year": 2024, "month": 3}),
        "flatpage": reverse("about"),
        "search": reverse("posts:search") + "?q=council",
        "empty search": reverse("posts:search"),
    }


def test_every_public_page_advertises_both_site_feeds_and_a_subscribe_link(client):
    for name, url in public_pages().items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        links = alternate_links(html)
        assert links["application/rss+xml"][0] == site_url() + RSS, name
        assert links["application/atom+xml"] == [site_url() + ATOM], name
        assert re.search(r'<a href="/feed/">Subscribe\b', html), name


def test_the_advertised_feeds_are_real_feeds(client):
    html = client.get(reverse("posts:home")).content.decode()
    links = alternate_links(html)
    for kind in ("application/rss+xml", "application/atom+xml"):
        for href in links[kind]:
            response = client.get(urlsplit(href).path)
            assert response.status_code == 200
            assert response["Content-Type"].startswith(kind)


@pytest.mark.parametrize(
    ("archive", "feed"),
    [
        ("/category/roads/", "/category/roads/feed/"),
        ("/tag/potholes/", "/tag/potholes/feed/"),
        ("/author/robert-rams/", "/author/robert-rams/feed/"),
    ],
)
def test_category_tag_and_author_pages_advertise_their_own_feed(client, filed, archive, feed):
    html = client.get(archive).content.decode()
    rss = alternate_links(html)["application/rss+xml"]
    assert site_url() + RSS in rss
    assert site_url() + feed in rss
    assert f'href="{feed}"' in html  # and a visible link to follow it
    response, parsed = read(client, feed)
    assert [e.title for e in parsed.entries] == ["Road post"]


# --- SQL queries -----------------------------------------------------------------------------

# feed -> SQL queries per request (after the current Site is cached)
EXPECTED_QUERIES = {
    RSS: 5,  # ETag/Last-Modified aggregate, posts with author, categories, tags, attachments
    ATOM: 5,
    "/category/roads/feed/": 7,  # the category (twice: conditional check, feed), then as above
    "/tag/potholes/feed/": 7,
    "/author/robert-rams/feed/": 7,
}


@pytest.mark.parametrize("url", EXPECTED_QUERIES)
def test_feed_query_count_is_constant(client, django_assert_num_queries, url):
    roads = CategoryFactory(slug="roads")
    tags = [TagFactory(slug="potholes"), TagFactory()]
    robert = AuthorFactory(slug="robert-rams")

    def make(n):
        for i in range(n):
            post = PostFactory(author=robert, categories=[roads, CategoryFactory()], tags=tags)
            attach(post, f"report-{i}.pdf", b"%PDF-1.4 report")

    make(3)
    client.get(url)  # warm the Site cache, as on a running server
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    small = len(few)  # read now: the next request resets the query log
    make(27)
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert len(feedparser.parse(response.content).entries) == 20
    assert small == EXPECTED_QUERIES[url], f"{url}: {small} queries"


def test_a_post_page_advertises_the_feed_of_its_comments(client):
    # 23:30 UTC on 31 March 2024 is 00:30 on 1 April in London (summer time): the feed's
    # address has the post's London date, as the post's own address does.
    post = PostFactory(
        title="Library hours",
        published_at=datetime.datetime(2024, 3, 31, 23, 30, tzinfo=datetime.UTC),
    )
    assert post.get_absolute_url() == "/2024/04/01/library-hours/"
    html = client.get(post.get_absolute_url()).content.decode()
    feed = "/2024/04/01/library-hours/feed/"
    assert site_url() + feed in alternate_links(html)["application/rss+xml"]
    response = client.get(feed)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    assert "Library hours" in response.content.decode()
