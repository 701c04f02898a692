"""Keyboard users can skip the header and navigation straight to the content."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_first_tab_reaches_skip_link_which_moves_focus_to_main(page, blog):
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    page.keyboard.press("Enter")
    main = page.get_by_role("main")
    expect(main).to_be_focused()
    # The next Tab goes to the first link in the content, not back to the header.
    page.keyboard.press("Tab")
    expect(main.get_by_role("link", name=blog.newer.title, exact=True)).to_be_focused()
