"""axe-core finds no WCAG 2.2 A/AA problems on the pages issue 12 (part 2) adds or changes:
the pre-election banner (on the home page and a post, where the comment policy shows too),
the page explaining the period, election material with its imprint, a corrected post with a
withdrawn correction, and /corrections/ (with corrections, paginated, and empty).

The period is in force today, so the live server needs no clock of its own.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser


@pytest.fixture
def period(blog):
    from posts.models import ElectionPeriod

    today = timezone.localdate()
    return ElectionPeriod.objects.create(
        name="Barnet Council elections",
        starts_on=today - datetime.timedelta(days=10),
        polling_day=today + datetime.timedelta(days=20),
        comment_policy=ElectionPeriod.CommentPolicy.HOLD,
        banner="This blog is in its **pre-election period** until polling day.",
        explanation="Posts about council services continue. See the [house rules](/house-rules/).",
    )


@pytest.fixture
def election_post(blog):
    from posts.models import SiteSettings
    from tests.factories import PostFactory

    SiteSettings.objects.update_or_create(
        pk=1,
        defaults={
            "imprint_promoter": "Sam Agent",
            "imprint_promoter_address": "1 Station Road, Barnet EN5 1AA",
            "imprint_on_behalf_of": "Robert Rams",
            "imprint_on_behalf_of_address": "2 High Street, Barnet EN5 5XX",
        },
    )
    return PostFactory(
        title="Why I am standing again",
        author=blog.author,
        election_material=True,
        body="Four more years of keeping the libraries open.",
    )


@pytest.fixture
def corrected(blog):
    from posts.models import Correction

    first = Correction.objects.create(
        post=blog.post, text="The August surgery is at **Finchley Youth Theatre**, not the library."
    )
    Correction.objects.create(post=blog.post, text="The July surgery starts at 10:00.")
    first.withdraw("The venue did not change after all.")
    return blog.post


def test_the_banner_on_the_home_page_has_no_wcag_violations(page, period):
    page.goto("/")
    banner = page.get_by_role("region", name="Pre-election period")
    expect(banner).to_contain_text("pre-election period until polling day")
    expect(banner.get_by_role("link")).to_have_text(
        "What the pre-election period means for this blog"
    )
    axe_check(page)


def test_a_post_during_the_period_has_no_wcag_violations(page, period, blog):
    page.goto(blog.post.get_absolute_url())
    expect(page.get_by_role("region", name="Pre-election period")).to_be_visible()
    expect(page.locator(".election-note")).to_contain_text("every comment is held")
    axe_check(page)


def test_the_explanation_page_has_no_wcag_violations(page, period):
    page.goto("/pre-election-period/")
    expect(page.get_by_role("heading", level=1)).to_have_text("The pre-election period")
    expect(page.get_by_role("main")).to_contain_text("Barnet Council elections")
    axe_check(page)


def test_the_explanation_page_outside_a_period_has_no_wcag_violations(page, blog):
    page.goto("/pre-election-period/")
    expect(page.get_by_role("main")).to_contain_text("not in a pre-election period now")
    axe_check(page)


def test_election_material_with_its_imprint_has_no_wcag_violations(page, period, election_post):
    page.goto(election_post.get_absolute_url())
    expect(page.locator(".imprint")).to_have_text(
        "Promoted by Sam Agent of 1 Station Road, Barnet EN5 1AA on behalf of Robert Rams of "
        "2 High Street, Barnet EN5 5XX."
    )
    axe_check(page)


def test_a_corrected_post_has_no_wcag_violations(page, corrected):
    page.goto(corrected.get_absolute_url())
    corrections = page.get_by_role("region", name="Corrections")
    expect(corrections).to_contain_text("The July surgery starts at 10:00.")
    expect(corrections).to_contain_text("Withdrawn on")
    axe_check(page)


def test_the_corrections_page_has_no_wcag_violations(page, corrected):
    page.goto("/corrections/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Corrections")
    expect(page.get_by_role("main").get_by_role("link", name=corrected.title)).to_have_count(2)
    axe_check(page)


def test_the_corrections_page_paginated_has_no_wcag_violations(page, blog, settings):
    from posts.models import Correction

    for n in range(settings.POSTS_PER_PAGE + 1):
        Correction.objects.create(post=blog.newer, text=f"Correction number {n}.")
    page.goto("/corrections/?page=2")
    expect(page.get_by_role("navigation", name="Pages")).to_contain_text("Newer corrections")
    axe_check(page)


def test_the_corrections_page_with_none_has_no_wcag_violations(page, blog):
    page.goto("/corrections/")
    expect(page.get_by_role("main")).to_contain_text("No post has needed a correction.")
    axe_check(page)
