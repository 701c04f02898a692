"""Public corrections (issue 12): an author adds a dated correction to their own published
post in the admin. It shows at the top of the post, moves the post's dateModified and its
feed entry's updated date, and is listed on /corrections/ (with feeds). It is never deleted:
it is withdrawn, shown as withdrawn, and the admin history records both."""

import datetime

import feedparser
import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from posts.models import Correction, Post
from tests.factories import AuthorFactory, PostFactory, text
from tests.test_seo import head

pytestmark = pytest.mark.django_db

WRONG = "The contract value is **£750m**, not £7.5m."


@pytest.fixture
def councillor(author_user):
    client = Client()
    client.force_login(author_user)
    client.author = author_user.author_profile
    return client


@pytest.fixture
def post(author_user):
    return PostFactory(
        title="Back office contract signed",
        author=author_user.author_profile,
        published_at=timezone.now() - datetime.timedelta(days=30),
    )


def change_form(post, corrections=(), initial=()):
    """The post's admin change form as submitted: the post unchanged, the existing
    corrections (`initial`: (pk, extra fields)) and new ones (`corrections`: texts)."""
    local = timezone.localtime(post.published_at)
    data = {
        "title": post.title,
        "slug": post.slug,
        "author": post.author.pk,
        "body_format": post.body_format,
        "body": post.body,
        "excerpt": post.excerpt,
        "status": post.status,
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "comments_enabled": "on",
        "image_alt": "",
        "seo_description": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "corrections-TOTAL_FORMS": str(len(initial) + len(corrections)),
        "corrections-INITIAL_FORMS": str(len(initial)),
    }
    for n, (pk, fields) in enumerate(initial):
        data.update({f"corrections-{n}-id": str(pk), f"corrections-{n}-post": str(post.pk)})
        data.update({f"corrections-{n}-{name}": value for name, value in fields.items()})
    for n, correction in enumerate(corrections, start=len(initial)):
        data.update(
            {
                f"corrections-{n}-id": "",
                f"corrections-{n}-post": str(post.pk),
                f"corrections-{n}-text": correction,
            }
        )
    return data


def correct(client, post, *texts):
    url = reverse("admin:posts_post_change", args=[post.pk])
    return client.post(url, change_form(post, texts))


def json_ld(response):
    (data,) = head(response).json_ld
    return data


def test_an_author_corrects_a_published_post_and_readers_see_it_at_the_top(councillor, post):
    before = json_ld(Client().get(post.get_absolute_url()))["dateModified"]
    response = correct(councillor, post, WRONG)
    assert response.status_code == 302
    correction = Correction.objects.get()
    assert correction.made_by == councillor.author.user

    page = Client().get(post.get_absolute_url())
    html = page.content.decode()
    top = html.index('class="corrections"')
    assert top < html.index('class="post-body"')
    today = timezone.localdate().strftime("%-d %B %Y")
    box = html[top : html.index('class="post-body"')]
    assert "Corrected on <time" in box and f">{today}</time>" in box
    assert "The contract value is <strong>£750m</strong>, not £7.5m." in html
    assert json_ld(page)["dateModified"] > before
    modified = datetime.datetime.fromisoformat(json_ld(page)["dateModified"])
    assert modified >= correction.made_at
    assert head(page).one("article:modified_time") == json_ld(page)["dateModified"]


def test_the_post_feed_entry_is_updated_and_starts_with_the_correction(councillor, post):
    atom = reverse("posts:feed-atom")
    (entry,) = feedparser.parse(Client().get(atom).content).entries
    updated_before = entry.updated
    correct(councillor, post, WRONG)
    (entry,) = feedparser.parse(Client().get(atom).content).entries
    assert entry.updated > updated_before  # ISO 8601 in one time zone: sorts as text
    for url in (reverse("posts:feed"), atom):
        (entry,) = feedparser.parse(Client().get(url).content).entries
        content = entry.content[0].value
        assert content.index("Corrected on") < content.index("The first paragraph")
        assert "<strong>£750m</strong>" in content


