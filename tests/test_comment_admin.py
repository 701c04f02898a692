"""The moderators' side in the admin: queues, actions, the quick reply, the decision log,
the discussion settings, and who may see and do what."""

import re
from html import unescape

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags

from comments.models import Comment, HouseRule, ModerationEvent, ModerationSettings
from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:comments_comment_changelist")


def change_url(comment):
    return reverse("admin:comments_comment_change", args=[comment.pk])


def reply_url(comment):
    return reverse("admin:comments_comment_reply", args=[comment.pk])


def page_text(response):
    """The page as a person reads it: no tags, single spaces."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def listed(response):
    return {comment.pk for comment in response.context["cl"].result_list}


def act(client, action, comments, queue="pending", **extra):
    """Tick `comments` in a queue and run a bulk action, as the changelist form does."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in comments], "index": "0"}
    return client.post(f"{QUEUE_URL}?queue={queue}", {**data, **extra})


def fresh(comment):
    return Comment.objects.get(pk=comment.pk)


def staff_in(group_name, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def moderator():
    return staff_in("Moderators", username="mod", first_name="Maria", last_name="Moderator")


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def author_client(client, author_user):
    client.force_login(author_user)
    return client


# --- The queues -------------------------------------------------------------------------------


def test_the_queue_opens_on_pending_and_every_queue_shows_its_count(admin_client):
    pending = CommentFactory.create_batch(3, pending=True)
    CommentFactory.create_batch(2)
    spam = CommentFactory(spam=True)
    CommentFactory(removed=True)
    CommentFactory(unconfirmed=True)

    response = admin_client.get(QUEUE_URL)

    assert response.status_code == 200
    text = page_text(response)
    for label in ["Pending (3)", "Approved (2)", "Spam (1)", "Removed (1)", "Unconfirmed (1)"]:
        assert label in text
    assert response.context["title"] == "Pending comments"
    assert listed(response) == {c.pk for c in pending}

    response = admin_client.get(QUEUE_URL, {"queue": "spam"})
    assert response.context["title"] == "Spam comments"
    assert listed(response) == {spam.pk}


def test_an_unknown_queue_is_not_an_error_page(admin_client):
    response = admin_client.get(QUEUE_URL, {"queue": "nonsense"})
    assert response.status_code == 302
    assert admin_client.get(response.url).status_code == 200


def test_held_comments_show_why_they_were_held(admin_client):
    CommentFactory(pending=True, held_reason="Contains 2 links.")
    assert "Contains 2 links." in page_text(admin_client.get(QUEUE_URL))


def test_the_queue_shows_name_excerpt_post_and_date_but_never_email_or_ip(admin_client):
    comment = CommentFactory(
        pending=True,
        user_name="Mrs Angry",
        user_email="mrs.angry@example.org",
        ip_address="203.0.113.77",
        comment="The council has sold off the library. " * 10,
    )
    post = comment.content_object
    html = admin_client.get(QUEUE_URL).content.decode()
    assert "Mrs Angry" in html
    assert "The council has sold off the library." in html
    assert f'href="{post.get_absolute_url()}"' in html
    assert "mrs.angry@example.org" not in html
    assert "203.0.113.77" not in html
    for queue in ["approved", "all"]:
        html = admin_client.get(QUEUE_URL, {"queue": queue}).content.decode()
        assert "mrs.angry@example.org" not in html

    # The change page shows them, read-only, for handling abuse.
    response = admin_client.get(change_url(comment))
    html = response.content.decode()
    assert "mrs.angry@example.org" in html and "203.0.113.77" in html
    assert 'name="user_email"' not in html and 'name="ip_address"' not in html


def test_the_queue_costs_the_same_queries_however_many_comments(admin_client):
    def queries():
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(QUEUE_URL).status_code == 200
        return len(context)

    CommentFactory.create_batch(2, pending=True)
    queries()  # warm the per-process caches (content types, the site)
    few = queries()
    CommentFactory.create_batch(10, pending=True)
    CommentFactory(pending=True, user=UserFactory())
    assert queries() == few


# --- Bulk actions -----------------------------------------------------------------------------


def test_approving_publishes_the_comment_and_records_who_did_it(moderator_client, moderator):
    comment = CommentFactory(pending=True, comment="Please fix the potholes on Station Road.")
    post = comment.content_object

    response = act(moderator_client, "approve_comments", [comment])

    assert response.status_code == 302
    assert fresh(comment).is_visible
    event = comment.events.get(action=ModerationEvent.Action.APPROVED)
    assert event.actor == moderator
    assert "Please fix the potholes" in page_text(moderator_client.get(post.get_absolute_url()))
    messages = [str(m) for m in moderator_client.get(response.url).context["messages"]]
    assert messages == ["Approved 1 comment."]


def test_approving_a_held_comment_emails_the_posts_followers(
    admin_client, django_capture_on_commit_callbacks
):
    follower = CommentFactory(user_email="follower@example.org", followup=True)
    post = follower.content_object
    CommentFactory(post=post, user_email="quiet@example.org", followup=False)
    held = CommentFactory(post=post, pending=True, user_email="held@example.org", followup=True)

    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "approve_comments", [held])

    # The followers, then (issue 11) the commenter, told of the outcome.
    assert [message.to for message in mail.outbox] == [
        ["follower@example.org"],
        ["held@example.org"],
    ]
    message = mail.outbox[0]
    assert post.title in message.subject
    assert held.comment in message.body
    unsubscribe = re.search(r"https?://\S+/comments/unsubscribe/\S+/", message.body)
    assert unsubscribe is not None
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe.group(0)}>"


