"""The authorisation matrix (issue 9): every admin and staff URL × anonymous, a resident's
account, an Author, a Moderator and a superuser.

The URLs come from the admin site's own registry (changelist, add, change, history, delete for
every registered model, with an object of the Author's and one of another author's where the
model has owners) plus our staff views. What each role may open is written down here, from the
rules, not read back from the admin: an Author manages their own posts and the shared filing
and media, moderates comments on their own posts only, and touches no account, group, site,
page or setting; a Moderator moderates every comment and reads the house rules and settings;
only a superuser runs the WordPress import. Then the POSTs that would raise an Author's
privileges or act on another author's work, each refused.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.contrib.flatpages.models import FlatPage
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from comments.models import Comment, DefamationComplaint, ModerationEvent, Review
from posts.models import Post
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    CommentFactory,
    ImageFactory,
    PostFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "resident", "author", "moderator", "superuser"]
VIEWS = ["changelist", "add", "change", "history", "delete"]
OBJECT_VIEWS = {"change", "history", "delete"}

# Owned models: an Author may see the rows that belong to their own posts only.
OWNED = {
    "posts.post",
    "comments.comment",
    "comments.moderationevent",
    "comments.review",
    "comments.defamationcomplaint",
}


def author_may(model, view, whose):
    if model in {"posts.category", "posts.tag", "posts.image"}:
        return True  # the shared filing and the media library
    if model == "posts.post":
        return view in ("changelist", "add") or whose == "own"
    if model in {"comments.comment", "comments.moderationevent", "comments.review"}:
        # Their own posts' queue and record; comments are never added or deleted by hand.
        return view == "changelist" or (view in ("change", "history") and whose == "own")
    return False  # accounts, groups, sites, pages, settings, sign-in logs, complaints…


def moderator_may(model, view, whose):
    if model in {"comments.comment", "comments.moderationevent", "comments.review"}:
        return view in ("changelist", "change", "history")
    if model in {"comments.defamationcomplaint", "comments.houserule"}:
        return view in ("changelist", "change", "history")
    if model == "comments.moderationsettings":
        return view in ("changelist", "change", "history")
    if model == "comments.datarequest":
        # They record requests that arrive by other routes; exporting and erasing are the
        # controller's (a permission of its own, held by superusers).
        return view in ("changelist", "add", "change", "history")
    return False


def expected(role, model, view, whose):
    """'login', 'ok' or 'denied'; None where the role's answer is not fixed by the rules."""
    if role in ("anonymous", "resident"):
        return "login"
    if role == "superuser":
        return "ok" if view in ("changelist", "change", "history") else None
    may = author_may if role == "author" else moderator_may
    return "ok" if may(model, view, whose) else "denied"


def outcome(response):
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return "login"
        if location.rstrip("/").endswith("/change") or "/moderationsettings/" in location:
            return "ok"  # the settings' list goes straight to its one row
        return "denied"  # "no such object", back to the admin's index
    if response.status_code == 200:
        return "ok"
    if response.status_code in (403, 404):
        return "denied"
    return f"status {response.status_code}"