def test_the_corrections_page_lists_every_correction_newest_first(client, post):
    other = PostFactory(title="Parking charges")
    PostFactory(draft=True, title="Draft with a correction")  # never listed
    old = Correction.objects.create(post=post, text="The meeting was on Tuesday.")
    Correction.objects.filter(pk=old.pk).update(made_at=timezone.now() - datetime.timedelta(days=3))
    Correction.objects.create(post=other, text="The charge is £2, not £3.")
    response = client.get(reverse("posts:corrections"))
    assert response.status_code == 200
    page = text(response)
    assert page.index("The charge is £2, not £3.") < page.index("The meeting was on Tuesday.")
    assert "Parking charges" in page and "Back office contract signed" in page
    assert "Draft with a correction" not in page
    assert f'href="{other.get_absolute_url()}"' in response.content.decode()


def test_corrections_of_posts_the_public_cannot_see_are_not_listed(client, post):
    Correction.objects.create(post=post, text="The meeting was on Tuesday.")
    post.unpublish()
    assert "The meeting was on Tuesday." not in text(client.get(reverse("posts:corrections")))
    assert not feedparser.parse(client.get(reverse("posts:corrections-feed")).content).entries


@pytest.mark.parametrize(
    "url", [reverse("posts:corrections-feed"), reverse("posts:corrections-feed-atom")]
)
def test_corrections_have_a_feed(client, post, url):
    correction = Correction.objects.create(post=post, text=WRONG)
    response = client.get(url)
    assert response.status_code == 200
    (entry,) = feedparser.parse(response.content).entries
    assert entry.title == "Correction to “Back office contract signed”"
    assert entry.link.endswith(f"{post.get_absolute_url()}#correction-{correction.pk}")
    assert entry.id == f"urn:uuid:{correction.uid}"
    assert "£750m" in entry.summary


def test_the_corrections_page_links_its_feeds(client):
    html = client.get(reverse("posts:corrections")).content.decode()
    assert reverse("posts:corrections-feed") in html
    assert reverse("posts:corrections-feed-atom") in html
    assert "No post has needed a correction." in html


# --- Never deleted silently -------------------------------------------------------------------


def test_a_correction_is_withdrawn_not_deleted_and_the_history_says_so(councillor, post):
    correct(councillor, post, WRONG)
    correction = Correction.objects.get()
    url = reverse("admin:posts_post_change", args=[post.pk])
    data = change_form(
        post,
        initial=[(correction.pk, {"withdraw": "on", "withdrawal_reason": "Wrong post."})],
    )
    data["corrections-0-DELETE"] = "on"  # even a forged delete does nothing
    response = councillor.post(url, data)
    assert response.status_code == 302
    correction.refresh_from_db()
    assert correction.is_withdrawn and correction.withdrawal_reason == "Wrong post."
    assert correction.withdrawn_by == councillor.author.user
    assert correction.text == WRONG  # kept as it was

    for page in (Client().get(post.get_absolute_url()), Client().get(reverse("posts:corrections"))):
        body = text(page)
        assert "£750m" in body
        assert "Withdrawn on" in body and "Wrong post." in body
    (entry,) = feedparser.parse(Client().get(reverse("posts:corrections-feed")).content).entries
    assert entry.title.endswith("(withdrawn)") and "Wrong post." in entry.summary

    history = [e.get_change_message() for e in LogEntry.objects.filter(object_id=str(post.pk))]
    assert any("Added correction" in message for message in history)
    assert any("Changed" in message and "correction" in message for message in history)


def test_the_admin_offers_no_way_to_delete_a_correction(councillor, post):
    correct(councillor, post, WRONG)
    page = councillor.get(reverse("admin:posts_post_change", args=[post.pk]))
    (formset,) = [f for f in page.context["inline_admin_formsets"] if f.opts.model is Correction]
    assert not formset.formset.can_delete
    assert not formset.has_delete_permission
    group = Group.objects.get(name="Authors")
    assert not group.permissions.filter(codename="delete_correction").exists()


def test_a_saved_correction_cannot_be_rewritten(councillor, post):
    correct(councillor, post, WRONG)
    correction = Correction.objects.get()
    data = change_form(post, initial=[(correction.pk, {"text": "Nothing was wrong."})])
    assert (
        councillor.post(reverse("admin:posts_post_change", args=[post.pk]), data).status_code == 302
    )
    assert Correction.objects.get().text == WRONG


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"withdraw": "on", "withdrawal_reason": ""}, "withdrawal_reason", "Say why"),
        ({"withdrawal_reason": "Because."}, "withdraw", "Tick this box"),
    ],
)
def test_withdrawing_needs_a_reason_and_the_box(councillor, post, fields, field, message):
    correct(councillor, post, WRONG)
    correction = Correction.objects.get()
    response = councillor.post(
        reverse("admin:posts_post_change", args=[post.pk]),
        change_form(post, initial=[(correction.pk, fields)]),
    )
    assert response.status_code == 200
    (formset,) = [
        f for f in response.context["inline_admin_formsets"] if f.opts.model is Correction
    ]
    assert message in " ".join(formset.formset.forms[0].errors[field])
    assert not Correction.objects.get().is_withdrawn


