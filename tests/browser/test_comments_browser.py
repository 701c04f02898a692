"""Residents comment, reply and like; a moderator approves; everyone else sees it only then.

Each journey is what a person does in Chromium, with and without JavaScript. The live server
runs in this process, so `settings` changes reach it and emails land in `mail.outbox`.
"""

import importlib
import re
from types import SimpleNamespace

import pytest
from django.core import mail
from playwright.sync_api import expect

from comments.demo import COUNCILLOR_REPLY, MRS_ANGRY
from comments.demo import add_comment as demo_add_comment
from comments.models import Comment
from tests.browser.conftest import PASSWORD, london

pytestmark = pytest.mark.browser

RESIDENT = {
    "Name": "Joan Whitfield",
    "Email": "joan.whitfield@example.org",
    "Website": "https://joanwhitfield.example.org/",
}


@pytest.fixture
def discussion_rules(site_content, settings):
    """What comments' data migration makes (house rules, discussion settings, the Moderators
    group, Authors' comment permissions), again after the previous live-server test's flush
    (see `site_content`); and no waiting between comments, which all come from 127.0.0.1."""
    from django.contrib.auth.models import Group, Permission
    from django.core.cache import cache

    from comments.models import HouseRule, ModerationSettings

    migration = importlib.import_module("comments.migrations.0002_rules_groups_settings")
    for number, title in migration.RULES:
        HouseRule.objects.get_or_create(number=number, defaults={"title": title})
    ModerationSettings.objects.get_or_create(pk=1)

    def permissions(pairs):
        return [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in pairs
        ]

    moderators, _ = Group.objects.get_or_create(name="Moderators")
    moderators.permissions.set(permissions(migration.MODERATOR_PERMISSIONS))
    site_content["authors_group"].permissions.add(*permissions(migration.AUTHOR_PERMISSIONS))

    settings.COMMENTS_MIN_SECONDS_TO_WRITE = 0
    settings.COMMENTS_FLOOD_SECONDS = 0
    cache.clear()  # rate limits are counted in the cache, which outlives a test's database
    return SimpleNamespace(moderators=moderators)


def add_comment(post, text, when, parent=None, user=None, name="", url="", **fields):
    """A comment (public unless `is_public=False`) saved through the model, so
    django-comments-xtd threads it."""
    if user is None:
        fields.update(user_name=name, user_email=f"{name.split()[-1].lower()}@example.org")
    return demo_add_comment(
        post, parent=parent, user=user, user_url=url, comment=text, submit_date=when, **fields
    )


@pytest.fixture
def thread(blog, discussion_rules):
    """The seed post's exchange on a post: Mrs Angry, the councillor's reply nested under
    her, and a comment removed by a moderator with a public reply still under it."""
    from comments.models import HouseRule

    councillor = blog.author.user
    councillor.first_name, councillor.last_name = "Robert", "Rams"
    councillor.save()
    angry = add_comment(
        blog.post,
        MRS_ANGRY,
        london(2011, 6, 30, 14, 12),
        name="Mrs Angry, Broken Barnet blog",
        url="https://brokenbarnet.blogspot.com/",
        followup=True,
    )
    reply = add_comment(blog.post, COUNCILLOR_REPLY, london(2011, 6, 30, 19, 47), angry, councillor)
    removed = add_comment(
        blog.post,
        "You are all crooks and liars, every one of you.",
        london(2011, 7, 1, 8, 5),
        name="Tom Hennessy",
    )
    removed.remove(HouseRule.objects.get(number=1))
    under_removed = add_comment(
        blog.post,
        "Can we keep this civil, please? Some of us would like to read the arguments.",
        london(2011, 7, 1, 9, 30),
        removed,
        name="Sarah Goldberg",
    )
    return SimpleNamespace(
        post=blog.post,
        url=blog.post.get_absolute_url(),
        councillor=councillor,
        angry=angry,
        reply=reply,
        removed=removed,
        under_removed=under_removed,
    )


@pytest.fixture
def moderator(discussion_rules):
    from tests.factories import UserFactory

    user = UserFactory(
        username="moderator",
        first_name="Maya",
        last_name="Reid",
        email="moderator@example.org",
        is_staff=True,
    )
    user.groups.add(discussion_rules.moderators)
    return user


