"""The pages of a bad day (issue 9) pass axe: the 503 page shown while the database is down,
and the page shown once sign-in to the admin is paused (reached through the real form)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser


def test_the_database_unavailable_page_has_no_wcag_violations(page, live_server):
    from core.faults import unavailable_response

    page.goto("/healthz")  # the page's address, so its stylesheet loads from the live server
    page.set_content(unavailable_response().content.decode())
    expect(page.get_by_role("heading", level=1)).to_have_text("The blog will be back shortly")
    expect(page.get_by_role("link", name="Go to the latest posts")).to_be_visible()
    axe_check(page)


def test_sign_in_paused_after_five_wrong_passwords_has_no_wcag_violations(
    page, site_content, settings
):
    from tests.factories import UserFactory

    UserFactory(username="robertrams", is_staff=True)
    page.goto("/admin/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("Username").fill("robertrams")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign-in paused")
    expect(page.get_by_text("for 15 minutes")).to_be_visible()
    axe_check(page)