@pytest.mark.parametrize(
    ("correction", "message"),
    [
        ("x" * 2001, "at most 2000 characters"),
        ("Bad \u202etext", "invisible control characters"),
    ],
)
def test_bad_corrections_get_a_form_error_and_save_nothing(councillor, post, correction, message):
    response = correct(councillor, post, correction)
    assert response.status_code == 200
    (formset,) = [
        f for f in response.context["inline_admin_formsets"] if f.opts.model is Correction
    ]
    assert message in " ".join(formset.formset.forms[0].errors["text"])
    assert not Correction.objects.exists()


def test_correction_text_goes_through_the_sanitiser(post):
    Correction.objects.create(
        post=post, text="<script>alert(1)</script>## Heading\n\n[x](javascript:alert(2)) *ok*"
    )
    html = Client().get(post.get_absolute_url()).content.decode()
    box = html[html.index('class="corrections"') : html.index('class="post-body"')]
    assert "<script" not in box and "javascript:" not in box and "alert(1)" not in box
    assert "<h2>Heading" not in box and "<em>ok</em>" in box


# --- Who may correct what -----------------------------------------------------------------------


def test_an_author_cannot_correct_another_authors_post(councillor):
    others = PostFactory(author=AuthorFactory())
    response = correct(councillor, others, WRONG)
    # The admin treats another author's post as one that does not exist.
    assert response.status_code == 302 and response.url == reverse("admin:index")
    assert not Correction.objects.exists()
    assert councillor.get(reverse("admin:posts_post_change", args=[others.pk])).status_code == 302


def test_a_draft_has_no_corrections_it_is_edited(councillor):
    draft = PostFactory(draft=True, author=councillor.author)
    page = councillor.get(reverse("admin:posts_post_change", args=[draft.pk]))
    assert all(f.opts.model is not Correction for f in page.context["inline_admin_formsets"])
    councillor.post(
        reverse("admin:posts_post_change", args=[draft.pk]), change_form(draft, [WRONG])
    )
    assert not Correction.objects.exists()


def test_the_model_refuses_a_correction_of_an_unpublished_post():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Correction(post=PostFactory(draft=True), text=WRONG).full_clean()


# --- Query counts ----------------------------------------------------------------------------


def test_the_corrections_page_asks_a_fixed_number_of_queries(client, django_assert_num_queries):
    def make(n):
        for _ in range(n):
            Correction.objects.create(post=PostFactory(), text=WRONG)

    make(2)
    url = reverse("posts:corrections")
    client.get(url)
    with django_assert_num_queries(3):  # count, the page with its posts, the site state
        assert client.get(url).status_code == 200
    make(40)
    with django_assert_num_queries(3):
        response = client.get(url)
    assert text(response).count("Corrected on") == settings.POSTS_PER_PAGE
    assert "Older corrections" in text(response)
    last = -(-42 // settings.POSTS_PER_PAGE)
    with django_assert_num_queries(3):
        assert client.get(f"{url}?page={last}").status_code == 200
    assert client.get(f"{url}?page={last + 1}").status_code == 404


def test_a_corrected_post_asks_one_query_more_however_many_corrections(
    client, post, django_assert_num_queries
):
    from tests.test_queries import EXPECTED

    url = post.get_absolute_url()
    client.get(url)
    with django_assert_num_queries(EXPECTED["detail"]):
        client.get(url)
    Correction.objects.create(post=post, text=WRONG)
    with django_assert_num_queries(EXPECTED["detail"] + 1):
        client.get(url)
    for n in range(9):
        Correction.objects.create(post=post, text=f"Correction {n}.")
    with django_assert_num_queries(EXPECTED["detail"] + 1):
        response = client.get(url)
    assert text(response).count("Corrected on") == 10
    assert Post.objects.get(pk=post.pk).corrected_at is not None


def test_every_page_links_to_the_corrections_in_its_footer(client, post):
    for url in ("/", post.get_absolute_url(), reverse("about")):
        html = client.get(url).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert f'<a href="{reverse("posts:corrections")}">Corrections</a>' in footer