@pytest.fixture
def people():
    author = AuthorFactory(user__username="author").user
    author.groups.add(Group.objects.get(name="Authors"))
    moderator = UserFactory(username="moderator", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    return {
        "anonymous": None,
        "resident": UserFactory(username="resident"),
        "author": author,
        "moderator": moderator,
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def objects(people):
    """One object of every registered model: {label: {"own": obj, "other": obj}} where the
    model has owners ("own" belongs to the Author's post), else {"any": obj}."""
    author = people["author"]
    own_post = PostFactory(author=author.author_profile, title="Own post")
    other_post = PostFactory(title="Someone else's post")

    def comment_set(post):
        comment = CommentFactory(post=post)
        event = ModerationEvent.objects.create(
            comment=comment, action=ModerationEvent.Action.REMOVED, actor=people["superuser"]
        )
        review = Review.objects.create(comment=comment, decision=event, reasons="Unfair.")
        complaint = DefamationComplaint.objects.create(
            comment=comment,
            name="Alex Complainant",
            email="alex@example.net",
            meaning="That I took money.",
            why_defamatory="It names me.",
            inaccurate="I never did.",
            cannot_identify_poster=True,
            received_at=timezone.now(),
        )
        return {
            "comments.comment": comment,
            "comments.moderationevent": event,
            "comments.review": review,
            "comments.defamationcomplaint": complaint,
        }

    own, other = comment_set(own_post), comment_set(other_post)
    found = {"posts.post": {"own": own_post, "other": other_post}}
    for label in own:
        found[label] = {"own": own[label], "other": other[label]}
    TOTPDevice.objects.create(user=people["superuser"], name="phone", confirmed=False)
    CategoryFactory()
    TagFactory()
    ImageFactory()
    FlatPage.objects.get_or_create(url="/test-page/", defaults={"title": "Test"})
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    AccessAttempt.objects.create(username="x", ip_address="192.0.2.1", failures_since_start=1)
    AccessLog.objects.create(username="x", ip_address="192.0.2.1")
    AccessFailureLog.objects.create(username="x", ip_address="192.0.2.1", locked_out=False)
    from wordpress.models import ImportedObject

    ImportedObject.objects.create(
        source="https://example.wordpress.com",
        kind=ImportedObject.Kind.POST,
        wp_id="1",
        target=own_post,
    )
    Site.objects.get_current()
    for model in admin.site._registry:
        label = model._meta.label_lower
        if label not in found:
            row = model._default_manager.order_by("pk").first()
            found[label] = {"any": row} if row is not None else {}
    return found


def admin_urls(objects):
    """[(label, view, whose, url)] for every registered model."""
    urls = []
    for model in admin.site._registry:
        label = model._meta.label_lower
        info = (model._meta.app_label, model._meta.model_name)
        urls.append((label, "changelist", None, reverse("admin:{}_{}_changelist".format(*info))))
        urls.append((label, "add", None, reverse("admin:{}_{}_add".format(*info))))
        for whose, obj in objects[label].items():
            for view in sorted(OBJECT_VIEWS):
                urls.append(
                    (
                        label,
                        view,
                        whose,
                        reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[obj.pk]),
                    )
                )
    return urls


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_url_answers_each_role_as_the_rules_say(role, people, objects):
    client = client_for(people[role])
    urls = admin_urls(objects)
    assert len(urls) > 80  # the registry, not a hand-picked list
    wrong = []
    for label, view, whose, url in urls:
        got = outcome(client.get(url))
        want = expected(role, label, view, whose or "own")
        if got.startswith("error") or (want is not None and got != want):
            wrong.append(f"{label} {view} ({whose or '-'}): {got}, expected {want} — {url}")
    assert not wrong, "\n".join(wrong)


STAFF_VIEWS = [
    # (name, url for (objects), expected per role)
    (
        "preview, own post",
        lambda o: reverse("posts:preview", kwargs={"pk": o["posts.post"]["own"].pk}),
        {"author": "ok", "moderator": "denied", "superuser": "ok"},
    ),
    (
        "preview, another author's post",
        lambda o: reverse("posts:preview", kwargs={"pk": o["posts.post"]["other"].pk}),
        {"author": "denied", "moderator": "denied", "superuser": "ok"},
    ),
    (
        "quick reply, comment on own post",
        lambda o: reverse("admin:comments_comment_reply", args=[o["comments.comment"]["own"].pk]),
        {"author": "ok", "moderator": "ok", "superuser": "ok"},
    ),
    (
        "quick reply, comment on another author's post",
        lambda o: reverse("admin:comments_comment_reply", args=[o["comments.comment"]["other"].pk]),
        {"author": "denied", "moderator": "ok", "superuser": "ok"},
    ),
    (
        "WordPress import",
        lambda o: reverse("admin:wordpress_import"),
        {"author": "denied", "moderator": "denied", "superuser": "ok"},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "url_for", "rules"), STAFF_VIEWS, ids=[v[0] for v in STAFF_VIEWS])
def test_staff_views_answer_each_role_as_the_rules_say(role, name, url_for, rules, people, objects):
    url = url_for(objects)
    response = client_for(people[role]).get(url)
    got = outcome(response)
    if role in ("anonymous", "resident"):
        assert got == "login", f"{name}: {response.status_code}"
    else:
        assert got == rules[role], f"{name} for {role}: {response.status_code}"


def test_the_markdown_preview_is_for_those_who_write_posts(people):
    url = reverse("admin:posts_post_markdown_preview")
    answers = {
        role: client_for(people[role]).post(url, {"body": "*hi*"}).status_code for role in ROLES
    }
    assert answers["author"] == answers["superuser"] == 200
    assert answers["moderator"] == 403
    assert answers["anonymous"] == answers["resident"] == 302


# --- What an Author may not do by POST ------------------------------------------------------


def test_an_author_cannot_make_themselves_a_superuser(people):
    author = people["author"]
    client = client_for(author)
    response = client.post(
        reverse("admin:auth_user_change", args=[author.pk]),
        {"username": "author", "is_staff": "on", "is_superuser": "on", "is_active": "on"},
    )
    assert response.status_code == 403
    author.refresh_from_db()
    assert not author.is_superuser


def test_an_author_cannot_grant_their_group_permissions(people):
    from django.contrib.auth.models import Permission

    group = Group.objects.get(name="Authors")
    before = set(group.permissions.values_list("pk", flat=True))
    every = list(Permission.objects.values_list("pk", flat=True))
    response = client_for(people["author"]).post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Authors", "permissions": every},
    )
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_an_author_cannot_add_an_account_or_change_the_site(people):
    client = client_for(people["author"])
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "sneaky", "password1": "x9!kLmqP2", "password2": "x9!kLmqP2"},
    )
    assert response.status_code == 403
    site = Site.objects.get_current()
    response = client.post(
        reverse("admin:sites_site_change", args=[site.pk]),
        {"domain": "evil.example", "name": "Evil"},
    )
    assert response.status_code == 403
    site.refresh_from_db()
    assert site.domain != "evil.example"


