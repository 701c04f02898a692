"""The digital imprint (Elections Act 2022, issue 12): election material, and only election
material, names its promoter, at the foot of its page, in its description for search engines
and link previews (meta, Open Graph, Twitter, JSON-LD) and in its RSS and Atom entries."""

import datetime
import html as html_lib
import re

import feedparser
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from posts.models import Post, SiteSettings
from tests.factories import AuthorFactory, PostFactory, text
from tests.test_seo import head

pytestmark = pytest.mark.django_db

IMPRINT = (
    "Promoted by Sam Agent of 1 Station Road, Barnet EN5 1AA on behalf of Robert Rams of "
    "2 High Street, Barnet EN5 5XX."
)


@pytest.fixture
def imprint():
    SiteSettings.objects.update(
        imprint_promoter="Sam Agent",
        imprint_promoter_address="1 Station Road, Barnet EN5 1AA",
        imprint_on_behalf_of="Robert Rams",
        imprint_on_behalf_of_address="2 High Street, Barnet EN5 5XX",
    )
    return IMPRINT


@pytest.fixture
def posts(imprint):
    author = AuthorFactory()
    return {
        "election": PostFactory(
            title="Vote for a cleaner Barnet",
            author=author,
            election_material=True,
            seo_description="Why I am standing again.",
        ),
        "ordinary": PostFactory(
            title="Bin collections over Easter",
            author=author,
            seo_description="Collections move by a day.",
            published_at=timezone.now() - datetime.timedelta(days=2),
        ),
    }


def descriptions(response):
    parsed = head(response)
    (data,) = parsed.json_ld
    return {
        "meta": parsed.one("description"),
        "og": parsed.one("og:description"),
        "twitter": parsed.one("twitter:description"),
        "json-ld": data["description"],
    }


def test_election_material_shows_the_imprint_at_its_foot_and_in_its_descriptions(client, posts):
    response = client.get(posts["election"].get_absolute_url())
    html = response.content.decode()
    footer = html[html.index('<footer class="post-footer">') : html.index("</footer>")]
    assert f'<p class="imprint">{IMPRINT}</p>' in footer
    expected = f"Why I am standing again. {IMPRINT}"
    assert descriptions(response) == dict.fromkeys(["meta", "og", "twitter", "json-ld"], expected)


def test_other_posts_carry_no_imprint(client, posts):
    response = client.get(posts["ordinary"].get_absolute_url())
    assert "Promoted by" not in text(response)
    assert set(descriptions(response).values()) == {"Collections move by a day."}


@pytest.mark.parametrize("url", [reverse("posts:feed"), reverse("posts:feed-atom")])
def test_feed_entries_of_election_material_carry_the_imprint(client, posts, url):
    feed = feedparser.parse(client.get(url).content)
    entries = {entry.title: entry for entry in feed.entries}
    election, ordinary = (
        entries["Vote for a cleaner Barnet"],
        entries["Bin collections over Easter"],
    )
    assert IMPRINT in election.content[0].value
    assert election.summary.endswith(IMPRINT)
    assert "Promoted by" not in ordinary.content[0].value
    assert "Promoted by" not in ordinary.summary


def test_a_category_feed_carries_it_too(client, posts):
    from tests.factories import CategoryFactory

    campaign = CategoryFactory(slug="campaign")
    posts["election"].categories.set([campaign])
    feed = feedparser.parse(client.get(reverse("posts:category-feed", args=["campaign"])).content)
    assert IMPRINT in feed.entries[0].content[0].value


