"""The project's layout and wiring (issue 7): arrows between packages run one way, one
`load_demo`, converters registered by every URLconf that uses them, and the defects found by
reading, each pinned by a test."""

import ast
import datetime
import io
import re
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from django.contrib.flatpages.models import FlatPage
from django.core import mail, signing
from django.core.management import call_command, get_commands
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.models import Comment, HouseRule
from posts import search
from posts.models import Post
from posts.views import paginate
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    PostFactory,
    TagFactory,
    comment_form_data,
    text,
)

ROOT = Path(__file__).resolve().parent.parent
APPS = ["core", "posts", "comments", "demo", "wordpress"]
# Who may import whom: each app only those below it.
ALLOWED = {
    "core": set(),
    "posts": {"core"},
    "comments": {"posts", "core"},
    "demo": {"comments", "posts", "core"},
    "wordpress": {"comments", "posts", "core"},
}


def project_imports(path):
    """The project packages (barnetblog and the apps) that a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & {"barnetblog", *APPS}
    return found


@pytest.mark.parametrize("app", APPS)
def test_apps_import_only_the_packages_below_them(app):
    wrong = {}
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        extra = project_imports(path) - ALLOWED[app] - {app}
        if extra:
            wrong[str(path.relative_to(ROOT))] = sorted(extra)
    assert wrong == {}


def test_there_is_one_load_demo_command_and_it_lives_in_the_demo_app():
    assert get_commands()["load_demo"] == "demo"
    commands = sorted(p.relative_to(ROOT) for p in ROOT.glob("*/management/commands/load_demo.py"))
    assert commands == [Path("demo/management/commands/load_demo.py")]


def test_date_converters_resolve_whichever_urlconf_is_imported_first():
    """barnetblog.urls uses <yyyy>/<mm>/<dd> itself: it must not rely on posts.urls having
    registered them. A fresh interpreter imports the root URLconf before anything else."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='barnetblog.settings'; "
        "django.setup(); from django.urls import get_resolver; "
        "print(get_resolver().resolve('/2011/06/30/some-post/feed/').url_name)"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "post-comments-feed"


def test_no_moderator_is_registered_whose_hooks_would_never_run():
    from django_comments_xtd.moderation import moderator

    assert Post not in moderator._registry


# --- Defects found by reading --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/9999/12/31/a-post/feed/",
        "/9999/12/31/a-post/",
        "/9999/12/31/",
        "/9999/12/",
        "/9999/",
        "/2011/02/30/a-post/feed/",
        "/2011/00/10/a-post/feed/",
        "/2011/06/00/a-post/",
    ],
)
def test_dates_that_do_not_exist_or_end_past_the_calendar_are_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_database_error_while_paginating_is_not_turned_into_a_404():
    broken = Post.objects.extra(where=["no_such_column = 1"])
    request = RequestFactory().get("/", {"page": "1"})
    with pytest.raises(DatabaseError), transaction.atomic():
        paginate(request, broken)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["0", "99", "two", "1.5"])
def test_a_page_number_that_does_not_exist_is_still_a_404(client, page):
    PostFactory()
    assert client.get("/", {"page": page}).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("secure", "scheme"), [(False, "http"), (True, "https")])
def test_links_in_email_use_the_scheme_the_site_is_served_with(
    settings, django_capture_on_commit_callbacks, comment_settings, secure, scheme
):
    """Under `make run` (not secure) the development server speaks only http."""
    settings.SECURE = secure
    post = PostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("comments:post", args=[post.pk]),
            comment_form_data(post),
            REMOTE_ADDR="192.0.2.77",
        )
    assert response.status_code == 302
    (message,) = mail.outbox
    links = re.findall(r"\b\w+://[^/\s]+/comments/confirm/", message.body)
    assert links and all(link.startswith(f"{scheme}://") for link in links)


NBSP_TITLE = "Back office project given the green\u00a0light"


@pytest.mark.django_db
def test_a_no_break_space_stays_in_the_heading_only(client):
    post = PostFactory(title=NBSP_TITLE)
    page = client.get(post.get_absolute_url()).content.decode()
    plain = "Back office project given the green light"
    assert f'<h1 id="post-title">{NBSP_TITLE}</h1>' in page
    head = page[: page.index("</head>")]
    assert "\u00a0" not in head and "&nbsp;" not in head
    assert f"<title>{plain} – " in head
    assert f'<meta property="og:title" content="{plain}">' in head
    assert f'"headline": "{plain}"' in head
    for feed in [reverse("posts:feed"), reverse("posts:feed-atom")]:
        (entry,) = feedparser.parse(client.get(feed).content).entries
        assert entry.title == plain