def test_approving_an_already_public_comment_sends_nothing_again(
    admin_client, django_capture_on_commit_callbacks
):
    follower = CommentFactory(followup=True)
    public = CommentFactory(post=follower.content_object)
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "approve_comments", [public], queue="approved")
    assert mail.outbox == []
    assert not public.events.filter(action=ModerationEvent.Action.APPROVED).exists()


def test_marking_as_spam_hides_the_comment_and_records_who_did_it(moderator_client, moderator):
    comment = CommentFactory(comment="Cheap watches at example.com")
    post = comment.content_object

    act(moderator_client, "mark_spam", [comment], queue="approved")

    comment = fresh(comment)
    assert comment.queue == "spam"
    assert comment.events.get(action=ModerationEvent.Action.SPAM).actor == moderator
    assert "Cheap watches" not in page_text(moderator_client.get(post.get_absolute_url()))


def test_removal_asks_which_house_rule_was_broken(moderator_client):
    comment = CommentFactory()

    response = act(moderator_client, "remove_comments", [comment], queue="approved")

    assert response.status_code == 200
    assert response.templates[0].name == "admin/comments/comment/remove_selected.html"
    text = page_text(response)
    assert "1 comment to remove" in text
    for rule in HouseRule.objects.all():
        assert str(rule) in text
    assert fresh(comment).queue == "approved"  # nothing happens until a rule is chosen


def test_removal_without_a_rule_is_refused(moderator_client):
    comment = CommentFactory()
    response = act(
        moderator_client, "remove_comments", [comment], queue="approved", apply="yes", rule=""
    )
    assert response.status_code == 200
    assert response.context["form"].errors["rule"]
    assert fresh(comment).queue == "approved"
    assert not comment.events.exists()


def test_a_removed_comment_keeps_its_replies_under_a_placeholder_naming_the_rule(
    moderator_client, moderator
):
    parent = CommentFactory(comment="Something defamatory about a named officer.")
    reply = CommentFactory(parent=parent, comment="I agree with the point about bins.")
    rule = HouseRule.objects.get(number=3)

    response = act(
        moderator_client,
        "remove_comments",
        [parent],
        queue="approved",
        apply="yes",
        rule=rule.pk,
        note="Names an officer.",
    )

    assert response.status_code == 302
    parent = fresh(parent)
    assert parent.queue == "removed" and parent.removal_rule == rule
    event = parent.events.get(action=ModerationEvent.Action.REMOVED)
    assert (event.actor, event.note) == (moderator, "Names an officer.")

    page = moderator_client.get(parent.content_object.get_absolute_url())
    text = page_text(page)
    day = date_format(timezone.localtime(parent.moderated_at), "j F Y")
    assert f"Removed by a moderator on {day} under house rule 3" in text
    assert "Something defamatory" not in text
    assert "I agree with the point about bins." in text
    html = page.content.decode()
    assert (
        html.index(f'id="comment-{parent.pk}"')
        < html.index('class="comment-children"')
        < html.index(f'id="comment-{reply.pk}"')
    )


