"""A councillor writes a post in the admin: picture, Markdown, preview, draft, publish."""

import re

import pytest
from django.utils import dateformat
from PIL import Image as PILImage
from playwright.sync_api import expect

from posts.models import Post
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.browser

TITLE = "New opening hours for Church End Library"
HEADING = "What changes in September"
ALT = "The reading room at Church End Library"


def test_author_uploads_a_picture_writes_previews_and_publishes(
    page, new_context, author_user, tmp_path
):
    picture = tmp_path / "reading-room.jpg"
    PILImage.new("RGB", (1200, 800), "#7a4e2d").save(picture, "JPEG", quality=90)

    # Sign in.
    page.goto("/admin/")
    page.get_by_label("Username").fill(author_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Write and manage the blog")).to_be_visible()

    # Blog > Images > Add.
    main = page.get_by_role("main")
    main.get_by_role("row", name=re.compile(r"^Images\b")).get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", name="Add image")).to_be_visible()
    page.get_by_label("Title").fill("Reading room")
    page.get_by_label("Alt text").fill(ALT)
    page.get_by_label("Picture").set_input_files(picture)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was added successfully")).to_be_visible()
    markdown = page.locator(".form-row", has_text="Markdown to insert in a post").locator("code")
    expect(markdown).to_have_text(
        re.compile(r"^!\[The reading room at Church End Library\]\(/media/")
    )
    image_markdown = markdown.inner_text()

    # Blog > Posts > Add.
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Blog").click()
    main = page.get_by_role("main")
    main.get_by_role("row", name=re.compile(r"^Posts\b")).get_by_role("link", name="Add").click()
    expect(page.get_by_role("heading", name="Add post")).to_be_visible()
    page.get_by_role("textbox", name="Title:", exact=True).fill(TITLE)
    page.get_by_role("textbox", name="Body:", exact=True).fill(
        f"# {HEADING}\n\n"
        "From September the library stays open until 8pm on weekdays.\n\n"
        f"{image_markdown}\n"
    )

    # The featured image, through the admin's autocomplete.
    page.locator(".field-image .select2-selection").click()
    page.locator(".select2-dropdown").get_by_role("searchbox").fill("Reading")
    page.get_by_role("option", name="Reading room").click()
    expect(page.locator(".field-image .select2-selection")).to_contain_text("Reading room")
    page.get_by_label("Featured image description").fill(ALT)

    # Preview the Markdown, rendered by the server.
    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Preview of the post body")
    expect(preview.get_by_role("heading", name=HEADING, level=2)).to_be_visible()
    expect(preview.get_by_role("img", name=ALT)).to_be_visible()

    # Save as a draft (the default status).
    expect(page.get_by_label("Status")).to_have_value("draft")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("was added successfully")).to_be_visible()

    visitor = new_context().new_page()
    visitor.goto("/")
    expect(visitor.get_by_role("heading", name="Latest posts")).to_be_attached()
    expect(visitor.get_by_role("main")).not_to_contain_text(TITLE)

    # The staff preview of the draft.
    page.get_by_role("link", name="View on site").click()
    expect(page.get_by_role("status")).to_contain_text("Draft — not public.")
    expect(page.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=HEADING, level=2)).to_be_visible()

    # Publish it from the list of posts.
    page.get_by_role("link", name="Edit this post").click()
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Posts").click()
    row = page.get_by_role("row", name=re.compile(re.escape(TITLE)))
    expect(row).to_contain_text("Draft")
    row.get_by_role("checkbox").check()
    page.get_by_role("combobox", name="Action:").select_option(label="Publish selected posts")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("Published 1 post(s).")).to_be_visible()
    expect(row).to_contain_text("Published")

    # A new visitor sees it, with its picture.
    visitor = new_context().new_page()
    visitor.goto("/")
    summary = visitor.get_by_role("article", name=TITLE)
    expect(summary).to_be_visible()
    expect(summary.locator("img")).to_have_attribute(
        "srcset", re.compile(r"480w, .* 960w, .* 1200w")
    )
    summary.get_by_role("link", name=TITLE, exact=True).click()

    day = Post.objects.get(title=TITLE).local_date  # the day it was published, in London
    expect(visitor).to_have_url(
        re.compile(rf"/{day:%Y/%m/%d}/new-opening-hours-for-church-end-library/$")
    )
    article = visitor.get_by_role("article", name=TITLE)
    expect(article.locator("time")).to_have_text(dateformat.format(day, "j F Y"))
    expect(article.get_by_role("heading", name=HEADING, level=2)).to_be_visible()
    featured = article.locator("figure img")
    expect(featured).to_have_attribute("srcset", re.compile(r"\d+w"))
    expect(featured).to_have_accessible_name(ALT)
    for image in (featured, article.locator(".post-body img")):
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), "image not loaded"
