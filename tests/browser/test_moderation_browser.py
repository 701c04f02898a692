"""Issue 11 in a browser: a resident reports a comment without JavaScript; axe finds no
WCAG 2.2 A/AA violations on the report, complaint, review and poster's answer pages (blank,
with errors, done) and on the public moderation record. axe is a script, so those checks
run with JavaScript on."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from comments import moderation_services, services
from comments.models import DefamationComplaint, HouseRule, Report
from tests.browser import test_comments_browser as journeys
from tests.browser.conftest import axe_check

pytestmark = pytest.mark.browser

discussion_rules = journeys.discussion_rules
thread = journeys.thread


def test_a_resident_reports_a_comment_without_javascript(page_no_js, thread):
    page = page_no_js
    page.goto(thread.url)
    page.get_by_role("link", name="Report the comment by Mrs Angry, Broken Barnet blog").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a comment")

    # Sent without a rule: the error summary, then the form again.
    page.get_by_label("It breaks a house rule").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the house rule")

    page.get_by_label("It breaks a house rule").check()
    page.get_by_label("Which house rule?").select_option(label=str(HouseRule.objects.get(number=2)))
    page.get_by_label("Tell us more (optional)").fill("It calls people names.")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your report")
    report = Report.objects.get()
    assert report.rule.number == 2 and report.explanation == "It calls people names."


def test_the_report_form_blank_with_errors_and_sent_has_no_wcag_violations(page, thread):
    # axe runs as a script: these checks are made with JavaScript on.
    page.goto(thread.url)
    page.get_by_role("link", name="Report the comment by Mrs Angry, Broken Barnet blog").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a comment")
    axe_check(page)

    # Sent without a rule: the error summary, then the form again.
    page.get_by_label("It breaks a house rule").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the house rule")
    axe_check(page)

    page.get_by_label("It breaks a house rule").check()
    page.get_by_label("Which house rule?").select_option(label=str(HouseRule.objects.get(number=2)))
    page.get_by_label("Tell us more (optional)").fill("It calls people names.")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your report")
    axe_check(page)
    report = Report.objects.get()
    assert report.rule.number == 2 and report.explanation == "It calls people names."


def test_the_complaint_form_and_public_record_have_no_wcag_violations(page, thread):
    page.goto(thread.url)
    page.get_by_role("link", name="Report the comment by Mrs Angry, Broken Barnet blog").click()
    page.get_by_role("link", name="make a defamation complaint").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("defamatory of you")
    axe_check(page)
    page.get_by_role("button", name="Send complaint").click()
    expect(page.get_by_role("alert")).to_be_visible()
    axe_check(page)
    page.get_by_label("Your full name").fill("Alex Complainant")
    page.get_by_label("Your email address").fill("alex@example.net")
    page.get_by_label("What do you understand the comment to mean?").fill("That I lied.")
    page.get_by_label("Why is it defamatory of you?").fill("It names me.")
    page.get_by_label("Which parts are factually inaccurate").fill("All of it.")
    page.get_by_label("I confirm that I do not have enough information").check()
    page.get_by_role("button", name="Send complaint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your complaint has been received")
    axe_check(page)
    assert DefamationComplaint.objects.get().status == DefamationComplaint.Status.AWAITING_POSTER

    # The poster's answer page, blank, with an error, and answered.
    link = re.search(r"/comments/respond/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    axe_check(page)
    page.get_by_label("I do not want my comment removed").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert")).to_be_visible()
    axe_check(page)
    page.get_by_label("I agree to my comment being removed").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("status")).to_contain_text("removed")
    axe_check(page)

    page.goto("/house-rules/")
    page.get_by_role("link", name="public moderation record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How comments are moderated")
    expect(page.get_by_role("img", name=re.compile("published, held, removed"))).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Reports received")
    axe_check(page)


def test_the_review_page_has_no_wcag_violations(page, thread):
    comment = thread.angry
    services.remove(comment, HouseRule.objects.get(number=1), by=None)
    event = comment.last_decision()
    page.goto(f"/comments/review/{services.review_token(event)}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("review")
    axe_check(page)
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_role("alert")).to_be_visible()
    axe_check(page)
    page.get_by_label("Why should the decision be looked at again?").fill("It was fair comment.")
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_role("status")).to_contain_text("received")
    axe_check(page)
    assert moderation_services.why_not_reviewable(event) == ""
