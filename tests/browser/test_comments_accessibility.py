"""axe-core finds no WCAG 2.2 A/AA problems anywhere a resident comments: the discussion
(threads, a removed comment's placeholder, the Author badge, likes, a comment awaiting
moderation), the reply form moved by JavaScript, the form with errors, the reply page, the
preview and the email confirmation page."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from comments import services
from tests.browser import test_comments_browser as journeys
from tests.browser.conftest import axe_check, london

pytestmark = pytest.mark.browser

# The journeys' fixtures: the seed post's exchange and a removed comment on a post.
discussion_rules = journeys.discussion_rules
thread = journeys.thread


def test_post_page_with_a_threaded_discussion_has_no_wcag_violations(page, thread):
    page.goto(thread.url)
    discussion = page.get_by_role("region", name=re.compile(r"^3 Responses to"))
    expect(discussion.locator(".comment-removed")).to_contain_text("Removed by a moderator on")
    expect(discussion.locator(".badge--author")).to_have_text("Author")
    expect(page.get_by_role("button", name="Like this post")).to_be_visible()
    axe_check(page)


def test_own_comment_awaiting_moderation_and_liked_post_have_no_wcag_violations(
    page, thread, settings
):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    page.goto(thread.url)
    page.get_by_role("button", name="Like this post").click()
    expect(page.get_by_role("button", name="Like this post", pressed=True)).to_be_visible()
    journeys.fill_in_details(page)
    page.get_by_role("textbox", name="Comment", exact=True).fill("When is the next surgery?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Your comment is awaiting moderation.")).to_be_visible()
    axe_check(page)


def test_reply_form_moved_under_a_comment_has_no_wcag_violations(page, thread):
    page.goto(thread.url)
    page.get_by_role("link", name="Reply to Mrs Angry, Broken Barnet blog").click()
    expect(page.locator(f"#comment-{thread.angry.pk} #respond")).to_be_visible()
    axe_check(page)


def test_comment_form_with_errors_has_no_wcag_violations(page, thread):
    page.goto(thread.url)
    page.get_by_role("textbox", name="Email", exact=True).fill("not an email address")
    page.get_by_role("textbox", name="Website", exact=True).fill("javascript:alert(1)")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem with your comment")
    axe_check(page)


def test_reply_page_has_no_wcag_violations(page, thread):
    page.goto(f"/comments/reply/{thread.reply.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply to Robert Rams")
    axe_check(page)


def test_preview_page_has_no_wcag_violations(page, thread):
    page.goto(thread.url)
    journeys.fill_in_details(page)
    page.get_by_role("textbox", name="Comment", exact=True).fill(
        "First paragraph.\n\nSecond, with a link: https://www.barnet.gov.uk/"
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Preview your comment")
    preview = page.get_by_role("region", name="How your comment will look")
    expect(preview.get_by_role("link", name="https://www.barnet.gov.uk/")).to_be_visible()
    axe_check(page)


def test_confirmation_page_has_no_wcag_violations(page, thread):
    comment = journeys.add_comment(
        thread.post,
        "Please confirm me.",
        london(2011, 7, 2, 10, 0),
        name="Joan Whitfield",
        is_public=False,
        confirmed=False,
    )
    page.goto(f"/comments/confirm/{services.confirmation_token(comment)}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your comment")
    axe_check(page)


def test_long_demo_discussion_reads_at_320px_without_sideways_scrolling(
    new_context, discussion_rules
):
    """The demo's discussion, four levels deep, on a narrow phone (WCAG 1.4.10, Reflow)."""
    call_command("load_demo", stdout=io.StringIO())
    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto("/2011/10/04/parking-charges-consultation-opens/")
    expect(page.locator("li.comment")).to_have_count(60)
    deepest = page.locator("ol.comment-children ol.comment-children ol.comment-children > li")
    expect(deepest.first).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 320, f"the page is {scroll_width}px wide at a 320px viewport"
    axe_check(page)