def test_an_author_cannot_change_publish_or_delete_another_authors_post(people, objects):
    other = objects["posts.post"]["other"]
    other.status = Post.Status.DRAFT
    other.save()
    client = client_for(people["author"])
    client.post(reverse("admin:posts_post_delete", args=[other.pk]), {"post": "yes"})
    client.post(
        reverse("admin:posts_post_changelist"),
        {"action": "publish", ACTION_CHECKBOX_NAME: [other.pk]},
    )
    other.refresh_from_db()
    assert other.status == Post.Status.DRAFT


def test_an_author_cannot_moderate_comments_on_another_authors_post(people, objects):
    comment = objects["comments.comment"]["other"]
    own = objects["comments.comment"]["own"]
    client = client_for(people["author"])
    client.post(
        reverse("admin:comments_comment_changelist") + "?queue=all",
        {"action": "mark_spam", ACTION_CHECKBOX_NAME: [comment.pk, own.pk]},
    )
    comment.refresh_from_db()
    own.refresh_from_db()
    assert not comment.is_spam
    assert own.is_spam  # their own post's comment: the same action works


def test_an_author_cannot_reply_as_staff_on_another_authors_post(people, objects):
    comment = objects["comments.comment"]["other"]
    before = Comment.objects.count()
    client_for(people["author"]).post(
        reverse("admin:comments_comment_reply", args=[comment.pk]),
        {"comment": "A reply I may not make."},
    )
    assert Comment.objects.count() == before


def test_a_moderator_cannot_touch_posts_or_accounts(people, objects):
    client = client_for(people["moderator"])
    post = objects["posts.post"]["own"]
    response = client.post(reverse("admin:posts_post_delete", args=[post.pk]), {"post": "yes"})
    assert response.status_code in (302, 403)
    assert Post.objects.filter(pk=post.pk).exists()
    moderator = people["moderator"]
    client.post(
        reverse("admin:auth_user_change", args=[moderator.pk]),
        {"username": "moderator", "is_staff": "on", "is_superuser": "on", "is_active": "on"},
    )
    moderator.refresh_from_db()
    assert not moderator.is_superuser
