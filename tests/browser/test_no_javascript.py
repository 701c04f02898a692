"""Without JavaScript the public site is complete: pages render and links take you around."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def loaded(image):
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_reading_the_blog_without_javascript(page_no_js, blog):
    page = page_no_js

    page.goto("/")
    main = page.get_by_role("main")
    expect(main.get_by_role("article")).to_have_count(3)
    summary = main.get_by_role("article", name=blog.post.title)
    expect(summary).to_contain_text("I hold a surgery every month")
    assert loaded(summary.locator("img")), "the post's picture did not load"
    expect(page.get_by_role("complementary", name="Browse the blog")).to_contain_text("June 2011")
    expect(page.get_by_role("contentinfo").get_by_role("link")).to_contain_text(
        ["About", "House rules", "Privacy notice", "Accessibility statement"]
    )

    # Home → post.
    summary.get_by_role("link", name=blog.post.title, exact=True).click()
    expect(page).to_have_url(re.compile(r"/2011/06/30/ward-surgery-dates-for-the-summer/$"))
    article = page.get_by_role("article", name=blog.post.title)
    expect(article.locator("time")).to_have_text("30 June 2011")
    expect(article.get_by_role("heading", name="Dates and places")).to_be_visible()
    expect(article.get_by_role("cell", name="Church End Library").first).to_be_visible()
    featured = article.get_by_role("img", name=blog.post.image_alt)
    expect(featured).to_be_visible()
    assert loaded(featured), "the featured picture did not load"
    expect(article.get_by_role("link", name="Surgery timetable 2011")).to_have_attribute(
        "href", re.compile(r"^/media/attachments/.+\.pdf$")
    )
    expect(article.get_by_role("link", name="surgeries", exact=True)).to_be_visible()

    # Post → category.
    article.get_by_role("link", name="Ward news").click()
    expect(page).to_have_url(re.compile(r"/category/ward-news/$"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Ward news")
    expect(main.get_by_role("article")).to_have_count(2)

    # Category → a month in the archives.
    page.get_by_role("complementary").get_by_role("link", name="May 2011").click()
    expect(page).to_have_url(re.compile(r"/2011/05/$"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Posts from May 2011")
    expect(main.get_by_role("article")).to_have_count(1)
    expect(main.get_by_role("article", name=blog.older.title)).to_be_visible()


def test_flat_pages_without_javascript(page_no_js, site_content):
    page = page_no_js
    page.goto("/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="About").click()
    expect(page).to_have_url(re.compile(r"/about/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("About this blog")
    expect(page.get_by_role("main")).to_contain_text("This site is not run by the council.")

    page.get_by_role("main").get_by_role("link", name="house rules").click()
    expect(page).to_have_url(re.compile(r"/house-rules/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("House rules for comments")
    expect(page.get_by_role("main").get_by_role("listitem")).to_have_count(7)

    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Accessibility statement").click()
    expect(page).to_have_url(re.compile(r"/accessibility/$"))
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Accessibility statement")
    for section in ("How accessible this website is", "Feedback and contact information"):
        expect(main.get_by_role("heading", name=section)).to_be_visible()