def test_restoring_puts_a_removed_comment_back(moderator_client, moderator):
    comment = CommentFactory(removed=True, comment="A fair point after all.")

    act(moderator_client, "restore_comments", [comment], queue="removed")

    comment = fresh(comment)
    assert comment.queue == "approved" and comment.removal_rule is None
    assert comment.events.get(action=ModerationEvent.Action.RESTORED).actor == moderator
    page = moderator_client.get(comment.content_object.get_absolute_url())
    assert "A fair point after all." in page_text(page)


def test_restoring_a_spam_verdict(moderator_client):
    comment = CommentFactory(spam=True)
    act(moderator_client, "restore_comments", [comment], queue="spam")
    assert fresh(comment).queue == "approved"


# --- The change page and the quick reply ------------------------------------------------------


def test_the_change_page_is_read_only_with_the_full_moderation_history(admin_client, moderator):
    comment = CommentFactory(pending=True, held_reason="Contains a moderation word (“bins”).")
    ModerationEvent.objects.create(comment=comment, action=ModerationEvent.Action.POSTED)
    ModerationEvent.objects.create(
        comment=comment, action=ModerationEvent.Action.HELD, note=comment.held_reason
    )
    comment.approve(by=moderator, note="Fine in context.")

    response = admin_client.get(change_url(comment))

    assert response.status_code == 200
    text = page_text(response)
    assert comment.comment in text
    assert comment.content_object.title in text
    for expected in [
        "The commenter",
        "Held for moderation",
        "Discussion rules",
        "Approved",
        "Maria Moderator",
        "Fine in context.",
    ]:
        assert expected in text
    assert response.context["adminform"].form.fields == {}  # nothing editable
    assert admin_client.post(change_url(comment), {"comment": "Edited"}).status_code == 403


def test_the_author_replies_from_the_queue_and_the_reply_is_threaded_with_the_badge(
    author_client, author_user, django_capture_on_commit_callbacks
):
    post = PostFactory(author=author_user.author_profile)
    question = CommentFactory(post=post, comment="When will the library reopen?", followup=True)

    change_page = author_client.get(change_url(question))
    assert "Reply as robertrams" in page_text(change_page)

    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(reply_url(question), {"comment": "In March, I am told."})

    assert response.status_code == 302
    assert response.url == change_url(question)
    reply = Comment.objects.get(comment="In March, I am told.")
    assert (reply.user, reply.parent_id, reply.level) == (author_user, question.pk, 1)
    assert reply.is_visible
    assert reply.events.get(action=ModerationEvent.Action.APPROVED).actor == author_user
    assert [message.to for message in mail.outbox] == [[question.user_email]]

    html = author_client.get(post.get_absolute_url()).content.decode()
    reply_html = html[html.index(f'id="comment-{reply.pk}"') :]
    reply_html = reply_html[: reply_html.index("</li>")]
    assert "In March, I am told." in reply_html
    assert "badge--author" in reply_html and ">Author<" in reply_html
    assert html.index(f'id="comment-{question.pk}"') < html.index(f'id="comment-{reply.pk}"')


def test_a_quick_reply_to_the_deepest_level_attaches_at_that_level(admin_client, settings):
    settings.COMMENTS_XTD_MAX_THREAD_LEVEL = 1
    top = CommentFactory()
    deep = CommentFactory(parent=top)
    admin_client.post(reply_url(deep), {"comment": "Answering both of you."})
    reply = Comment.objects.get(comment="Answering both of you.")
    assert (reply.parent_id, reply.level) == (top.pk, 1)


