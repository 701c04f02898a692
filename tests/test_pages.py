"""What a reader sees on the public pages."""

import datetime
import re
import zoneinfo

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse

from posts.models import Post
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    CommentFactory,
    PostFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db
LONDON = zoneinfo.ZoneInfo("Europe/London")


def test_home_lists_ten_posts_a_page_newest_first_sticky_on_top(client):
    base = datetime.datetime(2012, 1, 1, 12, tzinfo=LONDON)
    for n in range(23):
        PostFactory(title=f"Post {n:02d}", published_at=base + datetime.timedelta(days=n))
    PostFactory(title="Pinned notice", published_at=base - datetime.timedelta(days=30), sticky=True)

    first = client.get(reverse("posts:home"))
    titles = [post.title for post in first.context["posts"]]
    assert titles[:3] == ["Pinned notice", "Post 22", "Post 21"]
    assert len(titles) == 10
    html = first.content.decode()
    assert "Pinned post" in html
    assert "Page 1 of 3" in html and 'rel="next"' in html

    last = client.get(reverse("posts:home"), {"page": 3})
    assert [p.title for p in last.context["posts"]] == ["Post 03", "Post 02", "Post 01", "Post 00"]


@pytest.mark.parametrize("page", ["0", "4", "abc", "-1", "9" * 30])
def test_a_page_number_that_does_not_exist_is_404_not_500(client, page):
    PostFactory()
    assert client.get(reverse("posts:home"), {"page": page}).status_code == 404


def test_post_page_shows_title_date_author_body_terms_and_neighbours(client):
    author = AuthorFactory(display_name="Robert Rams", slug="robert-rams", user__username="rrams")
    older = PostFactory(
        author=author,
        title="Older post",
        published_at=datetime.datetime(2011, 6, 1, 9, tzinfo=LONDON),
    )
    post = PostFactory(
        author=author,
        title="Back office project approved",
        body="Last night (29 June) the business case was **approved**.",
        published_at=datetime.datetime(2011, 6, 30, 9, tzinfo=LONDON),
        categories=[CategoryFactory(name="Council services")],
        tags=[TagFactory(name="outsourcing")],
    )
    newer = PostFactory(
        author=author,
        title="Newer post",
        published_at=datetime.datetime(2011, 7, 14, 9, tzinfo=LONDON),
    )

    assert post.get_absolute_url() == "/2011/06/30/back-office-project-approved/"
    response = client.get(post.get_absolute_url())
    html = response.content.decode()
    assert '<h1 id="post-title">Back office project approved</h1>' in html
    assert "30 June 2011" in html
    assert "<strong>approved</strong>" in html
    assert "Council services" in html and "outsourcing" in html
    assert "Robert Rams" in html
    assert "rrams" not in html  # the login name is never shown
    assert older.get_absolute_url() in html and newer.get_absolute_url() in html
    assert response.context["previous_post"] == older
    assert response.context["next_post"] == newer


def test_post_addresses_use_the_london_date_and_one_canonical_form(client):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    post = PostFactory(
        title="Late night", published_at=datetime.datetime(2011, 6, 30, 23, 30, tzinfo=datetime.UTC)
    )
    assert post.get_absolute_url() == "/2011/07/01/late-night/"
    assert client.get("/2011/07/01/late-night/").status_code == 200
    assert client.get("/2011/06/30/late-night/").status_code == 404
    assert client.get("/2011/7/1/late-night/").status_code == 404  # not zero-padded


@pytest.mark.parametrize(
    "path",
    [
        "/2011/02/30/",
        "/2011/13/",
        "/2011/00/",
        "/0000/",
        "/2011/02/30/slug/",
        "/9999/",
        "/9999/12/",
        "/9999/12/31/",
        "/9999/12/31/slug/",
    ],
)
def test_impossible_dates_are_404(client, path):
    PostFactory(published_at=datetime.datetime(2011, 2, 1, tzinfo=LONDON))
    assert client.get(path).status_code == 404