@pytest.mark.django_db
def test_comment_feed_titles_carry_no_no_break_space(client):
    post = PostFactory(title=NBSP_TITLE)
    CommentFactory(post=post, user_name="Mrs Angry")
    feed = feedparser.parse(client.get(reverse("comments:feed")).content)
    assert feed.entries[0].title == "Mrs Angry on “Back office project given the green light”"


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="search index on PostgreSQL")
def test_one_admin_save_reindexes_the_post_once_after_commit(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # as if committed before
        post = PostFactory(title="Library hours")
        old_category, new_category = CategoryFactory(), CategoryFactory()
        post.categories.set([old_category])
        tags = TagFactory.create_batch(2)
    form = {
        "title": "Museum hours",
        "slug": post.slug,
        "author": post.author.pk,
        "body_format": post.body_format,
        "body": post.body,
        "excerpt": "",
        "status": "published",
        "published_at_0": post.published_at.strftime("%d/%m/%Y"),
        "published_at_1": post.published_at.strftime("%H:%M:%S"),
        "categories": [new_category.pk],
        "tags": [t.pk for t in tags],
        "comments_enabled": "on",
        "image_alt": "",
        "seo_description": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
    }
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), form)
        indexed_before_commit = [
            q
            for q in queries.captured_queries
            if q["sql"].startswith("UPDATE") and "to_tsvector" in q["sql"]
        ]
    assert response.status_code == 302, response.content.decode()[:3000]
    assert indexed_before_commit == []
    assert len(callbacks) >= 1
    updates = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and "to_tsvector" in q["sql"]
    ]
    assert len(updates) == 1
    assert Post.objects.filter(pk=post.pk, search_vector="museum").exists()


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="search index on PostgreSQL")
def test_a_save_after_a_rolled_back_one_is_still_indexed(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # as if committed before
        post = PostFactory(title="Library hours")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            post.title = "Gallery hours"
            post.save()
            raise RuntimeError("the save fails after all")
        post.title = "Museum hours"
        with transaction.atomic():
            post.save()
    assert len([c for c in callbacks if isinstance(c, search._IndexAfterCommit)]) == 1
    assert Post.objects.filter(pk=post.pk, search_vector="museum").exists()
    assert not Post.objects.filter(pk=post.pk, search_vector="gallery").exists()


@pytest.mark.django_db
def test_unsubscribing_from_an_unpublished_post_says_it_is_gone(client):
    comment = CommentFactory(user_email="sam@example.org", followup=True)
    post = comment.content_object
    token = services.unsubscribe_token("sam@example.org", post)
    post.unpublish()
    for response in [
        client.get(reverse("comments:unsubscribe", args=[token])),
        client.post(reverse("comments:unsubscribe", args=[token])),
    ]:
        assert response.status_code == 410
        assert "no longer available" in text(response)
    comment.refresh_from_db()
    assert comment.followup is True


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [["e", 1], "sam@example.org", {"e": "x"}, {"e": 1, "p": 1}])
def test_a_signed_unsubscribe_token_of_the_wrong_shape_is_not_valid(client, payload):
    token = signing.dumps(payload, salt=services.UNSUBSCRIBE_SALT)
    response = client.post(reverse("comments:unsubscribe", args=[token]))
    assert response.status_code == 400
    assert "This unsubscribe link is not valid." in text(response)


# --- One source for house rules and retention periods --------------------------------------


@pytest.mark.django_db
def test_the_house_rules_page_lists_the_rules_that_removals_cite(client):
    rule = HouseRule.objects.get(number=4)
    rule.title = "Respect privacy"
    rule.text = "No addresses or phone numbers."
    rule.save()
    HouseRule.objects.create(number=8, title="No campaigning", text="Not in purdah.")
    page = client.get(reverse("house-rules")).content.decode()
    assert '<li id="rule-4" value="4"><strong>Respect privacy.</strong> No addresses' in page
    assert '<li id="rule-8" value="8"><strong>No campaigning.</strong> Not in purdah.</li>' in page
    assert page.count('<li id="rule-') == HouseRule.objects.count() == 8
    assert "**Be civil.**" not in page  # the old hard-coded list has gone from the page text
    # The text around the rules still comes from the page edited in the admin.
    assert "Comments are welcome, including sharp criticism" in page
    assert (
        page.index("Comments are welcome")
        < page.index('id="rule-1"')
        < page.index("During an election period")
    )
    assert rule.get_absolute_url() == "/house-rules/#rule-4"


@pytest.mark.django_db
def test_an_edited_house_rules_page_without_the_marker_gets_the_rules_at_its_end(client):
    FlatPage.objects.filter(url="/house-rules/").update(content="Be kind.")
    page = text(client.get(reverse("house-rules")))
    assert page.index("Be kind.") < page.index("Be civil.")


# Every period the notice states, with distinct values so that each sentence is checked.
PERIODS = ("ip", "confirm", "link", "request", "report", "review", "complaint")
RETENTION_CASES = [
    dict(zip(PERIODS, values, strict=True))
    for values in [
        (90, 7, 24, 730, 91, 92, 365),
        (30, 2, 2, 100, 31, 32, 33),
        (1, 1, 1, 2, 3, 4, 5),
    ]
]


def _ages(days=0, hours=0):
    """Just inside and just outside a period ending `days` + `hours` ago."""
    period = datetime.timedelta(days=days, hours=hours)
    now = timezone.now()
    return now - period + datetime.timedelta(minutes=30), now - period - datetime.timedelta(
        minutes=30
    )