@pytest.mark.parametrize(
    "trait, reason",
    [
        ("pending", "You can reply once the comment is approved."),
        ("removed", "This comment is removed: no replies."),
        ("spam", "This comment is spam: no replies."),
    ],
)
def test_no_quick_reply_to_a_comment_that_is_not_public(admin_client, trait, reason):
    hidden = CommentFactory(**{trait: True})
    assert reason in page_text(admin_client.get(change_url(hidden)))
    response = admin_client.post(reply_url(hidden), {"comment": "Thanks!"})
    assert response.status_code == 403
    assert not Comment.objects.filter(comment="Thanks!").exists()


def test_no_quick_reply_when_comments_are_closed(admin_client):
    comment = CommentFactory(post=PostFactory(comments_enabled=False))
    assert "Comments are closed on this post." in page_text(admin_client.get(change_url(comment)))
    response = admin_client.post(reply_url(comment), {"comment": "Thanks!"})
    assert response.status_code == 403
    assert not Comment.objects.filter(comment="Thanks!").exists()


@pytest.mark.parametrize("text", ["", "   ", "x" * 3001, "nul\x00byte"])
def test_a_bad_quick_reply_is_refused_with_a_message_and_nothing_stored(admin_client, text):
    comment = CommentFactory()
    before = Comment.objects.count()
    response = admin_client.post(reply_url(comment), {"comment": text})
    assert response.status_code == 400
    assert response.context["reply_form"].errors["comment"]
    assert Comment.objects.count() == before


# --- Who may see and do what ------------------------------------------------------------------


def test_a_moderator_moderates_any_comment_and_nothing_else(moderator_client, moderator):
    comment = CommentFactory(pending=True)  # on a post by some other author
    act(moderator_client, "approve_comments", [comment])
    assert fresh(comment).is_visible

    assert moderator_client.get(reverse("admin:posts_post_add")).status_code == 403
    assert moderator_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert moderator_client.get(reverse("admin:comments_comment_add")).status_code == 403


def test_only_superusers_may_hard_delete_comments(moderator_client, admin_client):
    comment = CommentFactory(pending=True)
    delete = reverse("admin:comments_comment_delete", args=[comment.pk])
    assert moderator_client.get(delete).status_code == 403
    action_field = moderator_client.get(QUEUE_URL).context["action_form"].fields["action"]
    assert "delete_selected" not in [name for name, _ in action_field.choices]
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_an_author_sees_and_moderates_only_comments_on_their_own_posts(author_client, author_user):
    own = CommentFactory(pending=True, post=PostFactory(author=author_user.author_profile))
    other = CommentFactory(pending=True)

    response = author_client.get(QUEUE_URL)
    assert response.status_code == 200
    assert listed(response) == {own.pk}
    assert "Pending (1)" in page_text(response)

    assert author_client.get(change_url(own)).status_code == 200
    assert author_client.get(change_url(other)).status_code == 404
    assert author_client.post(reply_url(other), {"comment": "Hi"}).status_code == 404

    act(author_client, "approve_comments", [own, other])
    assert fresh(own).is_visible
    assert fresh(other).queue == "pending"

    log = author_client.get(reverse("admin:comments_moderationevent_changelist"))
    assert {event.comment_id for event in log.context["cl"].result_list} == {own.pk}


def test_an_author_cannot_see_or_change_the_discussion_settings(author_client):
    row = ModerationSettings.objects.get()
    url = reverse("admin:comments_moderationsettings_change", args=[row.pk])
    assert author_client.get(url).status_code == 403
    assert author_client.post(url, {"mode": "none", "hold_links": 0}).status_code == 403
    assert ModerationSettings.objects.get().mode == ModerationSettings.Mode.FIRST_TIME


def test_staff_without_moderation_permissions_get_no_queue(client):
    nobody = UserFactory(is_staff=True)
    client.force_login(nobody)
    assert client.get(QUEUE_URL).status_code == 403

    # Model permissions alone are not enough: moderating is the permission that counts.
    nobody.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="comments", codename__in=["view_comment", "change_comment"]
        )
    )
    comment = CommentFactory(pending=True)
    assert client.get(QUEUE_URL).status_code == 403
    assert client.get(change_url(comment)).status_code == 404
    assert client.post(reply_url(comment), {"comment": "Hi"}).status_code == 404


