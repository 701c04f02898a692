"""Searching the blog at /search/?q=…, as a resident uses it, on SQLite and PostgreSQL.

Residents find published posts by any word of the title, excerpt, body or a category or tag
name; results come ten a page with a highlighted snippet; odd input gets a page, never an error,
and nothing typed or written can inject markup. PostgreSQL adds stemming, ranking and a GIN index.
"""

import datetime
import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posts import search
from posts.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

# Real commits: on PostgreSQL a post's search document is recomputed after its transaction
# commits (once per save, however many of its categories and tags change).
pytestmark = pytest.mark.django_db(transaction=True)

SEARCH = "/search/"
postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL full-text search only"
)


def search_page(client, q=None, **params):
    data = {} if q is None else {"q": q}
    response = client.get(SEARCH, {**data, **params})
    assert response.status_code == 200
    return response.content.decode()


def result_titles(html):
    results = re.search(r'<ol class="search-results"[^>]*>(.*?)</ol>', html, flags=re.S)
    if results is None:
        return []
    return [html_lib.unescape(t) for t in re.findall(r"<h2><a [^>]*>([^<]*)</a></h2>", results[1])]


def snippets(html):
    return re.findall(r'<p class="search-snippet">(.*?)</p>', html, flags=re.S)


def summary(html):
    match = re.search(r'<p class="search-summary" role="status">(.*?)</p>', html, flags=re.S)
    return html_lib.unescape(match[1]) if match else None


def ago(days):
    return timezone.now() - datetime.timedelta(days=days)


# --- Finding posts ---------------------------------------------------------------------------


@pytest.fixture
def library():
    """Posts that each hold one distinctive word in one place."""
    return {
        "title": PostFactory(title="MetPro contract renewed"),
        "excerpt": PostFactory(excerpt="Allotment waiting lists are getting shorter."),
        "body": PostFactory(body="Opening paragraph.\n\nPlans for the new crematorium."),
        "category": PostFactory(categories=[CategoryFactory(name="Highways")]),
        "tag": PostFactory(tags=[TagFactory(name="recycling")]),
    }


@pytest.mark.parametrize(
    ("where", "query"),
    [
        ("title", "MetPro"),
        ("title", "metpro"),
        ("excerpt", "allotment"),
        ("body", "crematorium"),
        ("body", "CREMATORIUM"),
        ("category", "highways"),
        ("tag", "Recycling"),
    ],
)
def test_search_finds_posts_by_any_word_they_are_filed_or_written_under(
    client, library, where, query
):
    html = search_page(client, query)
    assert result_titles(html) == [library[where].title]
    assert summary(html) == f"1 post matches “{query}”."


def test_every_word_must_match(client):
    both = PostFactory(title="Library opening hours")
    PostFactory(title="Library closures")
    PostFactory(title="Swimming pool opening")
    assert result_titles(search_page(client, "library opening")) == [both.title]


def test_the_summary_counts_the_matches(client):
    for n in range(3):
        PostFactory(title=f"Library news {n}")
    assert summary(search_page(client, "library")) == "3 posts match “library”."


def test_no_match_says_so_with_suggestions(client, library):
    html = search_page(client, "xylophone")
    assert summary(html) == "No posts match “xylophone”."
    assert "Suggestions" in html
    assert result_titles(html) == []
    assert 'href="/"' in html  # a way back to the latest posts


def test_results_come_ten_a_page_and_the_query_follows_the_page_links(client):
    for n in range(12):
        PostFactory(title=f"Library hours {n:02}", published_at=ago(n + 1))
    first = search_page(client, "library hours")
    assert summary(first) == "12 posts match “library hours”."
    assert result_titles(first) == [f"Library hours {n:02}" for n in range(10)]
    assert "Page 1 of 2" in first
    next_link = re.search(r'<a href="([^"]+)" rel="next">', first)[1]
    assert html_lib.unescape(next_link) == "?q=library%20hours&page=2"

    second = client.get(SEARCH + html_lib.unescape(next_link)).content.decode()
    assert result_titles(second) == ["Library hours 10", "Library hours 11"]
    assert '<ol class="search-results" start="11">' in second
    previous_link = re.search(r'<a href="([^"]+)" rel="prev">', second)[1]
    assert html_lib.unescape(previous_link) == "?q=library%20hours&page=1"