@pytest.mark.django_db
@pytest.mark.parametrize("p", RETENTION_CASES)
def test_the_privacy_notice_states_the_retention_periods_that_purging_applies(client, settings, p):
    from comments.models import (
        DataLink,
        DataRequest,
        DefamationComplaint,
        ModerationEvent,
        Report,
        ReportCase,
        Review,
    )

    settings.COMMENT_IP_RETENTION_DAYS = p["ip"]
    settings.COMMENT_CONFIRMATION_MAX_AGE = p["confirm"] * 86400
    settings.COMMENT_DATA_LINK_MAX_AGE = p["link"] * 3600
    settings.COMMENT_DATA_SESSION_MAX_AGE = 3600
    settings.COMMENT_DATA_REQUEST_RETENTION_DAYS = p["request"]
    settings.COMMENT_REPORT_RETENTION_DAYS = p["report"]
    settings.COMMENT_REVIEW_RETENTION_DAYS = p["review"]
    settings.COMMENT_COMPLAINT_RETENTION_DAYS = p["complaint"]
    page = " ".join(text(client.get(reverse("privacy"))).split())
    day = lambda n: f"{n} day" + ("" if n == 1 else "s")  # noqa: E731
    hour = lambda n: f"{n} hour" + ("" if n == 1 else "s")  # noqa: E731
    for sentence in [
        f"IP addresses are deleted {day(p['ip'])} after the comment was posted.",
        f"once the confirmation link expires (after {day(p['confirm'])}).",
        f"works once, for {hour(p['link'])}; the address it was sent to is deleted "
        f"{hour(p['link'] + 1)} after it was sent.",
        f"keeps your address for {day(p['request'])} after we answered it",
        f"what you wrote are deleted {day(p['report'])} after a moderator has decided on it.",
        f"your reasons are deleted {day(p['review'])} after the review is decided.",
        f"names, addresses and text are deleted {day(p['complaint'])} after the complaint is "
        "closed.",
    ]:
        assert sentence in page
    periods = [int(n) for n in re.findall(r"(\d+) (?:day|hour)", page)]
    assert sorted(periods) == sorted(
        [p["ip"], p["confirm"], p["link"], p["link"] + 1]
        + [p[k] for k in ("request", "report", "review", "complaint")]
    )  # no period on the page that settings do not set

    # …and it is what purge_comment_data does.
    kept, purged = CommentFactory(), CommentFactory()
    inside, outside = _ages(days=p["ip"])
    Comment.objects.filter(pk=kept.pk).update(submit_date=inside)
    Comment.objects.filter(pk=purged.pk).update(submit_date=outside)

    inside_link, outside_link = _ages(hours=p["link"] + 1)
    links = [
        DataLink.objects.create(email="a@example.org", secret_hash="x", created_at=at)
        for at in (inside_link, outside_link)
    ]
    requests = [
        DataRequest.objects.create(
            kind=DataRequest.Kind.EXPORT, email="b@example.org", details="By letter.",
            received_at=at, completed_at=at,
        )
        for at in _ages(days=p["request"])
    ]  # fmt: skip
    reports = []
    for at in _ages(days=p["report"]):
        case = ReportCase.objects.create(comment=kept, opened_at=at, closed_at=at)
        reports.append(
            Report.objects.create(
                case=case, reason="other", explanation="Rude.", email="c@example.org",
                reporter_key="k",
            )
        )  # fmt: skip
    reviews = []
    for at in _ages(days=p["review"]):
        decision = ModerationEvent.objects.create(comment=kept, action="removed")
        reviews.append(
            Review.objects.create(
                comment=kept, decision=decision, reasons="It was fair.", outcome="upheld",
                decided_at=at, note="Upheld.",
            )
        )  # fmt: skip
    complaints = [
        DefamationComplaint.objects.create(
            comment=kept, name="D Person", email="d@example.org", meaning="m",
            why_defamatory="w", inaccurate="i", cannot_identify_poster=True,
            status="removed", closed_at=at, poster_name="P Poster", poster_address="1 Road",
        )
        for at in _ages(days=p["complaint"])
    ]  # fmt: skip
    call_command("purge_comment_data", stdout=io.StringIO())
    kept.refresh_from_db()
    purged.refresh_from_db()
    assert kept.ip_address is not None
    assert purged.ip_address is None
    assert list(DataLink.objects.values_list("pk", flat=True)) == [links[0].pk]
    for row in [*requests, *reports, *reviews, *complaints]:
        row.refresh_from_db()
    assert [(r.email, r.details) for r in requests] == [("b@example.org", "By letter."), ("", "")]
    assert [(r.email, r.explanation) for r in reports] == [("c@example.org", "Rude."), ("", "")]
    assert [r.reasons for r in reviews] == ["It was fair.", ""]
    assert [(c.email, c.poster_name) for c in complaints] == [
        ("d@example.org", "P Poster"),
        ("", ""),
    ]