def test_csrf_is_enforced_on_bulk_actions(moderator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    comment = CommentFactory(pending=True)

    assert act(client, "approve_comments", [comment]).status_code == 403
    assert fresh(comment).queue == "pending"

    client.get(QUEUE_URL)  # sets the CSRF cookie, as a browser would
    token = client.cookies["csrftoken"].value
    response = act(client, "approve_comments", [comment], csrfmiddlewaretoken=token)
    assert response.status_code == 302
    assert fresh(comment).is_visible


def test_csrf_is_enforced_on_the_quick_reply(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    comment = CommentFactory()

    assert client.post(reply_url(comment), {"comment": "Forged"}).status_code == 403
    assert not Comment.objects.filter(comment="Forged").exists()

    client.get(change_url(comment))
    token = client.cookies["csrftoken"].value
    response = client.post(reply_url(comment), {"comment": "Real", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Comment.objects.filter(comment="Real", parent_id=comment.pk).exists()


# --- The decision log, house rules and discussion settings -----------------------------------


def test_the_log_lists_every_decision_filterable_by_action_and_actor(admin_client, moderator):
    approved = CommentFactory(pending=True, comment="About the bus lane")
    spam = CommentFactory(comment="Buy followers")
    approved.approve(by=moderator)
    spam.mark_spam(by=moderator)
    CommentFactory(pending=True).hold("Contains 2 links.")
    url = reverse("admin:comments_moderationevent_changelist")

    response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3

    response = admin_client.get(url, {"action__exact": "spam"})
    assert [event.comment_id for event in response.context["cl"].result_list] == [spam.pk]

    response = admin_client.get(url, {"actor__id__exact": moderator.pk})
    assert len(response.context["cl"].result_list) == 2

    response = admin_client.get(url, {"q": "bus lane"})
    assert [event.comment_id for event in response.context["cl"].result_list] == [approved.pk]


def test_the_log_cannot_be_added_to_or_edited(admin_client, moderator):
    comment = CommentFactory(pending=True)
    comment.approve(by=moderator)
    event = comment.events.get()
    assert admin_client.get(reverse("admin:comments_moderationevent_add")).status_code == 403
    change = reverse("admin:comments_moderationevent_change", args=[event.pk])
    assert admin_client.post(change, {"note": "Rewritten"}).status_code == 403
    assert comment.events.get().note == ""


def test_the_discussion_settings_are_a_single_row(admin_client):
    row = ModerationSettings.objects.get()
    change = reverse("admin:comments_moderationsettings_change", args=[row.pk])

    response = admin_client.get(reverse("admin:comments_moderationsettings_changelist"))
    assert response.status_code == 302 and response.url == change
    assert admin_client.get(reverse("admin:comments_moderationsettings_add")).status_code == 403
    delete = reverse("admin:comments_moderationsettings_delete", args=[row.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403

    response = admin_client.post(
        change,
        {
            "mode": ModerationSettings.Mode.ALL,
            "hold_links": 3,
            "moderation_words": "bins",
            "disallowed_words": "",
            "close_after_days": "",
        },
    )
    assert response.status_code == 302
    assert ModerationSettings.objects.get().mode == ModerationSettings.Mode.ALL


def test_moderators_may_read_but_not_change_the_discussion_settings(moderator_client):
    row = ModerationSettings.objects.get()
    change = reverse("admin:comments_moderationsettings_change", args=[row.pk])
    assert moderator_client.get(change).status_code == 200
    assert moderator_client.post(change, {"mode": "none", "hold_links": 0}).status_code == 403


def test_house_rules_are_listed_in_order(admin_client):
    response = admin_client.get(reverse("admin:comments_houserule_changelist"))
    numbers = [rule.number for rule in response.context["cl"].result_list]
    assert numbers == sorted(numbers) and len(numbers) == 7
