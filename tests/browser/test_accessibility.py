"""axe-core finds no WCAG 2.2 A/AA problems on any kind of public page, nor on the preview.

Automated checks find only some problems; the journeys in the other modules cover keyboard
use and reading without JavaScript.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check, log_in

pytestmark = pytest.mark.browser

PAGES = {
    "home": lambda blog: "/",
    "post": lambda blog: blog.post.get_absolute_url(),
    "year archive": lambda blog: "/2011/",
    "month archive": lambda blog: "/2011/06/",
    "day archive": lambda blog: "/2011/06/30/",
    "category": lambda blog: blog.ward_news.get_absolute_url(),
    "tag": lambda blog: blog.surgeries.get_absolute_url(),
    "author": lambda blog: blog.author.get_absolute_url(),
    "about page": lambda blog: "/about/",
    "accessibility statement": lambda blog: "/accessibility/",
    "search with results": lambda blog: "/search/?q=surgery",
    "search with no results": lambda blog: "/search/?q=zebra+crossings",
    "search form": lambda blog: "/search/",
    "search with an error": lambda blog: "/search/?q=" + "x" * 300,
}


@pytest.mark.parametrize("address", PAGES.values(), ids=PAGES.keys())
def test_public_page_has_no_wcag_violations(page, blog, address):
    response = page.goto(address(blog))
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    axe_check(page)


def test_not_found_page_has_no_wcag_violations(page, blog):
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    axe_check(page)


def test_staff_preview_of_a_draft_has_no_wcag_violations(page, blog, live_server):
    from tests.factories import PostFactory

    draft = PostFactory(
        draft=True,
        title="Draft: the new recycling rounds",
        author=blog.author,
        body="## Which day is my collection?\n\nThe new rounds start in October.",
        image=blog.picture,
        image_alt="A green recycling box on a doorstep",
        categories=[blog.ward_news],
        tags=[blog.budget],
    )
    log_in(page.context, blog.author.user, live_server)
    page.goto(f"/preview/{draft.pk}/")
    expect(page.get_by_role("status")).to_contain_text("Draft — not public.")
    expect(page.get_by_role("heading", level=1)).to_have_text(draft.title)
    axe_check(page)


@pytest.mark.parametrize(
    "address",
    [PAGES["home"], PAGES["post"]],
    ids=["home", "post"],
)
def test_narrow_screen_needs_no_horizontal_scrolling(new_context, blog, address):
    """At 320 CSS pixels (WCAG 1.4.10, Reflow) nothing forces sideways scrolling."""
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto(address(blog))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"the page is {scroll_width}px wide at a 320px viewport"
    axe_check(page)


def test_axe_check_reports_violations(page):
    """The helper really runs axe: a picture without a text alternative fails it."""
    page.set_content(
        '<html lang="en"><head><title>Broken</title></head>'
        '<body><main><h1>Broken</h1><img src="data:,"></main></body></html>'
    )
    with pytest.raises(AssertionError, match="image-alt"):
        axe_check(page)