def test_a_page_past_the_end_of_the_results_is_404(client):
    PostFactory(title="Library hours")
    assert client.get(SEARCH, {"q": "library", "page": "2"}).status_code == 404


def test_drafts_and_scheduled_posts_never_appear(client):
    public = PostFactory(title="Library PUBLIC")
    PostFactory(title="Library SECRET-DRAFT", draft=True)
    PostFactory(title="Library SECRET-DATED-DRAFT", status=Post.Status.DRAFT, published_at=ago(1))
    PostFactory(title="Library SECRET-SCHEDULED", published_at=ago(-2))
    html = search_page(client, "library")
    assert result_titles(html) == [public.title]
    assert "SECRET" not in html
    assert summary(html) == "1 post matches “library”."
    assert "SECRET" not in search_page(client, "secret")


def test_an_unpublished_post_leaves_the_results(client):
    post = PostFactory(title="Library hours")
    assert result_titles(search_page(client, "library")) == [post.title]
    post.unpublish()
    assert result_titles(search_page(client, "library")) == []


def test_an_edited_title_is_found_by_its_new_words(client):
    post = PostFactory(title="Library hours")
    post.title = "Museum hours"
    post.save()
    assert result_titles(search_page(client, "museum")) == ["Museum hours"]
    assert result_titles(search_page(client, "library")) == []


@pytest.mark.parametrize("q", [None, "", "   "])
def test_an_empty_search_shows_the_form_and_no_results(client, q):
    PostFactory(title="Library hours")
    html = search_page(client, q)
    assert '<form class="search-form" role="search"' in html
    assert "<h1>Search posts</h1>" in html
    assert summary(html) is None
    assert result_titles(html) == []
    assert "Type one or more words" in html


# --- Odd input -------------------------------------------------------------------------------


ODD_QUERIES = {
    "1,000 characters": "library " * 125,
    "punctuation only": "!!! ???",
    "tsquery syntax": "library & | ! ( ) : * <-> 'x' \\",
    "unbalanced quote": '"library',
    "minus only": "- -- ---",
    "sql": "' OR 1=1; --",
    "like wildcards": "%_% _",
    "chinese": "图书馆开放时间",
    "arabic": "مكتبة المجلس",
    "welsh": "Gŵyl Dewi ym Mharc y Rhâth",
    "emoji": "📚 library",
    "long word": "x" * 199,
    "many words": " ".join(f"word{n}" for n in range(60))[:200],
}


@pytest.mark.parametrize("query", ODD_QUERIES.values(), ids=ODD_QUERIES.keys())
def test_odd_queries_get_a_page_not_an_error(client, query):
    PostFactory(title="Library hours")
    html = search_page(client, query)
    assert '<meta name="robots" content="noindex' in html


def test_a_query_over_200_characters_is_explained_not_run(client):
    PostFactory(title="Library hours")
    query = ("library " * 125).strip() + "!"
    assert len(query) == 1000
    html = search_page(client, query)
    assert "Search for at most 200 characters (you typed 1000)." in html
    assert 'aria-invalid="true"' in html
    assert result_titles(html) == []


def test_a_nul_byte_is_explained_not_run(client):
    PostFactory(title="Library hours")
    for raw in ("%00", "library%00", "%00library"):
        response = client.get(f"{SEARCH}?q={raw}")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Search for words, not control characters." in html
        assert result_titles(html) == []


