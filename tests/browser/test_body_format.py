"""A post imported from WordPress keeps its HTML: the editor shows its body format, and the
preview renders the body the way the format says."""

import pytest
from playwright.sync_api import expect

from posts.models import Post
from tests.browser.conftest import log_in
from tests.factories import PostFactory

pytestmark = pytest.mark.browser

BODY = "<h2>Bins</h2>\n\nCollections move to *Tuesday*."


def test_the_preview_of_an_imported_html_post_follows_its_body_format(
    page, author_user, live_server
):
    post = PostFactory(
        author=author_user.author_profile,
        title="Bin collections",
        body=BODY,
        body_format=Post.BodyFormat.HTML,
        draft=True,
    )
    log_in(page.context, author_user, live_server)
    page.goto(f"/admin/posts/post/{post.pk}/change/")
    body_format = page.get_by_label("Body format")
    expect(body_format).to_have_value("html")

    page.get_by_role("button", name="Preview", exact=True).click()
    preview = page.get_by_role("region", name="Preview of the post body")
    expect(preview.get_by_role("heading", name="Bins", level=2)).to_be_visible()
    expect(preview).to_contain_text("Collections move to *Tuesday*.")  # HTML: no Markdown

    body_format.select_option("markdown")
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(preview.locator("em")).to_have_text("Tuesday")  # read as Markdown now
