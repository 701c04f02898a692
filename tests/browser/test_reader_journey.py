"""A resident reads the blog: from the home page to a post, its category and its month."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def post_titles(main):
    """The titles of the posts listed, in order."""
    return main.get_by_role("article").get_by_role("heading", level=2)


def test_reader_goes_from_home_to_post_to_category_to_month(page, blog):
    page.goto("/")
    expect(page).to_have_title("Barnet Blog")
    main = page.get_by_role("main")
    # Newest first.
    expect(post_titles(main)).to_have_text([blog.newer.title, blog.post.title, blog.older.title])

    main.get_by_role("link", name=blog.post.title, exact=True).click()

    expect(page).to_have_url(re.compile(r"/2011/06/30/ward-surgery-dates-for-the-summer/$"))
    expect(page).to_have_title(f"{blog.post.title} – Barnet Blog")
    article = page.get_by_role("article", name=blog.post.title)
    expect(article.get_by_role("heading", level=1)).to_have_text(blog.post.title)
    expect(article.locator("time")).to_have_text("30 June 2011")
    expect(article).to_contain_text("No appointment is needed.")
    expect(article.get_by_role("heading", name="Dates and places")).to_be_visible()
    expect(article.get_by_role("cell", name="Finchley Youth Theatre")).to_be_visible()
    expect(article.get_by_role("link", name="Robert Rams")).to_be_visible()
    # The neighbours, in date order.
    more = page.get_by_role("navigation", name="More posts")
    expect(more.get_by_role("link", name=blog.older.title)).to_be_visible()
    expect(more.get_by_role("link", name=blog.newer.title)).to_be_visible()

    article.get_by_role("link", name="Ward news").click()

    expect(page).to_have_url(re.compile(r"/category/ward-news/$"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Ward news")
    expect(post_titles(main)).to_have_text([blog.newer.title, blog.post.title])

    sidebar = page.get_by_role("complementary", name="Browse the blog")
    categories = sidebar.get_by_role("region", name="Categories")
    # Not their order: Meta.ordering is dropped from the sidebar's GROUP BY query, so it is
    # the database's choice (alphabetical on SQLite, not always on PostgreSQL).
    expect(categories.get_by_role("link")).to_have_count(2)
    for name in ("Libraries", "Ward news"):
        expect(categories.get_by_role("link", name=name)).to_be_visible()
    archives = sidebar.get_by_role("region", name="Archives")
    expect(archives.get_by_role("link")).to_have_text(["July 2011", "June 2011", "May 2011"])
    archives.get_by_role("link", name="June 2011").click()

    expect(page).to_have_url(re.compile(r"/2011/06/$"))
    expect(page).to_have_title("Posts from June 2011 – Barnet Blog")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Posts from June 2011")
    expect(post_titles(main)).to_have_text([blog.post.title])
    expect(main.locator("time")).to_have_text("30 June 2011")