@pytest.mark.parametrize(
    "query", [ODD_QUERIES["chinese"], ODD_QUERIES["arabic"], ODD_QUERIES["welsh"]]
)
def test_non_latin_queries_are_echoed_intact(client, query):
    html = search_page(client, query)
    assert summary(html) == f"No posts match “{query}”."
    assert f'value="{query}"' in html  # kept in the search box to edit


@pytest.mark.parametrize("word", ["Gŵyl", "مكتبة"])
def test_words_with_accents_and_non_latin_words_are_found(client, word):
    post = PostFactory(body=f"Opening paragraph.\n\nThe {word} is on Saturday.")
    PostFactory(body="Something else entirely.")
    assert result_titles(search_page(client, word)) == [post.title]


def test_the_query_is_echoed_escaped(client):
    query = "<script>alert(1)</script>"
    html = search_page(client, query)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert summary(html) == f"No posts match “{query}”."


def test_a_query_cannot_break_out_of_an_attribute(client):
    html = search_page(client, '"><img src=x onerror=alert(1)>')
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


# --- Snippets --------------------------------------------------------------------------------


def test_snippets_mark_the_matching_words(client):
    PostFactory(body="Opening paragraph.\n\nThe library opens on Sundays from June.")
    (snippet,) = snippets(search_page(client, "library"))
    assert "<mark>library</mark>" in snippet
    assert "Sundays" in snippet


@pytest.mark.parametrize(
    "markup",
    [
        # Raw HTML an author typed is sanitised at save: only its text reaches search.
        "<b>hi</b>",
        "<script>alert(1)</script>hi",
        # Markup written *as text* (a code span, entities) reaches search as text.
        "`<b>hi</b>`",
        "&lt;b&gt;hi&lt;/b&gt;",
        "`<mark>hi</mark>`",
        "`</p><img src=x onerror=alert(1)>hi`",
        # The private marker characters cannot be smuggled in to open a <mark>.
        "\ue000hi\ue001",
    ],
)
def test_a_snippet_cannot_inject_markup(client, markup):
    PostFactory(body=f"Opening paragraph.\n\n{markup} library opens on Sundays.")
    (snippet,) = snippets(search_page(client, "library"))
    assert "<mark>library</mark>" in snippet
    assert "hi" in snippet
    assert "<" not in re.sub(r"</?mark>", "", snippet), snippet
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1


@pytest.mark.parametrize(
    ("markup", "shown"),
    [
        ("`<b>hi</b>`", "&lt;b&gt;hi&lt;/b&gt; <mark>library</mark>"),
        ("&lt;b&gt;hi&lt;/b&gt;", "&lt;b&gt;hi&lt;/b&gt; <mark>library</mark>"),
        ("`<mark>hi</mark>`", "&lt;mark&gt;hi&lt;/mark&gt; <mark>library</mark>"),
        ("\ue000hi\ue001", "hi <mark>library</mark>"),
    ],
)
def test_markup_written_as_text_is_shown_escaped_in_the_snippet(markup, shown):
    """The snippet made without PostgreSQL's headline (SQLite; or a title-only match)."""
    post = PostFactory(body=f"Opening paragraph.\n\n{markup} library opens on Sundays.")
    assert shown in search.snippet(post, "library")


def test_a_title_and_excerpt_with_markup_are_escaped(client):
    PostFactory(title="<b>Library</b> hours", excerpt="<i>Library</i> hours")
    html = search_page(client, "library")
    assert "<b>Library" not in html and "<i>Library" not in html
    assert result_titles(html) == ["<b>Library</b> hours"]


# --- Search engines and SQL ------------------------------------------------------------------


@pytest.mark.parametrize("q", [None, "library", "xylophone", "x" * 300])
def test_search_pages_are_noindex(client, q):
    PostFactory(title="Library hours")
    assert '<meta name="robots" content="noindex' in search_page(client, q)


SEARCH_QUERIES = 4  # count, posts (with author and image), categories, the site state


