"""Pre-election periods (issue 12): a banner and a stricter comment policy that start at
midnight on the first day and stop at midnight at the end of polling day, London time, with
no deploy and no stale cached page.

The clock is moved with time-machine. The period below starts in GMT and ends in BST (the
clocks go forward on 29 March 2026), so a rule computed in UTC would be an hour out at one
end or the other.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from comments.models import Comment, ModerationSettings, comments_open
from posts.models import ElectionPeriod, Post
from tests.factories import PostFactory, UserFactory, send_comment, text

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
FIRST_DAY = datetime.date(2026, 3, 23)  # a Monday, in GMT
POLLING_DAY = datetime.date(2026, 5, 7)  # a Thursday, in BST
BANNER = "Until polling day this blog is in its **pre-election period**."


def london(*args):
    return datetime.datetime(*args, tzinfo=LONDON)


BEFORE = london(2026, 3, 22, 23, 59, 59)
START = london(2026, 3, 23, 0, 0, 0)
DURING = london(2026, 4, 20, 12, 0)
LAST_MOMENT = london(2026, 5, 7, 23, 59, 59)
END = london(2026, 5, 8, 0, 0, 0)


@pytest.fixture
def clock():
    """The clock, stopped at 1 March 2026 until a test moves it (`clock.move_to(moment)`)."""
    with time_machine.travel(london(2026, 3, 1, 9, 0), tick=False) as traveller:
        yield traveller


def make_period(**fields):
    defaults = {
        "name": "Barnet Council elections, May 2026",
        "starts_on": FIRST_DAY,
        "polling_day": POLLING_DAY,
        "banner": BANNER,
        "explanation": "Posts about council business continue; campaigning does not.",
    }
    return ElectionPeriod.objects.create(**{**defaults, **fields})


def banner_shown(url="/", client=None):
    page = text((client or Client()).get(url))
    return "pre-election period</strong>" in page and "What the pre-election period means" in page


@pytest.fixture
def period(clock):
    return make_period()


# --- The banner ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "shown"),
    [(BEFORE, False), (START, True), (DURING, True), (LAST_MOMENT, True), (END, False)],
    ids=["a second before", "first second", "during", "last second of polling day", "after"],
)
def test_the_banner_shows_from_midnight_on_the_first_day_to_the_end_of_polling_day(
    clock, period, moment, shown
):
    PostFactory(title="Bin collections over Easter")
    clock.move_to(moment)
    assert banner_shown("/") is shown
    assert banner_shown(Post.objects.get().get_absolute_url()) is shown
    assert banner_shown(reverse("about")) is shown


def test_the_period_ends_at_midnight_london_time_not_utc(clock, period):
    clock.move_to(datetime.datetime(2026, 5, 7, 22, 30, tzinfo=datetime.UTC))  # 23:30 BST
    assert banner_shown()
    clock.move_to(datetime.datetime(2026, 5, 7, 23, 30, tzinfo=datetime.UTC))  # 00:30 BST
    assert not banner_shown()


def test_the_banner_links_to_a_page_explaining_the_period(clock, period):
    clock.move_to(DURING)
    response = Client().get("/")
    assert f'href="{reverse("posts:election-period")}"' in response.content.decode()
    page = Client().get(reverse("posts:election-period"))
    assert page.status_code == 200
    body = text(page)
    assert "Barnet Council elections, May 2026" in body
    assert "23 March 2026" in body and "Thursday 7 May 2026" in body
    assert "Every comment is held for a moderator" in body
    assert "campaigning does not" in body


def test_the_explanation_page_answers_outside_a_period_and_lists_those_to_come(clock, period):
    page = Client().get(reverse("posts:election-period"))
    assert page.status_code == 200
    assert "The blog is not in a pre-election period now." in text(page)
    assert "Coming periods" in text(page) and "23 March 2026" in text(page)
    clock.move_to(END)
    assert "Coming periods" not in text(Client().get(reverse("posts:election-period")))


def test_banner_text_goes_through_the_sanitiser(clock):
    make_period(
        banner='# Big\n\n<script>alert(1)</script>[Read](javascript:alert(2)) <b onclick="x">ok</b>'
    )
    clock.move_to(DURING)
    html = Client().get("/").content.decode()
    start = html.index('class="election-banner"')
    banner = html[start : html.index("</section>", start)]
    assert "<script" not in banner and "alert(1)" not in banner
    assert "javascript:" not in banner and "onclick" not in banner
    assert "<h1" not in banner and "<h2" not in banner  # the page keeps one h1 and its outline
    assert "<b>ok</b>" in banner


# --- The comment policy ---------------------------------------------------------------------


@pytest.fixture
def publish_straight_away(comment_settings):
    """Comments need no email confirmation and no moderator outside a period: any hold
    below is the period's doing."""
    comment_settings.COMMENTS_XTD_CONFIRM_EMAIL = False
    ModerationSettings.objects.update(mode=ModerationSettings.Mode.NONE)