def test_date_archives_show_the_right_posts(client):
    june = PostFactory(
        title="June post", published_at=datetime.datetime(2011, 6, 30, 9, tzinfo=LONDON)
    )
    PostFactory(title="July post", published_at=datetime.datetime(2011, 7, 1, 9, tzinfo=LONDON))
    PostFactory(title="Next year", published_at=datetime.datetime(2012, 1, 1, 0, 30, tzinfo=LONDON))

    year = client.get("/2011/").content.decode()
    assert "June post" in year and "July post" in year and "Next year" not in year
    assert "Posts from 2011" in year
    month = client.get("/2011/06/").content.decode()
    assert "June post" in month and "July post" not in month and "Posts from June 2011" in month
    day = client.get("/2011/06/30/").content.decode()
    assert "June post" in day and "Posts from 30 June 2011" in day
    assert client.get("/2011/05/").status_code == 404  # nothing that month
    assert june.get_absolute_url() in client.get("/").content.decode()


def test_category_tag_and_author_archives(client):
    author = AuthorFactory(
        display_name="Robert Rams", slug="robert-rams", bio="Councillor for Church End."
    )
    category = CategoryFactory(name="Libraries", slug="libraries")
    tag = TagFactory(name="library strategy", slug="library-strategy")
    PostFactory(title="About libraries", author=author, categories=[category], tags=[tag])
    PostFactory(title="About roads")

    for url, heading in [
        ("/category/libraries/", "Libraries"),
        ("/tag/library-strategy/", "library strategy"),
        ("/author/robert-rams/", "Posts by Robert Rams"),
    ]:
        html = client.get(url).content.decode()
        assert f"<h1>{heading}</h1>" in html, url
        assert "About libraries" in html and "About roads" not in html, url
    assert "Councillor for Church End." in client.get("/author/robert-rams/").content.decode()
    assert client.get("/category/nope/").status_code == 404
    assert client.get("/tag/nope/").status_code == 404
    assert client.get("/author/nope/").status_code == 404


def test_the_sidebar_lists_categories_and_months_on_every_page(client):
    PostFactory(
        categories=[CategoryFactory(name="Planning")],
        published_at=datetime.datetime(2012, 9, 17, tzinfo=LONDON),
    )
    for url in [
        "/",
        "/2012/",
        "/category/" + Post.objects.get().categories.get().slug + "/",
        "/about/",
    ]:
        html = client.get(url).content.decode()
        assert "Planning</a>" in html, url
        assert 'href="/2012/09/">September 2012</a>' in html, url


def test_the_sidebar_lists_every_month_in_london_time_newest_first(client):
    """Fourteen months across a new year, each named in British English and linked to its
    archive with its number of posts; a post at 23:30 UTC on 31 May is June's in London."""
    author = AuthorFactory()
    for month in range(1, 15):
        year, month = 2011 + (month - 1) // 12, (month - 1) % 12 + 1
        PostFactory(author=author, published_at=datetime.datetime(year, month, 10, tzinfo=LONDON))
    PostFactory(
        author=author, published_at=datetime.datetime(2011, 5, 31, 23, 30, tzinfo=datetime.UTC)
    )
    html = client.get("/").content.decode()
    listed = re.findall(
        r'<li><a href="(/\d{4}/\d{2}/)">(\w+ \d{4})</a> <span class="count">\((\d+)\)', html
    )
    assert listed[0] == ("/2012/02/", "February 2012", "1")
    assert listed[1] == ("/2012/01/", "January 2012", "1")
    assert listed[2] == ("/2011/12/", "December 2011", "1")
    assert ("/2011/06/", "June 2011", "2") in listed and ("/2011/05/", "May 2011", "1") in listed
    assert len(listed) == 14
    for url, _name, _count in listed:
        assert client.get(url).status_code == 200


def test_the_sidebar_escapes_category_names(client):
    PostFactory(categories=[CategoryFactory(name='Roads & "Rail" <2012>')])
    html = client.get("/").content.decode()
    assert 'Roads &amp; &quot;Rail&quot; &lt;2012&gt;</a> <span class="count">(1)</span>' in html
    assert "<2012>" not in html