def test_search_query_count_is_constant(client, django_assert_num_queries):
    categories = CategoryFactory.create_batch(2)
    tags = TagFactory.create_batch(3)
    author = AuthorFactory()

    def make(n):
        for _ in range(n):
            PostFactory(title="Library hours", author=author, categories=categories, tags=tags)

    make(3)
    url = f"{SEARCH}?q=library"
    client.get(url)  # warm the Site cache, as on a running server
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    small = len(few)  # read now: the next request resets the query log
    make(27)
    with django_assert_num_queries(small):
        html = client.get(url).content.decode()
    assert summary(html) == "30 posts match “library”."
    assert small == SEARCH_QUERIES, f"{small} queries"


# --- PostgreSQL: stemming, ranking, index, keeping the index current ---------------------------


@postgresql_only
def test_stemming_finds_other_forms_of_a_word(client):
    post = PostFactory(body="Opening paragraph.\n\nThe council outsourced its parking service.")
    assert result_titles(search_page(client, "outsourcing")) == [post.title]
    assert result_titles(search_page(client, "outsource")) == [post.title]


@postgresql_only
def test_a_title_match_ranks_above_a_newer_body_match(client):
    in_title = PostFactory(title="Library strategy", published_at=ago(30))
    in_body = PostFactory(
        title="Council meeting", body="Opening.\n\nWe discussed the library.", published_at=ago(1)
    )
    assert result_titles(search_page(client, "library")) == [in_title.title, in_body.title]


@postgresql_only
def test_a_category_or_tag_match_ranks_above_a_body_match(client):
    in_body = PostFactory(title="Council meeting", body="Minutes.\n\nWe discussed recycling.")
    tagged = PostFactory(title="Bins", tags=[TagFactory(name="recycling")], published_at=ago(9))
    assert result_titles(search_page(client, "recycling")) == [tagged.title, in_body.title]


@postgresql_only
def test_the_search_vector_has_a_gin_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'posts_post' "
            "AND indexname = 'post_search_vector_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


@postgresql_only
def test_renaming_a_category_makes_its_posts_findable_by_the_new_name(client):
    category = CategoryFactory(name="Highways")
    post = PostFactory(categories=[category])
    assert result_titles(search_page(client, "thoroughfares")) == []
    category.name = "Thoroughfares"
    category.save()
    assert result_titles(search_page(client, "thoroughfares")) == [post.title]
    assert result_titles(search_page(client, "highways")) == []


@postgresql_only
def test_renaming_a_tag_makes_its_posts_findable_by_the_new_name(client):
    tag = TagFactory(name="bins")
    post = PostFactory(tags=[tag])
    tag.name = "wheelie"
    tag.save()
    assert result_titles(search_page(client, "wheelie")) == [post.title]
    assert result_titles(search_page(client, "bins")) == []


@postgresql_only
def test_adding_and_removing_a_tag_updates_what_finds_the_post(client):
    post = PostFactory()
    potholes = TagFactory(name="potholes")
    assert result_titles(search_page(client, "potholes")) == []
    post.tags.add(potholes)
    assert result_titles(search_page(client, "potholes")) == [post.title]
    post.tags.remove(potholes)
    assert result_titles(search_page(client, "potholes")) == []


@postgresql_only
def test_filing_posts_from_the_categorys_side_makes_them_findable(client):
    posts = PostFactory.create_batch(2)
    category = CategoryFactory(name="Libraries")
    category.posts.add(*posts)
    assert sorted(result_titles(search_page(client, "libraries"))) == sorted(p.title for p in posts)


@postgresql_only
def test_search_headline_marks_stemmed_matches(client):
    PostFactory(body="Opening paragraph.\n\nTwo libraries will close in the spring.")
    (post,) = search.search("library")
    assert search.sanitiser.MARK_START in post.headline
    (snippet,) = snippets(search_page(client, "library"))
    assert "<mark>libraries</mark>" in snippet  # ts_headline's mark, not a substring match