@pytest.mark.parametrize(
    ("moment", "queue"),
    [(BEFORE, "approved"), (START, "pending"), (LAST_MOMENT, "pending"), (END, "approved")],
    ids=["before", "first second", "last second", "after"],
)
def test_hold_policy_holds_every_comment_during_the_period_only(
    clock, period, publish_straight_away, moment, queue
):
    post = PostFactory(published_at=london(2026, 2, 1, 9, 0))
    clock.move_to(moment)
    send_comment(Client(), post, comment="Will the library stay open?")
    comment = Comment.objects.get()
    assert comment.queue == queue
    if queue == "pending":
        assert comment.held_reason == (
            "Pre-election period (Barnet Council elections, May 2026): every comment is held."
        )
        assert "Will the library stay open?" not in text(Client().get(post.get_absolute_url()))


def test_hold_policy_tells_commenters_before_they_write(clock, period):
    post = PostFactory(published_at=london(2026, 2, 1, 9, 0))
    clock.move_to(DURING)
    assert "every comment is held for a moderator before it appears" in text(
        Client().get(post.get_absolute_url())
    )


def test_close_policy_closes_posts_published_in_the_period_until_it_ends(
    clock, publish_straight_away
):
    make_period(comment_policy=ElectionPeriod.CommentPolicy.CLOSE)
    earlier = PostFactory(published_at=london(2026, 3, 20, 9, 0))
    clock.move_to(START)
    in_period = PostFactory(published_at=START)
    clock.move_to(DURING)
    assert comments_open(earlier)
    assert not comments_open(in_period)
    page = text(Client().get(in_period.get_absolute_url()))
    assert "Comments are closed on posts published during the <a" in page
    assert "Leave a Reply" not in page
    assert "Leave a Reply" in text(Client().get(earlier.get_absolute_url()))
    refused = send_comment(Client(), in_period, comment="Sneaking one in.")
    assert refused.status_code == 403
    assert "Comments are closed on this post." in text(refused)
    assert not Comment.objects.exists()

    clock.move_to(LAST_MOMENT)
    assert not comments_open(in_period)
    clock.move_to(END)
    assert comments_open(in_period)
    assert "Leave a Reply" in text(Client().get(in_period.get_absolute_url()))
    send_comment(Client(), in_period, comment="After the count.")
    assert Comment.objects.get().queue == "approved"


# --- No stale cached page ---------------------------------------------------------------------


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.mark.usefixtures("page_cache")
def test_a_cached_page_gains_the_banner_at_midnight_with_no_write(clock, committed):
    clock.move_to(london(2026, 3, 22, 23, 59, 0))
    with committed():
        make_period()
        PostFactory(title="Bin collections over Easter")
    first = Client().get("/")
    assert first.headers["X-Page-Cache"] == "miss"
    # Browsers and proxies may keep it only until the period starts.
    assert first.headers["Cache-Control"].startswith("public, max-age=60")
    assert Client().get("/").headers["X-Page-Cache"] == "hit"
    assert not banner_shown()

    clock.move_to(START)  # a minute later, well within the entry's lifetime
    assert banner_shown()
    clock.move_to(london(2026, 5, 7, 23, 59, 30))
    page = Client().get("/")
    assert int(page.headers["Cache-Control"].split("max-age=")[1].split(",")[0]) <= 30
    assert banner_shown()
    assert Client().get("/").headers["X-Page-Cache"] == "hit"
    clock.move_to(END)
    assert not banner_shown()


@pytest.mark.usefixtures("page_cache", "publish_straight_away")
def test_a_cached_discussion_closes_and_reopens_at_the_boundaries(clock, committed):
    with committed():
        make_period(comment_policy=ElectionPeriod.CommentPolicy.CLOSE)
    clock.move_to(START)
    with committed():
        post = PostFactory(published_at=START)
    clock.move_to(LAST_MOMENT)
    assert "Leave a Reply" not in text(Client().get(post.get_absolute_url()))
    assert Client().get(post.get_absolute_url()).headers["X-Page-Cache"] == "hit"
    clock.move_to(END)
    assert "Leave a Reply" in text(Client().get(post.get_absolute_url()))