def fill_in_details(form, website=True):
    form.get_by_role("textbox", name="Name", exact=True).fill(RESIDENT["Name"])
    form.get_by_role("textbox", name="Email", exact=True).fill(RESIDENT["Email"])
    if website:
        form.get_by_role("textbox", name="Website", exact=True).fill(RESIDENT["Website"])


def posted_comment(page):
    """The comment a redirect after posting points at (…#comment-<id>)."""
    expect(page).to_have_url(re.compile(r"#comment-\d+$"))
    return Comment.objects.get(pk=int(page.url.rsplit("#comment-", 1)[1]))


def responses_heading(page):
    return page.get_by_role("heading", name=re.compile(r"^\d+ Responses? to"))


def approve_in_admin(page, *comments):
    """On the Pending queue, tick `comments` and run "Approve selected comments"."""
    for comment in comments:
        page.locator(f"#result_list input[name=_selected_action][value='{comment.pk}']").check()
    page.locator("select[name=action]").select_option(label="Approve selected comments")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Approved {len(comments)} comment")
    for comment in comments:
        comment.refresh_from_db()
        assert comment.is_visible, f"{comment} was not approved"


def sign_in_to_admin(page, user):
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_resident_comment_waits_for_confirmation_and_a_moderator_then_everyone_sees_it(
    page, new_context, thread, moderator
):
    page.goto(thread.url)
    expect(responses_heading(page)).to_have_text(
        f"3 Responses to “{thread.post.title}”", use_inner_text=True
    )
    form = page.get_by_role("region", name="Leave a Reply")
    fill_in_details(form)
    text = "Will the July surgery still be at Church End Library while the roof is repaired?"
    form.get_by_role("textbox", name="Comment", exact=True).fill(text)
    form.get_by_role("checkbox", name="Notify me of follow-up comments by email").check()
    form.get_by_role("button", name="Post comment").click()

    # Back on the post, at the comment, which only its author can see for now.
    expect(page).to_have_url(re.compile(rf"^.*{re.escape(thread.url)}\?posted=1#comment-\d+$"))
    comment = posted_comment(page)
    assert (comment.followup, comment.confirmed, comment.is_public) == (True, False, False)
    mine = page.locator(f"#comment-{comment.pk}")
    expect(mine).to_contain_text(text)
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    expect(mine).to_contain_text("Please confirm your email address")
    expect(responses_heading(page)).to_contain_text("3 Responses")

    neighbour = new_context().new_page()
    neighbour.goto(thread.url)
    expect(responses_heading(neighbour)).to_contain_text("3 Responses")
    expect(neighbour.locator(f"#comment-{comment.pk}")).to_have_count(0)
    expect(neighbour.get_by_text(text)).to_have_count(0)

    # The email asks Joan to confirm; the link shows the comment and a button (scanners GET).
    (confirmation,) = [m for m in mail.outbox if m.to == [RESIDENT["Email"]]]
    assert confirmation.subject.endswith("Please confirm your comment")
    confirm_path = re.search(r"/comments/confirm/[^/\s]+/", confirmation.body).group()
    page.goto(confirm_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your comment")
    expect(page.get_by_role("main")).to_contain_text(text)
    page.get_by_role("button", name="Confirm my comment").click()
    expect(page).to_have_url(re.compile(rf"#comment-{comment.pk}$"))
    mine = page.locator(f"#comment-{comment.pk}")
    expect(mine).to_contain_text("Your comment is awaiting moderation.")
    expect(mine).not_to_contain_text("Please confirm your email address")
    comment.refresh_from_db()
    assert comment.confirmed and comment.queue == "pending"

    # Moderators hear of it and follow the email's link to the Pending queue.
    (held,) = [m for m in mail.outbox if moderator.email in m.to]
    assert "waiting for moderation" in held.subject
    queue_path = re.search(r"/admin/\S+", held.body).group()
    assert queue_path.endswith("?queue=pending")
    desk = new_context().new_page()
    desk.goto(queue_path)
    sign_in_to_admin(desk, moderator)
    expect(desk).to_have_url(re.compile(r"/admin/comments/comment/\?queue=pending$"))
    expect(desk.locator("#result_list")).to_contain_text(RESIDENT["Name"])
    expect(desk.locator("#result_list")).to_contain_text("First comment from this email address.")
    approve_in_admin(desk, comment)

    # Now the neighbour sees it, in place: a new thread after the others.
    neighbour.reload()
    expect(responses_heading(neighbour)).to_contain_text("4 Responses")
    threads = neighbour.locator("#comments ol.comment-list > li.comment")
    expect(threads).to_have_count(3)
    expect(threads.last).to_have_id(f"comment-{comment.pk}")
    expect(threads.last).to_contain_text(text)
    expect(threads.last).not_to_contain_text("awaiting moderation")
    expect(threads.last.get_by_role("link", name=RESIDENT["Name"], exact=True)).to_have_attribute(
        "href", RESIDENT["Website"]
    )
    # Mrs Angry follows the post and hears of the approved comment; Joan does not hear of
    # her own.
    follow_ups = [m for m in mail.outbox if "New comment on" in m.subject]
    assert [m.to for m in follow_ups] == [[thread.angry.user_email]]
    assert "List-Unsubscribe" in follow_ups[0].extra_headers


def test_resident_comments_and_replies_without_javascript(new_context, thread, moderator, settings):
    settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    page = new_context(java_script_enabled=False).new_page()
    page.goto(thread.url)
    form = page.get_by_role("region", name="Leave a Reply")
    fill_in_details(form, website=False)
    form.get_by_role("textbox", name="Comment", exact=True).fill(
        "Thank you for the surgery dates. Is there step-free access at the library?"
    )
    form.get_by_role("checkbox", name="Remember my name, email and website in this browser").check()
    form.get_by_role("button", name="Post comment").click()
    first = posted_comment(page)
    expect(page.locator(f"#comment-{first.pk}")).to_contain_text(
        "Your comment is awaiting moderation."
    )

    # "Reply" under the councillor's reply opens a page for it.
    page.locator(f"#comment-{thread.reply.pk}").get_by_role(
        "link", name="Reply to Robert Rams"
    ).click()
    expect(page).to_have_url(re.compile(rf"/comments/reply/{thread.reply.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply to Robert Rams")
    expect(page.get_by_role("region", name="Robert Rams wrote")).to_contain_text(
        "Either we look at different ways"
    )
    # Remembered from the first comment.
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value(RESIDENT["Name"])
    expect(page.get_by_role("textbox", name="Email", exact=True)).to_have_value(RESIDENT["Email"])
    answer = "Which back office services are in the contract? The business case does not say."
    page.get_by_role("textbox", name="Comment", exact=True).fill(answer)
    page.get_by_role("button", name="Post comment").click()

    second = posted_comment(page)
    assert (second.parent_id, second.level) == (thread.reply.pk, 2)
    nested = page.locator(
        f"#comment-{thread.reply.pk} > ol.comment-children > li#comment-{second.pk}"
    )
    expect(nested).to_contain_text(answer)
    expect(nested).to_contain_text("Your comment is awaiting moderation.")

    neighbour = new_context(java_script_enabled=False).new_page()
    neighbour.goto(thread.url)
    expect(neighbour.locator(f"#comment-{first.pk}, #comment-{second.pk}")).to_have_count(0)

    # A moderator approves both, without JavaScript too.
    desk = new_context(java_script_enabled=False).new_page()
    desk.goto("/admin/comments/comment/?queue=pending")
    sign_in_to_admin(desk, moderator)
    approve_in_admin(desk, first, second)

    neighbour.reload()
    expect(responses_heading(neighbour)).to_contain_text("5 Responses")
    expect(neighbour.locator(f"#comments ol.comment-list > li#comment-{first.pk}")).to_be_visible()
    expect(
        neighbour.locator(
            f"#comment-{thread.reply.pk} > ol.comment-children > li#comment-{second.pk}"
        )
    ).to_contain_text(answer)


def test_reply_form_moves_under_the_councillors_reply_and_the_reply_nests_there(page, thread):
    page.goto(thread.url)
    councillor = page.locator(f"#comment-{thread.reply.pk}")
    councillor.get_by_role("link", name="Reply to Robert Rams").click()

    respond = page.get_by_role("region", name="Reply to Robert Rams")
    expect(councillor.locator("#respond")).to_be_visible()
    expect(respond.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    expect(page.locator("input[name=reply_to]")).to_have_value(str(thread.reply.pk))

    # Cancel puts it back; a second "Reply" brings it again.
    respond.get_by_role("button", name="Cancel reply").click()
    expect(page.locator("#comments > #respond")).to_be_attached()
    expect(page.get_by_role("heading", name="Leave a Reply")).to_be_focused()
    expect(page.locator("input[name=reply_to]")).to_have_value("")
    councillor.get_by_role("link", name="Reply to Robert Rams").click()

    fill_in_details(respond)
    answer = "Is the library strategy really the right comparison? Libraries stayed in house."
    respond.get_by_role("textbox", name="Comment", exact=True).fill(answer)
    respond.get_by_role("button", name="Post comment").click()

    new = posted_comment(page)
    assert (new.parent_id, new.thread_id, new.level) == (thread.reply.pk, thread.angry.pk, 2)
    nested = page.locator(
        f"#comment-{thread.angry.pk} > ol.comment-children > li#comment-{thread.reply.pk}"
        f" > ol.comment-children > li#comment-{new.pk}"
    )
    expect(nested).to_contain_text(answer)
    expect(nested).to_contain_text("Your comment is awaiting moderation.")
    # The form is back at the foot of the discussion, for a new comment.
    expect(page.locator("#comments > #respond")).to_be_attached()
    expect(page.locator("input[name=reply_to]")).to_have_value("")


def test_empty_and_too_long_comments_get_clear_errors_and_keep_the_text(page, thread):
    page.goto(thread.url)
    page.get_by_role("region", name="Leave a Reply").get_by_role(
        "button", name="Post comment"
    ).click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem with your comment")
    expect(summary).to_be_focused()  # so screen readers read it first, without JavaScript too
    for label in ("Name", "Email", "Comment"):
        field = page.get_by_role("textbox", name=label, exact=True)
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", re.compile(r"-error\b"))
        expect(summary.get_by_role("link", name=re.compile(rf"^{label}: "))).to_be_visible()
    expect(page.get_by_role("textbox", name="Website", exact=True)).not_to_have_attribute(
        "aria-invalid", "true"
    )
    summary.get_by_role("link", name=re.compile(r"^Comment: ")).click()
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()

    fill_in_details(page)
    too_long = ("Parking on Regents Park Road. " * 101)[:3001]
    page.get_by_role("textbox", name="Comment", exact=True).fill(too_long)
    page.get_by_role("button", name="Post comment").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("3001 characters long; the limit is 3000")
    expect(summary).to_contain_text("nothing has been cut")
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value(too_long)
    expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value(RESIDENT["Name"])
    assert not Comment.objects.filter(user_email=RESIDENT["Email"]).exists()


def test_like_without_javascript_counts_one_person_per_browser(new_context, thread):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(thread.url)
    likes = page.locator("#likes")
    expect(likes).to_contain_text("0 people like this")

    likes.get_by_role("button", name="Like this post").click()
    expect(page).to_have_url(re.compile(r"#likes$"))
    expect(likes).to_contain_text("1 person likes this")
    # A toggle button: its name stays the same, its state changes.
    expect(likes.get_by_role("button", name="Like this post", pressed=True)).to_be_visible()
    page.reload()
    expect(likes).to_contain_text("1 person likes this")

    other = new_context(java_script_enabled=False).new_page()
    other.goto(thread.url)
    other.locator("#likes").get_by_role("button", name="Like this post").click()
    expect(other.locator("#likes")).to_contain_text("2 people like this")

    likes.get_by_role("button", name="Like this post", pressed=True).click()
    expect(likes).to_contain_text("1 person likes this")
    expect(likes.get_by_role("button", name="Like this post", pressed=False)).to_be_visible()