def test_footer_pages_exist_and_are_linked_from_every_page(client):
    PostFactory()
    home = client.get("/").content.decode()
    for url, title in [
        ("/about/", "About this blog"),
        ("/house-rules/", "House rules for comments"),
        ("/privacy/", "Privacy notice"),
        ("/accessibility/", "Accessibility statement"),
    ]:
        assert f'href="{url}"' in home
        page = client.get(url)
        assert page.status_code == 200
        assert f'<h1 id="page-title">{title}</h1>' in page.content.decode()
    assert "WCAG" in client.get("/accessibility/").content.decode()
    # Flat pages are Markdown, rendered through the sanitiser.
    assert '<a href="/house-rules/">house rules</a>' in client.get("/about/").content.decode()


def test_404_page_is_in_the_site_design(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "Skip to main content" in html
    assert 'name="robots" content="noindex"' in html


def test_500_page_renders_without_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render_to_string("500.html")
    assert "Sorry, something went wrong" in html


def test_every_response_forbids_third_party_content_and_framing(client):
    PostFactory()
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    html = response.content.decode()
    # Everything the browser fetches (scripts, styles, icons, images) comes from this site.
    fetched = re.findall(r'<(?:script|img|source|iframe)[^>]*\ssrc="([^"]*)"', html)
    fetched += re.findall(r'<link[^>]*rel="(?:stylesheet|icon|preload)"[^>]*href="([^"]*)"', html)
    assert fetched
    for url in fetched:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "gravatar" not in html


def test_load_demo_creates_the_seed_post_once(client, capsys):
    call_command("load_demo")
    first_count = Post.objects.count()
    call_command("load_demo")
    assert Post.objects.count() == first_count
    output = capsys.readouterr().out
    assert "robertrams" in output and "already loaded" in output

    url = "/2011/06/30/back-office-and-customer-service-project-given-the-green-light/"
    html = client.get(url).content.decode()
    assert "Back office and customer service project given the green" in html
    assert "Last night (29 June)" in html
    assert "30 June 2011" in html
    assert "Council services" in html
    # The seed post's two responses are comments, threaded under it, not part of its text.
    assert "2 Responses to" in html
    assert "2 Responses" not in Post.objects.get(slug=url.split("/")[-2]).body

    published = Post.objects.published()
    assert published.count() >= 12
    assert Post.objects.filter(status=Post.Status.DRAFT).count() == 1
    assert sum(post.is_scheduled for post in Post.objects.all()) == 1
    assert published.filter(image__isnull=False).exists()
    assert published.filter(attachments__isnull=False).exists()
    assert len({p.published_at.year for p in published}) >= 2


def test_a_new_flat_page_is_served_at_its_own_address(client):
    from django.contrib.flatpages.models import FlatPage
    from django.contrib.sites.models import Site

    page = FlatPage.objects.create(
        url="/ward-map/", title="Map of the ward", content="The ward runs **north** to the A406."
    )
    page.sites.add(Site.objects.get_current())
    response = client.get("/ward-map/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 id="page-title">Map of the ward</h1>' in html
    assert "<strong>north</strong>" in html
    assert '<meta property="og:title" content="Map of the ward">' in html
    assert client.get("/pages/ward-map/").status_code == 404  # one address per page


def test_month_addresses_of_another_shape_are_reversed_one_by_one(monkeypatch):
    """The sidebar writes a month's address from one reverse() only when the address ends in
    the year and month; an address of another shape is reversed for each month."""
    from core import reversing
    from posts.templatetags import blog_tags

    assert blog_tags._month_urls()(2011, 6) == reverse(
        "posts:archive-month", kwargs={"year": 2011, "month": 6}
    )
    monkeypatch.setattr(
        reversing,
        "reverse",
        lambda name, kwargs: f"/archives/{kwargs['year']}-{kwargs['month']:02}.html",
    )
    assert blog_tags._month_urls()(2011, 6) == "/archives/2011-06.html"


def test_a_post_lists_its_categories_and_tags_and_a_list_its_categories_only(client):
    post = PostFactory(
        categories=[CategoryFactory(name="Roads & <Rail>"), CategoryFactory(name="Budget")],
        tags=[TagFactory(name='"parking"')],
    )
    page = client.get(post.get_absolute_url()).content.decode()
    terms = re.search(r'<dl class="post-terms">.*?</dl>', page, re.S)[0]
    for category in post.categories.all():
        assert f'<a href="{category.get_absolute_url()}">' in terms
    assert "Roads &amp; &lt;Rail&gt;</a>" in terms and "Budget</a>" in terms
    (tag,) = post.tags.all()
    assert f'<a href="{tag.get_absolute_url()}" rel="tag">&quot;parking&quot;</a>' in terms
    home = client.get("/").content.decode()
    listed = re.search(r'<dl class="post-terms">.*?</dl>', home, re.S)[0]
    assert "Filed under" in listed and "Tags" not in listed and 'rel="tag"' not in listed
    for url in re.findall(r'href="([^"]+)"', terms):
        assert client.get(url).status_code == 200


def test_a_post_with_no_terms_shows_no_list_of_them(client):
    post = PostFactory(categories=[], tags=[])
    assert 'class="post-terms"' not in client.get(post.get_absolute_url()).content.decode()
    assert 'class="post-terms"' not in client.get("/").content.decode()


def test_the_post_page_has_every_name_its_templates_ask_for(client, monkeypatch):
    """A name a template asks for and the context lacks costs the template engine an
    exception each time (about 14 µs, on every first render of the page): the post page,
    its discussion and its sidebar ask for none, with comments and without."""
    from django.template import base

    asked_in_vain = []
    resolve = base.Variable._resolve_lookup

    def recording(self, context):
        try:
            return resolve(self, context)
        except base.VariableDoesNotExist:
            asked_in_vain.append(self.var)
            raise

    monkeypatch.setattr(base.Variable, "_resolve_lookup", recording)
    post = PostFactory(categories=[CategoryFactory()], tags=[TagFactory()])
    PostFactory(published_at=post.published_at - datetime.timedelta(days=1))  # a neighbour
    assert client.get(post.get_absolute_url()).status_code == 200
    CommentFactory(parent=CommentFactory(post=post))
    html = client.get(post.get_absolute_url()).content.decode()
    assert "2 Responses to" in html
    assert asked_in_vain == []


def test_a_list_shows_each_posts_own_count_of_responses(client):
    base = datetime.datetime(2024, 5, 1, 9, tzinfo=LONDON)
    quiet = PostFactory(title="Quiet; 12;", published_at=base)
    one = PostFactory(title="One reply", published_at=base + datetime.timedelta(days=1))
    busy = PostFactory(title="Busy", published_at=base + datetime.timedelta(days=2))
    CommentFactory(post=one)
    CommentFactory(parent=CommentFactory(post=busy))
    CommentFactory(post=busy, pending=True)  # not public: not counted
    html = client.get(reverse("posts:home")).content.decode()
    for post, shown in ((quiet, "0 Responses"), (one, "1 Response"), (busy, "2 Responses")):
        article = html.split(f'aria-labelledby="post-{post.pk}-title"')[1].split("</article>")[0]
        count = re.search(r'class="response-count"><a [^>]*>([^<]*)<', article)[1]
        assert count == shown, post.title
    assert "Quiet; 12;" in html


def test_the_header_search_box_holds_the_search_words_and_elsewhere_none(client):
    # (The site context processor names `query` as "" on every page; the search page's own
    # context names the words, and wins.)
    PostFactory(title="Library hours")
    for path, params, shown in (("/search/", {"q": "library"}, "library"), ("/", {}, "")):
        html = client.get(path, params).content.decode()
        header = html.split('<header class="site-header">')[1].split("</header>")[0]
        assert f'name="q" value="{shown}"' in header
