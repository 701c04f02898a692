"""What search engines and link previews see: the sitemap, robots.txt and every page's head.

A crawler must find every public post and page at its one canonical address and nothing
unpublished; a shared link must preview with the right title, description, picture and dates;
pages that are not worth indexing (previews, search results, later pages, 404) say `noindex`.
"""

import datetime
import io
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from django.contrib.sites.models import Site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from posts.models import Post
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    ImageFactory,
    PostFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
FLAT_PAGES = ["/about/", "/house-rules/", "/privacy/", "/accessibility/"]
# A fixed day well in the past, so that every post falls in the same archives.
DAY = datetime.datetime(2023, 6, 14, 9, 0, tzinfo=datetime.UTC)
ISO_8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def site_url():
    return f"http://{Site.objects.get_current().domain}"


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- The sitemap -----------------------------------------------------------------------------


def sitemap(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    found = {}
    for url in root.findall("sm:url", SITEMAP_NS):
        loc = url.findtext("sm:loc", namespaces=SITEMAP_NS)
        assert loc not in found, f"{loc} is listed twice"
        found[loc] = url.findtext("sm:lastmod", namespaces=SITEMAP_NS)
    return found


@pytest.fixture
def world():
    public_category = CategoryFactory(slug="roads")
    hidden_category = CategoryFactory(slug="secret-category")
    public_tag, hidden_tag = TagFactory(slug="potholes"), TagFactory(slug="secret-tag")
    robert, ghost = AuthorFactory(slug="robert-rams"), AuthorFactory(slug="ghost-writer")
    published = [
        PostFactory(
            published_at=DAY + datetime.timedelta(days=n),
            categories=[public_category],
            tags=[public_tag],
            author=robert,
        )
        for n in range(3)
    ]
    unpublished = [
        PostFactory(
            title="SECRET-DRAFT",
            status=Post.Status.DRAFT,
            published_at=DAY,
            categories=[hidden_category],
            tags=[hidden_tag],
            author=ghost,
        ),
        PostFactory(
            title="SECRET-SCHEDULED",
            published_at=timezone.now() + datetime.timedelta(days=3),
            categories=[hidden_category],
            tags=[hidden_tag],
            author=ghost,
        ),
        PostFactory(draft=True, categories=[hidden_category], author=ghost),
    ]
    return {"published": published, "unpublished": unpublished}


def test_the_sitemap_lists_published_posts_with_their_last_change(client, world):
    urls = sitemap(client)
    for post in world["published"]:
        lastmod = timezone.localtime(max(post.updated_at, post.published_at)).date()
        assert urls[site_url() + post.get_absolute_url()] == lastmod.isoformat()


def test_the_sitemap_lists_home_flat_pages_and_terms_with_published_posts(client, world):
    urls = sitemap(client)
    base = site_url()
    assert base + "/" in urls
    for page in FLAT_PAGES:
        assert base + page in urls, page
    assert base + "/category/roads/" in urls
    assert base + "/tag/potholes/" in urls
    assert base + "/author/robert-rams/" in urls


def test_the_sitemap_lists_nothing_unpublished(client, world):
    urls = sitemap(client)
    for post in world["unpublished"]:
        assert site_url() + post.get_absolute_url() not in urls
    for private in ("secret-category", "secret-tag", "ghost-writer", "/preview/", "/admin/"):
        assert not [url for url in urls if private in url], private
    assert len(urls) == 1 + 3 + 3 + len(FLAT_PAGES)  # home, posts, terms and author, pages


def test_the_sitemap_lists_terms_in_name_order_every_time(client, recwarn):
    names = ["Zebra crossings", "Allotments", "Parking", "Bins", "Libraries", "Housing"]
    for name in names:
        PostFactory(categories=[CategoryFactory(name=name, slug=name.lower().replace(" ", "-"))])
    urls = [url for url in sitemap(client) if "/category/" in url]
    slugs = [name.lower().replace(" ", "-") for name in sorted(names)]
    assert urls == [f"{site_url()}/category/{slug}/" for slug in slugs]
    assert not [w for w in recwarn if "Pagination may yield inconsistent" in str(w.message)]


def test_every_sitemap_address_is_a_live_page_that_calls_itself_canonical(client, world):
    """A crawler following the sitemap lands on each page at its one canonical address."""
    urls = sitemap(client)
    for url in urls:
        assert url.startswith(site_url() + "/"), url
        response = client.get(path_of(url))
        assert response.status_code == 200, url
        assert head(response).canonical == url


# home lastmod; then a count and a list each for posts, categories, tags, authors and pages
SITEMAP_QUERIES = 11


def test_sitemap_query_count_is_constant(client, django_assert_num_queries):
    category, tag, author = CategoryFactory(), TagFactory(), AuthorFactory()

    def make(n):
        for _ in range(n):
            PostFactory(categories=[category, CategoryFactory()], tags=[tag], author=author)

    make(3)
    client.get("/sitemap.xml")  # warm the Site cache, as on a running server
    with CaptureQueriesContext(connection) as few:
        assert client.get("/sitemap.xml").status_code == 200
    small = len(few)  # read now: the next request resets the query log
    make(27)
    with django_assert_num_queries(small):
        assert client.get("/sitemap.xml").status_code == 200
    assert len(sitemap(client)) == 1 + 30 + 31 + 1 + 1 + len(FLAT_PAGES)
    assert small == SITEMAP_QUERIES, f"{small} queries"


# --- robots.txt ------------------------------------------------------------------------------


def test_robots_txt_keeps_crawlers_out_of_the_admin_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /preview/" in lines
    assert f"Sitemap: {site_url()}/sitemap.xml" in lines
    (sitemap_line,) = [line for line in lines if line.startswith("Sitemap: ")]
    assert client.get(path_of(sitemap_line.removeprefix("Sitemap: "))).status_code == 200


# --- The page head ---------------------------------------------------------------------------


class Head(HTMLParser):
    """The parts of a page's <head> that crawlers and link previews read."""

    def __init__(self):
        super().__init__()
        self.links, self.metas, self.scripts = [], [], []
        self._in_head, self._script = True, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._script = [attrs.get("type"), ""]
            self.scripts.append(self._script)
        if not self._in_head:
            return
        if tag == "link":
            self.links.append(attrs)
        elif tag == "meta":
            self.metas.append(attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False
        elif tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script[1] += data

    def all(self, key):
        """Every value of <meta name|property=key> (og:* use property, others name)."""
        return [m.get("content") for m in self.metas if key in (m.get("name"), m.get("property"))]

    def one(self, key):
        values = self.all(key)
        assert len(values) == 1, f"{key}: {values}"
        return values[0]

    @property
    def canonical(self):
        (link,) = [link for link in self.links if link.get("rel") == "canonical"]
        return link["href"]

    @property
    def robots(self):
        return " ".join(self.all("robots"))

    @property
    def json_ld(self):
        return [json.loads(body) for kind, body in self.scripts if kind == "application/ld+json"]


def head(response):
    parser = Head()
    parser.feed(response.content.decode())
    parser.close()
    return parser


@pytest.fixture
def pages(world):
    """name -> (address, canonical path) of every kind of public page."""
    post = world["published"][1]
    day = timezone.localtime(post.published_at)
    return {
        "home": ("/", "/"),
        "post": (post.get_absolute_url(), post.get_absolute_url()),
        "archive-year": (f"/{day.year}/", f"/{day.year}/"),
        "archive-month": (f"/{day:%Y/%m}/", f"/{day:%Y/%m}/"),
        "archive-day": (f"/{day:%Y/%m/%d}/", f"/{day:%Y/%m/%d}/"),
        "category": ("/category/roads/", "/category/roads/"),
        "tag": ("/tag/potholes/", "/tag/potholes/"),
        "author": ("/author/robert-rams/", "/author/robert-rams/"),
        **{f"page {url}": (url, url) for url in FLAT_PAGES},
        "search": ("/search/?q=council", "/search/"),
        "search form": ("/search/", "/search/"),
        "home, tracking parameters": ("/?utm_source=newsletter", "/"),
    }


def test_every_public_page_has_one_absolute_canonical_url(client, pages):
    for name, (url, canonical) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        parsed = head(response)
        canonicals = [link for link in parsed.links if link.get("rel") == "canonical"]
        assert len(canonicals) == 1, name
        assert parsed.canonical == site_url() + canonical, name


def test_every_public_page_has_a_description_and_link_preview_tags(client, pages):
    for name, (url, _) in pages.items():
        parsed = head(client.get(url))
        assert parsed.one("description").strip(), name
        for key in ("og:title", "og:description", "og:url", "og:type", "twitter:card"):
            assert parsed.one(key).strip(), f"{name}: {key}"
        assert parsed.one("og:url") == parsed.canonical, name
        expected_type = "article" if name == "post" else "website"
        assert parsed.one("og:type") == expected_type, name


def test_only_posts_carry_article_tags_and_json_ld(client, pages):
    for name, (url, _) in pages.items():
        parsed = head(client.get(url))
        if name == "post":
            continue
        assert parsed.all("article:published_time") == [], name
        assert parsed.json_ld == [], name


def test_a_post_describes_itself_with_its_seo_description_else_its_excerpt(client):
    seo = PostFactory(seo_description="What the library changes mean for you.", excerpt="Ex.")
    excerpt = PostFactory(excerpt="The library opens later on Saturdays.")
    summary = PostFactory(body="The first paragraph says it all.\n\nMore detail follows.")
    expected = {
        seo: "What the library changes mean for you.",
        excerpt: "The library opens later on Saturdays.",
        summary: "The first paragraph says it all.",
    }
    for post, description in expected.items():
        parsed = head(client.get(post.get_absolute_url()))
        assert parsed.one("description") == description
        assert parsed.one("og:description") == description
        assert parsed.one("twitter:description") == description
        assert parsed.json_ld[0]["description"] == description


def test_a_post_is_an_article_with_its_dates_in_iso_8601(client):
    post = PostFactory(title="Library opening hours", published_at=DAY)
    parsed = head(client.get(post.get_absolute_url()))
    assert parsed.one("og:type") == "article"
    assert parsed.one("og:title") == "Library opening hours"
    assert parsed.one("og:url") == site_url() + post.get_absolute_url()
    published = parsed.one("article:published_time")
    modified = parsed.one("article:modified_time")
    assert ISO_8601.match(published) and ISO_8601.match(modified)
    assert datetime.datetime.fromisoformat(published) == post.published_at
    assert datetime.datetime.fromisoformat(modified) == post.updated_at
    assert parsed.one("twitter:card") == "summary"
    assert parsed.all("og:image") == []


def test_a_post_with_a_featured_image_previews_it_with_its_size(client):
    post = PostFactory(image=ImageFactory(), image_alt="The town hall on a sunny day")
    parsed = head(client.get(post.get_absolute_url()))
    image_url = parsed.one("og:image")
    assert image_url.startswith(site_url() + "/media/")
    width, height = int(parsed.one("og:image:width")), int(parsed.one("og:image:height"))
    assert parsed.one("og:image:alt") == "The town hall on a sunny day"
    assert parsed.one("twitter:card") == "summary_large_image"

    response = client.get(path_of(image_url))
    assert response.status_code == 200
    picture = PILImage.open(io.BytesIO(b"".join(response.streaming_content)))
    assert picture.size == (width, height)
    assert width >= 600  # large enough for a large preview card

    (data,) = parsed.json_ld
    assert data["image"]["url"] == image_url
    assert (data["image"]["width"], data["image"]["height"]) == (width, height)


def test_a_post_has_blogposting_json_ld(client):
    author = AuthorFactory(display_name="Robert Rams", slug="robert-rams")
    post = PostFactory(title="Library opening hours", author=author, published_at=DAY)
    parsed = head(client.get(post.get_absolute_url()))
    (data,) = parsed.json_ld
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Library opening hours"
    assert datetime.datetime.fromisoformat(data["datePublished"]) == post.published_at
    assert datetime.datetime.fromisoformat(data["dateModified"]) == post.updated_at
    assert data["author"]["name"] == "Robert Rams"
    assert data["author"]["url"] == site_url() + "/author/robert-rams/"
    assert data["url"] == site_url() + post.get_absolute_url() == parsed.canonical


@pytest.mark.parametrize(
    "title",
    [
        "</script><script>alert(1)</script>",
        "<!-- <script> -->",
        '"}, "@type": "Evil',
        "Café & “quotes” \u2028 line separator",
    ],
)
def test_a_title_cannot_break_out_of_the_json_ld(client, title):
    post = PostFactory(title=title)
    response = client.get(post.get_absolute_url())
    parsed = head(response)
    # A browser's parser sees one inline script element, holding JSON with the title intact
    # (the other script element is the same-origin reply enhancement, loaded by src).
    assert [kind for kind, body in parsed.scripts if body.strip()] == ["application/ld+json"]
    (data,) = parsed.json_ld
    assert data["headline"] == title
    assert data["@type"] == "BlogPosting"
    assert parsed.one("og:title") == title
    assert "<script>alert" not in response.content.decode()


# --- noindex ---------------------------------------------------------------------------------


def make_many(count=12):
    return [PostFactory(published_at=DAY + datetime.timedelta(minutes=n)) for n in range(count)]


def test_later_pages_of_lists_are_noindex_but_first_pages_are_not(client):
    make_many()
    month = f"/{DAY:%Y/%m}/"
    for url in ("/", month, "/?page=1"):
        assert "noindex" not in head(client.get(url)).robots, url
    for url in ("/?page=2", f"{month}?page=2"):
        response = client.get(url)
        assert response.status_code == 200
        assert "noindex" in head(response).robots, url
        assert head(response).canonical == site_url() + url  # each page is its own page


def test_a_published_post_is_indexable(client):
    post = PostFactory()
    response = client.get(post.get_absolute_url())
    assert "noindex" not in head(response).robots
    assert "X-Robots-Tag" not in response


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_the_staff_preview_of_an_unpublished_post_is_noindex(client, state):
    post = PostFactory(**{state: True})
    client.force_login(post.author.user)  # previews are for those who may edit the post
    response = client.get(reverse("posts:preview", kwargs={"pk": post.pk}))
    assert response.status_code == 200
    assert "noindex" in head(response).robots
    assert "noindex" in response["X-Robots-Tag"]
    assert head(response).json_ld == []
    # Its comments have no feed: nothing of it is public yet.
    assert "Comments on" not in response.content.decode().split("</head>")[0]


@pytest.mark.parametrize("q", ["", "council", "xylophone"])
def test_search_pages_are_noindex(client, q):
    PostFactory(title="Council tax")
    assert "noindex" in head(client.get("/search/", {"q": q})).robots


def test_the_404_page_is_noindex(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "noindex" in head(response).robots