@pytest.mark.usefixtures("page_cache")
def test_editing_or_deleting_a_period_in_the_admin_shows_at_once(clock, committed):
    clock.move_to(DURING)
    with committed():
        period = make_period()
    assert banner_shown()
    assert Client().get("/").headers["X-Page-Cache"] == "hit"
    with committed():
        period.banner = "Polling day is **7 May**."
        period.save()
    assert "Polling day is <strong>7 May</strong>." in Client().get("/").content.decode()
    with committed():
        period.delete()
    assert "election-banner" not in Client().get("/").content.decode()


# --- The admin ---------------------------------------------------------------------------------


def test_new_posts_are_election_material_by_default_during_a_period_only(
    clock, period, author_user
):
    add = reverse("admin:posts_post_add")

    def default():
        client = Client()
        client.force_login(author_user)  # afresh: a session does not last seven weeks
        return client.get(add).context["adminform"].form["election_material"].value()

    assert default() is False
    clock.move_to(DURING)
    assert default() is True
    clock.move_to(END)
    assert default() is False


def period_form(**fields):
    return {
        "name": "By-election",
        "starts_on": "2026-04-01",
        "polling_day": "2026-05-07",
        "comment_policy": "hold",
        "banner": "A by-election is under way.",
        "explanation": "",
        **fields,
    }


def test_the_owner_sets_a_period_in_the_admin_and_it_is_logged(clock, admin_client):
    response = admin_client.post(reverse("admin:posts_electionperiod_add"), period_form())
    assert response.status_code == 302
    period = ElectionPeriod.objects.get()
    assert (period.starts_on, period.polling_day) == (datetime.date(2026, 4, 1), POLLING_DAY)
    assert LogEntry.objects.filter(object_id=str(period.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"polling_day": "2026-03-31"}, "polling_day", "cannot be before the first day"),
        ({"starts_on": "2026-05-01"}, "starts_on", "overlap"),
        ({"banner": "Vote \u202eevil"}, "banner", "invisible control characters"),
        ({"starts_on": "1st of April"}, "starts_on", "Enter a valid date"),
        ({"banner": "x" * 501}, "banner", "at most 500 characters"),
    ],
    ids=["polling day first", "overlapping", "direction override", "not a date", "too long"],
)
def test_bad_periods_get_a_form_error_and_save_nothing(clock, admin_client, fields, field, message):
    make_period(name="May elections")
    response = admin_client.post(reverse("admin:posts_electionperiod_add"), period_form(**fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert ElectionPeriod.objects.count() == 1


def test_the_model_refuses_overlapping_periods_too(period):
    with pytest.raises(ValidationError):
        ElectionPeriod(
            name="Overlap", starts_on=POLLING_DAY, polling_day=POLLING_DAY, banner="x"
        ).full_clean()


@pytest.mark.parametrize("group", ["Authors", "Moderators"])
def test_authors_and_moderators_cannot_set_periods(clock, group):
    """A site-wide setting: on a blog with several authors, one must not set it for all."""
    from django.contrib.auth.models import Group

    member = UserFactory(is_staff=True)
    member.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(member)
    assert client.get(reverse("admin:posts_electionperiod_add")).status_code == 403
    assert client.post(reverse("admin:posts_electionperiod_add"), period_form()).status_code == 403
    assert not ElectionPeriod.objects.exists()


# --- Query counts ----------------------------------------------------------------------------


def test_the_explanation_page_asks_a_fixed_number_of_queries(
    clock, client, django_assert_num_queries
):
    make_period()
    url = reverse("posts:election-period")
    client.get(url)
    with django_assert_num_queries(2):  # periods to come; the site: banner, sidebar
        assert client.get(url).status_code == 200
    for year in range(2027, 2037):
        make_period(
            name=f"Elections {year}",
            starts_on=datetime.date(year, 4, 1),
            polling_day=datetime.date(year, 5, 6),
        )
    clock.move_to(DURING)
    with django_assert_num_queries(2):
        response = client.get(url)
    assert text(response).count("Elections 20") == 10


@pytest.mark.usefixtures("page_cache")
def test_with_the_data_cache_the_banner_costs_no_query(clock, period, django_assert_num_queries):
    """What production does: the period in force is kept with the page cache's data (and
    its boundaries end the generation that keeps it)."""
    clock.move_to(DURING)
    assert ElectionPeriod.current() == period
    with django_assert_num_queries(0):
        assert ElectionPeriod.current() == period