def test_changing_the_imprint_moves_the_entry_updated_date_and_the_feed_etag(client, posts):
    before = client.get(reverse("posts:feed"))
    old_updated = Post.objects.get(pk=posts["election"].pk).updated_at
    ordinary_updated = Post.objects.get(pk=posts["ordinary"].pk).updated_at
    settings = SiteSettings.current()
    settings.imprint_promoter = "Alex Agent"
    settings.save()
    assert Post.objects.get(pk=posts["election"].pk).updated_at > old_updated
    assert Post.objects.get(pk=posts["ordinary"].pk).updated_at == ordinary_updated
    after = client.get(reverse("posts:feed"), headers={"if-none-match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "Promoted by Alex Agent" in after.content.decode()


def test_the_imprint_is_text_whatever_is_typed(client, posts):
    SiteSettings.objects.update(imprint_promoter='<script>alert("x")</script> Sam')
    response = client.get(posts["election"].get_absolute_url())
    html = response.content.decode()
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Sam" in html
    feed = client.get(reverse("posts:feed")).content.decode()
    # The entry's HTML, as a feed reader gets it once the XML is parsed.
    (entry_html,) = [
        html_lib.unescape(body)
        for body in re.findall(r"<content:encoded>(.*?)</content:encoded>", feed, flags=re.S)
        if "Sam" in body
    ]
    assert "<script" not in entry_html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Sam" in entry_html


def test_without_an_imprint_election_material_cannot_be_saved(admin_client):
    SiteSettings.objects.update(imprint_promoter="", imprint_promoter_address="")
    author = AuthorFactory()
    response = admin_client.post(
        reverse("admin:posts_post_add"),
        {
            "title": "Vote for me",
            "slug": "vote-for-me",
            "author": author.pk,
            "body": "Please.",
            "status": "draft",
            "election_material": "on",
            "comments_enabled": "on",
            "attachments-TOTAL_FORMS": "0",
            "attachments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["election_material"]
    assert "fill in the promoter's name and address under Site settings" in errors[0]
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (
            {"imprint_promoter": "Sam Agent", "imprint_promoter_address": ""},
            "imprint_promoter_address",
        ),
        ({"imprint_on_behalf_of": "Robert Rams"}, "imprint_on_behalf_of_address"),
        ({"imprint_promoter": "Sam \u202eAgent"}, "imprint_promoter"),
        ({"imprint_promoter_address": "x" * 301}, "imprint_promoter_address"),
    ],
    ids=["no address", "on behalf of without address", "direction override", "too long"],
)
def test_bad_imprints_get_a_form_error_and_change_nothing(admin_client, imprint, fields, field):
    settings = SiteSettings.current()
    data = {
        "imprint_promoter": settings.imprint_promoter,
        "imprint_promoter_address": settings.imprint_promoter_address,
        "imprint_on_behalf_of": "",
        "imprint_on_behalf_of_address": "",
        **fields,
    }
    response = admin_client.post(
        reverse("admin:posts_sitesettings_change", args=[settings.pk]), data
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert SiteSettings.current().imprint == IMPRINT


def test_an_author_may_not_change_the_imprint_every_author_shares(author_user):
    client = Client()
    client.force_login(author_user)
    url = reverse("admin:posts_sitesettings_change", args=[SiteSettings.current().pk])
    response = client.post(url, {"imprint_promoter": "Someone Else"})
    assert response.status_code == 403
    assert "Someone Else" not in SiteSettings.current().imprint


def test_the_owner_fills_in_the_imprint_and_sees_it_as_it_will_be_shown(admin_client):
    client = admin_client
    settings = SiteSettings.current()
    url = reverse("admin:posts_sitesettings_change", args=[settings.pk])
    response = client.post(
        url,
        {
            "imprint_promoter": "  Sam   Agent ",
            "imprint_promoter_address": "1 Station Road, Barnet EN5 1AA",
            "imprint_on_behalf_of": "",
            "imprint_on_behalf_of_address": "",
        },
    )
    assert response.status_code == 302
    assert (
        SiteSettings.current().imprint == "Promoted by Sam Agent of 1 Station Road, Barnet EN5 1AA."
    )
    assert "Promoted by Sam Agent of 1 Station Road" in text(client.get(url))
    assert client.get(reverse("admin:posts_sitesettings_add")).status_code == 403  # one row


def test_the_preview_shows_the_imprint_as_the_public_will_see_it(admin_client, imprint):
    draft = PostFactory(draft=True, election_material=True)
    assert IMPRINT in text(admin_client.get(reverse("posts:preview", args=[draft.pk])))


def test_an_election_post_page_asks_one_query_more_for_the_imprint_only(
    client, posts, django_assert_num_queries
):
    from tests.test_queries import EXPECTED

    for post, extra in ((posts["ordinary"], 0), (posts["election"], 1)):
        client.get(post.get_absolute_url())
        with django_assert_num_queries(EXPECTED["detail"] + extra):
            client.get(post.get_absolute_url())
