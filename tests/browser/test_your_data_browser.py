"""Issue 12 in a browser: a resident finds "Your comments and your data" from the privacy
notice, asks for a link, opens it, downloads their data, stops follow-up emails and deletes
their comments, all without JavaScript; axe finds no WCAG 2.2 A/AA violations on any of the
pages, in every state (axe is a script, so those checks run with JavaScript on)."""

import json
import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from comments.models import Comment, DataRequest
from tests.browser import test_comments_browser as journeys
from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser

discussion_rules = journeys.discussion_rules
thread = journeys.thread

ANGRY_EMAIL = "blog@example.org"  # Mrs Angry, Broken Barnet blog (see journeys.add_comment)
LINK = re.compile(r"/comments/your-data/open/\S+/")


def ask_for_a_link(page, email=ANGRY_EMAIL):
    page.goto("/privacy/")
    page.get_by_role("link", name="your comments and your data").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your comments and your data")
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    (message,) = [m for m in mail.outbox if m.to == [email]]
    return LINK.search(message.body).group(0)


def test_a_resident_downloads_stops_and_deletes_their_comments_without_javascript(
    page_no_js, thread
):
    page = page_no_js
    link = ask_for_a_link(page)
    page.goto(link)
    page.get_by_role("button", name="Show my comments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your comments and your data")
    expect(page.get_by_text("Comments made with blog@example.org: 1.")).to_be_visible()
    mine = page.get_by_role("article")
    expect(mine).to_contain_text(thread.angry.comment[:40])

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [c["name"] for c in data["comments"]] == ["Mrs Angry, Broken Barnet blog"]
    assert data["comments"][0]["website"] == "https://brokenbarnet.blogspot.com/"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert "Mrs Angry" in Path(download.value.path()).read_text(encoding="utf-8")

    page.get_by_role("button", name="Stop all follow-up emails").click()
    expect(page.get_by_role("status")).to_have_text(
        "Done: you will get no more follow-up emails from this site."
    )
    assert not Comment.objects.get(pk=thread.angry.pk).followup

    page.get_by_role("button", name=re.compile("^Delete your comment of")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your comment?")
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_role("status")).to_have_text("Done: your comment has been deleted.")
    expect(page.get_by_text("No comments were made with this address any more")).to_be_visible()

    # The thread: her comment is a placeholder, the councillor's reply stays under it.
    page.goto(thread.url)
    angry = page.locator(f"#comment-{thread.angry.pk}")
    expect(angry.locator(".comment-removed").first).to_have_text(
        "Deleted at the commenter’s request."
    )
    expect(angry).to_contain_text(thread.reply.comment[:40])
    expect(page.locator("#comments")).not_to_contain_text("Mrs Angry")

    # The link worked once.
    page.goto(link)
    expect(page.get_by_role("main")).to_contain_text("This link has already been used")
    assert set(DataRequest.objects.values_list("kind", flat=True)) == {
        "export",
        "stop_emails",
        "erasure",
    }


def test_deleting_everything_ends_the_session_without_javascript(page_no_js, thread):
    page = page_no_js
    page.goto(ask_for_a_link(page, email="hennessy@example.org"))
    page.get_by_role("button", name="Show my comments").click()
    page.get_by_role("button", name="Delete all my comments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete all 1 of your comments?")
    page.get_by_role("button", name="Yes, delete them all").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your comments are deleted")
    page.goto("/comments/your-data/comments/")
    expect(page.get_by_role("main")).to_contain_text("Your session has ended")
    assert not Comment.objects.filter(user_email="hennessy@example.org").exists()


def test_every_your_data_page_and_form_state_has_no_wcag_violations(page, thread):
    page.goto("/comments/your-data/")
    axe_check(page)  # blank
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    axe_check(page)  # with an error
    page.get_by_label("Your email address").fill(ANGRY_EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    axe_check(page)  # sent
    (message,) = [m for m in mail.outbox if m.to == [ANGRY_EMAIL]]
    link = LINK.search(message.body).group(0)
    page.goto(link)
    axe_check(page)  # the link, before it is spent
    page.get_by_role("button", name="Show my comments").click()
    expect(page.get_by_role("heading", level=2, name="Your comments")).to_be_visible()
    axe_check(page)  # the list
    page.get_by_role("button", name="Stop all follow-up emails").click()
    expect(page.get_by_role("status")).to_be_visible()
    axe_check(page)  # done, with its message
    page.get_by_role("button", name="Delete all my comments").click()
    axe_check(page)  # the confirmation
    page.get_by_role("button", name="Yes, delete them all").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your comments are deleted")
    axe_check(page)  # deleted
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sorry")
    axe_check(page)  # a spent link
    page.goto("/privacy/")
    axe_check(page)  # the notice, with every retention period
