"""The councillor's admin: what an author may do, and how writing and publishing posts works."""

import datetime
import json
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from posts.models import Attachment, Post
from tests.factories import AuthorFactory, ImageFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

AUTHOR_MODELS = ["post", "category", "tag", "image", "attachment"]
ELECTION_AND_CORRECTION_PERMISSIONS = [
    "add_correction",
    "change_correction",
    "view_correction",
]
PREVIEW_URL_NAME = "admin:posts_post_markdown_preview"
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def post_form_data(author, **overrides):
    """Everything the post add/change form submits, with no attachments."""
    data = {
        "title": "Library opening hours",
        "slug": "library-opening-hours",
        "author": author.pk,
        "body_format": Post.BodyFormat.MARKDOWN,
        "body": "The library will open on Sundays.",
        "excerpt": "",
        "status": Post.Status.DRAFT,
        "published_at_0": "",
        "published_at_1": "",
        "comments_enabled": "on",
        "image": "",
        "image_alt": "",
        "seo_description": "",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
        # A published post's page has corrections too (ignored for a draft's).
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
        "corrections-MIN_NUM_FORMS": "0",
        "corrections-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def when_fields(moment):
    local = timezone.localtime(moment)
    return {
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
    }


def form_errors(response):
    return response.context["adminform"].form.errors


def page_text(response):
    return response.content.decode()


@pytest.fixture
def councillor(admin_user):
    """The superuser, with an Author profile (the councillor who owns the blog)."""
    return AuthorFactory(user=admin_user, display_name="Robert Rams", slug="robert-rams")


# --- The Authors group and what its members may do --------------------------------------------


def test_authors_group_can_manage_posts_and_their_media_and_nothing_else():
    """Posts and their media, plus moderating comments on their own posts (comments issue),
    and correcting them (issue 12). Pre-election periods and the imprint are the owner's."""
    group = Group.objects.get(name="Authors")
    granted = {(p.content_type.app_label, p.codename) for p in group.permissions.all()}
    expected = (
        {
            ("posts", f"{action}_{model}")
            for model in AUTHOR_MODELS
            for action in ("add", "change", "delete", "view")
        }
        | {
            ("comments", "view_comment"),
            ("comments", "change_comment"),
            ("comments", "moderate_comment"),
            ("comments", "view_moderationevent"),
        }
        | {("posts", codename) for codename in ELECTION_AND_CORRECTION_PERMISSIONS}
    )
    assert granted == expected
    assert ("posts", "delete_correction") not in granted  # withdrawn, never deleted
    assert ("comments", "moderate_any_comment") not in granted


def test_authors_group_cannot_touch_accounts_pages_or_author_profiles():
    codenames = set(
        Group.objects.get(name="Authors").permissions.values_list("codename", flat=True)
    )
    for forbidden in [
        "add_user",
        "change_user",
        "view_user",
        "change_group",
        "change_permission",
        "change_flatpage",
        "change_site",
        "change_author",
        "view_author",
        "change_sitesettings",
        "add_electionperiod",
        "change_electionperiod",
    ]:
        assert forbidden not in codenames


def test_an_author_can_open_the_post_list_and_write_a_new_post(client, author_user):
    client.force_login(author_user)
    assert client.get(reverse("admin:posts_post_changelist")).status_code == 200
    assert client.get(reverse("admin:posts_post_add")).status_code == 200
    assert client.get(reverse("admin:posts_image_add")).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["/admin/auth/user/", "/admin/auth/group/", "/admin/flatpages/flatpage/", "/admin/sites/site/"],
)
def test_an_author_is_refused_account_and_page_administration(client, author_user, url):
    client.force_login(author_user)
    assert client.get(url).status_code == 403


def test_an_author_does_not_see_users_or_pages_on_the_admin_home_page(client, author_user):
    client.force_login(author_user)
    page = page_text(client.get(reverse("admin:index")))
    assert reverse("admin:posts_post_changelist") in page
    assert "/admin/auth/user/" not in page
    assert "/admin/flatpages/flatpage/" not in page


def test_an_author_can_publish_a_post_through_the_admin(client, author_user):
    client.force_login(author_user)
    data = post_form_data(author_user.author_profile, status=Post.Status.PUBLISHED)
    response = client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 302, form_errors(response)
    post = Post.objects.get()
    assert post.is_published()
    assert post.author == author_user.author_profile
    assert client.get(post.get_absolute_url()).status_code == 200


def test_an_author_can_pick_a_featured_image_by_searching(client, author_user):
    ImageFactory(title="Town hall")
    client.force_login(author_user)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "posts", "model_name": "post", "field_name": "image", "term": "town"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Town hall"]


# --- The list of posts ------------------------------------------------------------------------


def test_post_list_shows_each_posts_state(admin_client):
    PostFactory(title="A draft", draft=True)
    PostFactory(title="A scheduled post", scheduled=True)
    PostFactory(title="A published post")
    page = page_text(admin_client.get(reverse("admin:posts_post_changelist")))
    assert re.search(r'<th scope="col" class="[^"]*column-state[^"]*">.*?State', page, re.S)
    states = re.findall(r'<td class="field-state">([^<]*)</td>', page)
    assert sorted(states) == ["Draft", "Published", "Scheduled"]
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    for title, state in [
        ("A draft", "Draft"),
        ("A scheduled post", "Scheduled"),
        ("A published post", "Published"),
    ]:
        (row,) = [r for r in rows if title in r]
        assert f'<td class="field-state">{state}</td>' in row


def run_action(client, action, posts):
    return client.post(
        reverse("admin:posts_post_changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [p.pk for p in posts], "index": "0"},
        follow=True,
    )


def test_publish_action_makes_drafts_public(admin_client, client, monkeypatch):
    calls = []
    original = Post.publish

    def spy(self, *args, **kwargs):
        calls.append(self.pk)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Post, "publish", spy)
    first, second = PostFactory(draft=True), PostFactory(draft=True)
    response = run_action(admin_client, "publish", [first, second])
    assert response.status_code == 200
    assert "Published 2 post(s)." in page_text(response)
    assert sorted(calls) == sorted([first.pk, second.pk])
    for post in (first, second):
        post.refresh_from_db()
        assert post.status == Post.Status.PUBLISHED
        assert post.is_published()
        assert client.get(post.get_absolute_url()).status_code == 200


def test_unpublish_action_takes_posts_off_the_public_site(admin_client, client, monkeypatch):
    calls = []
    original = Post.unpublish

    def spy(self):
        calls.append(self.pk)
        return original(self)

    monkeypatch.setattr(Post, "unpublish", spy)
    post = PostFactory()
    public_url = post.get_absolute_url()
    assert client.get(public_url).status_code == 200
    response = run_action(admin_client, "unpublish", [post])
    assert "Unpublished 1 post(s)." in page_text(response)
    assert calls == [post.pk]
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert not post.is_published()
    assert post.published_at is not None  # kept, so republishing keeps the same address
    assert client.get(public_url).status_code == 404


def test_publishing_a_draft_never_gives_it_the_address_of_another_post_that_day(
    admin_client, client
):
    """Two posts with the same slug published the same day would share one address."""
    today = PostFactory(slug="library-opening-hours", published_at=timezone.now())
    draft = PostFactory(slug="library-opening-hours", draft=True)
    run_action(admin_client, "publish", [draft])
    draft.refresh_from_db()
    assert draft.is_published()
    assert draft.slug == "library-opening-hours-2"
    assert draft.get_absolute_url() != today.get_absolute_url()
    for post in (today, draft):
        response = client.get(post.get_absolute_url())
        assert response.status_code == 200
        assert post.title in page_text(response)


def test_an_author_can_use_the_publish_action(client, author_user):
    post = PostFactory(draft=True, author=author_user.author_profile)
    client.force_login(author_user)
    run_action(client, "publish", [post])
    post.refresh_from_db()
    assert post.is_published()


# --- Markdown preview in the editor -----------------------------------------------------------


def test_markdown_preview_returns_sanitised_html(admin_client):
    body = "# Parks\n\n**Saved** <script>steal()</script> [x](javascript:steal())"
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": body})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    html = response.json()["html"]
    assert html.startswith("<h2>Parks</h2>")
    assert "<strong>Saved</strong>" in html
    assert "<script" not in html
    assert "steal" not in html


def test_markdown_preview_matches_the_published_post(admin_client):
    body = "Intro with *emphasis*.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    post = PostFactory(body=body)
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": body})
    assert response.json()["html"] == post.body_html


def test_markdown_preview_works_for_an_author(client, author_user):
    client.force_login(author_user)
    response = client.post(reverse(PREVIEW_URL_NAME), {"body": "*hi*"})
    assert response.status_code == 200
    assert response.json() == {"html": "<p><em>hi</em></p>"}


def test_markdown_preview_only_accepts_post(admin_client):
    response = admin_client.get(reverse(PREVIEW_URL_NAME), {"body": "*hi*"})
    assert response.status_code == 405


def test_markdown_preview_sends_anonymous_visitors_to_log_in(client):
    url = reverse(PREVIEW_URL_NAME)
    response = client.post(url, {"body": "*hi*"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "html" not in response.content.decode()


def test_markdown_preview_is_refused_to_staff_without_post_permissions(client):
    moderator = UserFactory(is_staff=True)
    client.force_login(moderator)
    response = client.post(reverse(PREVIEW_URL_NAME), {"body": "*hi*"})
    assert response.status_code == 403
    assert "html" not in response.json()


def test_markdown_preview_is_refused_to_logged_in_non_staff(client):
    client.force_login(UserFactory())
    response = client.post(reverse(PREVIEW_URL_NAME), {"body": "*hi*"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_markdown_preview_requires_a_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = reverse(PREVIEW_URL_NAME)
    assert client.post(url, {"body": "*hi*"}).status_code == 403

    # What the editor's script does: read the token the page set, send it in a header.
    client.get(reverse("admin:posts_post_add"))
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"body": "*hi*"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json()["html"] == "<p><em>hi</em></p>"


def test_the_preview_renders_an_html_body_as_html_through_the_sanitiser(admin_client):
    body = (
        '<h1>Budget</h1><p onclick="steal()">Kept <em>emphasis</em></p>'
        '<figure><img src="/media/a.jpg" alt="Park"><figcaption>The park</figcaption></figure>'
        "<script>steal()</script>*not markdown*"
    )
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": body, "body_format": "html"})
    html = response.json()["html"]
    assert html.startswith("<h2>Budget</h2><p>Kept <em>emphasis</em></p><figure>")
    assert "<figcaption>The park</figcaption>" in html
    assert "*not markdown*" in html
    assert "steal" not in html and "onclick" not in html
    post = PostFactory(body=body, body_format=Post.BodyFormat.HTML)
    assert html == post.body_html
    # The same text read as Markdown is another page: its asterisks make emphasis.
    as_markdown = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": body}).json()["html"]
    assert "<em>not markdown</em>" in as_markdown


def test_the_preview_refuses_an_unknown_body_format(admin_client):
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": "x", "body_format": "php"})
    assert response.status_code == 400


def test_the_body_format_is_in_the_post_form_and_the_staff_preview_honours_it(
    admin_client, councillor
):
    page = admin_client.get(reverse("admin:posts_post_add")).content.decode()
    assert re.search(r'<select name="body_format"[^>]*id="id_body_format"', page)
    assert re.search(r'<label[^>]* for="id_body_format"', page)
    data = post_form_data(
        councillor, body_format="html", body="<p>Bins on <strong>Tuesday</strong></p>"
    )
    assert admin_client.post(reverse("admin:posts_post_add"), data).status_code == 302
    post = Post.objects.get()
    assert post.body_format == Post.BodyFormat.HTML
    preview = admin_client.get(reverse("posts:preview", args=[post.pk])).content.decode()
    assert "<p>Bins on <strong>Tuesday</strong></p>" in preview
    assert "&lt;strong&gt;" not in preview


def test_an_unknown_body_format_in_the_post_form_is_a_form_error(admin_client, councillor):
    data = post_form_data(councillor, body_format="php")
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert "body_format" in form_errors(response)
    assert not Post.objects.exists()


def test_markdown_preview_refuses_a_body_longer_than_a_post_may_be(admin_client):
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": "x" * 200_001})
    assert response.status_code == 400


def test_post_editor_loads_the_preview_script(admin_client):
    page = page_text(admin_client.get(reverse("admin:posts_post_add")))
    assert "posts/admin-preview" in page
    assert 'class="markdown-source"' in page


# --- Writing a post in the admin --------------------------------------------------------------


def test_featured_image_needs_a_description(admin_client, councillor):
    image = ImageFactory()
    data = post_form_data(councillor, image=image.pk, image_alt="   ")
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert form_errors(response)["image_alt"] == [
        "Describe the featured image for people who cannot see it."
    ]
    assert "Describe the featured image" in page_text(response)
    assert not Post.objects.exists()


def test_featured_image_with_a_description_is_saved_and_shown(admin_client, client, councillor):
    image = ImageFactory()
    data = post_form_data(
        councillor,
        image=image.pk,
        image_alt="Residents outside the library",
        status=Post.Status.PUBLISHED,
    )
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 302, form_errors(response)
    post = Post.objects.get()
    assert post.image == image
    page = page_text(client.get(post.get_absolute_url()))
    assert 'alt="Residents outside the library"' in page


def test_duplicate_slug_on_the_same_day_is_refused(admin_client, councillor):
    morning = timezone.make_aware(datetime.datetime(2024, 5, 1, 9, 0))
    PostFactory(slug="library-opening-hours", published_at=morning)
    evening = morning + datetime.timedelta(hours=10)
    data = post_form_data(councillor, status=Post.Status.PUBLISHED, **when_fields(evening))
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert form_errors(response)["slug"] == ["Slug must be unique for Publication date date."]
    assert Post.objects.count() == 1


def test_same_slug_on_another_day_is_allowed(admin_client, councillor):
    morning = timezone.make_aware(datetime.datetime(2024, 5, 1, 9, 0))
    PostFactory(slug="library-opening-hours", published_at=morning)
    data = post_form_data(
        councillor,
        status=Post.Status.PUBLISHED,
        **when_fields(morning + datetime.timedelta(days=1)),
    )
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 302, form_errors(response)
    assert Post.objects.filter(slug="library-opening-hours").count() == 2


def test_duplicate_slug_is_refused_when_publishing_today_without_a_date(
    admin_client, client, councillor
):
    """Leaving the date blank publishes "now": today's posts must not share the address."""
    existing = PostFactory(slug="library-opening-hours", published_at=timezone.now())
    data = post_form_data(councillor, status=Post.Status.PUBLISHED)
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert form_errors(response)["slug"] == ["Slug must be unique for Publication date date."]
    assert Post.objects.count() == 1
    assert client.get(existing.get_absolute_url()).status_code == 200


def test_add_form_prefills_the_author_with_the_writers_profile(client, author_user):
    AuthorFactory(display_name="Someone Else")
    client.force_login(author_user)
    response = client.get(reverse("admin:posts_post_add"))
    form = response.context["adminform"].form
    assert form.initial["author"] == author_user.author_profile.pk
    assert re.search(
        rf'<option value="{author_user.author_profile.pk}" selected>Robert Rams</option>',
        page_text(response),
    )


def test_add_form_leaves_author_empty_for_a_user_without_a_profile(admin_client):
    AuthorFactory()
    response = admin_client.get(reverse("admin:posts_post_add"))
    assert "author" not in response.context["adminform"].form.initial


def view_on_site_url(client, post):
    page = page_text(client.get(reverse("admin:posts_post_change", args=[post.pk])))
    match = re.search(r'<a href="([^"]+)" class="viewsitelink">', page)
    assert match, "no View on site link"
    return match.group(1)


def test_view_on_site_for_a_draft_opens_the_staff_preview(admin_client):
    post = PostFactory(draft=True)
    url = view_on_site_url(admin_client, post)
    assert url == reverse("posts:preview", kwargs={"pk": post.pk})
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Draft — not public" in page_text(response)


def test_view_on_site_for_a_scheduled_post_opens_the_staff_preview(admin_client):
    post = PostFactory(scheduled=True)
    assert view_on_site_url(admin_client, post) == reverse("posts:preview", kwargs={"pk": post.pk})


def test_view_on_site_for_a_published_post_opens_its_public_address(admin_client, client):
    post = PostFactory(published_at=timezone.make_aware(datetime.datetime(2024, 3, 7, 12, 0)))
    url = view_on_site_url(admin_client, post)
    assert url == f"/2024/03/07/{post.slug}/"
    assert client.get(url).status_code == 200


# --- Attachments ------------------------------------------------------------------------------


def attachment_data(author, post, files):
    """The change form for `post`, adding one new attachment per (title, file)."""
    data = post_form_data(
        author,
        title=post.title,
        slug=post.slug,
        body=post.body,
        status=post.status,
        **when_fields(post.published_at),
    )
    data["attachments-TOTAL_FORMS"] = str(len(files))
    for n, (title, upload) in enumerate(files):
        data.update(
            {
                f"attachments-{n}-id": "",
                f"attachments-{n}-post": str(post.pk),
                f"attachments-{n}-title": title,
                f"attachments-{n}-file": upload,
                f"attachments-{n}-position": str(n),
            }
        )
    return data


def inline_errors(response):
    formsets = response.context["inline_admin_formsets"]
    return [form.errors for formset in formsets for form in formset.formset.forms]


def test_a_pdf_attached_to_a_post_is_listed_with_its_type_and_size(admin_client, client):
    post = PostFactory()
    pdf = SimpleUploadedFile("budget-2024.pdf", PDF_BYTES, content_type="application/pdf")
    data = attachment_data(post.author, post, [("Budget report 2024", pdf)])
    response = admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), data)
    assert response.status_code == 302, inline_errors(response)

    attachment = Attachment.objects.get(post=post)
    assert attachment.kind == "PDF"
    assert attachment.size == len(PDF_BYTES)
    page = page_text(client.get(post.get_absolute_url()))
    assert "Budget report 2024" in page
    assert f"(PDF, {filesizeformat(len(PDF_BYTES))})" in page
    assert f'href="{attachment.file.url}"' in page
    download = client.get(attachment.file.url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "minutes.pdf",
            b"<html><script>steal()</script></html>",
            "This file's name says PDF, but its content is not.",
            id="html-named-pdf",
        ),
        pytest.param(
            "notes.docx",
            b"%PDF-1.4 not a zip",
            "This file's name says Word document, but its content is not.",
            id="pdf-named-docx",
        ),
        pytest.param(
            "page.html",
            b"<html><script>steal()</script></html>",
            "Attach a document of one of these types: CSV, DOCX, ODP, ODS, ODT, PDF, PPTX, "
            "TXT, XLSX.",
            id="html",
        ),
        pytest.param(
            "setup.exe",
            b"MZ\x90\x00\x03",
            "Attach a document of one of these types: CSV, DOCX, ODP, ODS, ODT, PDF, PPTX, "
            "TXT, XLSX.",
            id="exe",
        ),
        pytest.param(
            "image.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="steal()"/>',
            "Attach a document of one of these types",
            id="svg",
        ),
    ],
)
def test_attachments_that_are_not_the_documents_they_claim_are_refused(
    admin_client, client, name, content, message
):
    post = PostFactory()
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    data = attachment_data(post.author, post, [("Minutes", upload)])
    response = admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), data)
    assert response.status_code == 200
    (errors,) = inline_errors(response)
    assert errors["file"][0].startswith(message)
    assert message.replace("'", "&#x27;") in page_text(response)
    assert not Attachment.objects.exists()
    assert "Documents" not in page_text(client.get(post.get_absolute_url()))


def test_an_attachment_over_the_size_limit_is_refused(admin_client, settings):
    settings.ATTACHMENT_MAX_UPLOAD_BYTES = 50
    post = PostFactory()
    pdf = SimpleUploadedFile("big.pdf", PDF_BYTES, content_type="application/pdf")
    data = attachment_data(post.author, post, [("Big", pdf)])
    response = admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), data)
    assert response.status_code == 200
    (errors,) = inline_errors(response)
    assert "the largest we accept is 50\xa0bytes" in errors["file"][0]
    assert not Attachment.objects.exists()


def test_markdown_preview_json_is_not_html_escaped_twice(admin_client):
    response = admin_client.post(reverse(PREVIEW_URL_NAME), {"body": "Fish & chips"})
    assert json.loads(response.content)["html"] == "<p>Fish &amp; chips</p>"


# --- Authors manage their own posts only ---------------------------------------------------


@pytest.fixture
def other_authors_post():
    other = AuthorFactory(display_name="Another Councillor", slug="another-councillor")
    return PostFactory(author=other, title="Another councillor's post", body="Their words.")


def test_an_author_cannot_post_under_another_authors_byline(
    client, author_user, other_authors_post
):
    client.force_login(author_user)
    data = post_form_data(other_authors_post.author, title="Forged", slug="forged")
    response = client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in form_errors(response)["author"][0]
    assert not Post.objects.filter(title="Forged").exists()
    page = client.get(reverse("admin:posts_post_add")).content.decode()
    assert "Another Councillor" not in page  # not even offered


def test_an_author_cannot_see_change_or_delete_another_authors_post(
    client, author_user, other_authors_post
):
    client.force_login(author_user)
    change = reverse("admin:posts_post_change", args=[other_authors_post.pk])
    delete = reverse("admin:posts_post_delete", args=[other_authors_post.pk])
    assert (
        "Another councillor"
        not in client.get(reverse("admin:posts_post_changelist")).content.decode()
    )
    assert client.get(change).status_code in (302, 403, 404)
    data = post_form_data(author_user.author_profile, title="Hijacked", slug="hijacked")
    assert client.post(change, data).status_code in (302, 403, 404)
    assert client.post(delete, {"post": "yes"}).status_code in (302, 403, 404)
    other_authors_post.refresh_from_db()
    assert other_authors_post.title == "Another councillor's post"
    response = client.post(
        reverse("admin:posts_post_changelist"),
        {"action": "unpublish", ACTION_CHECKBOX_NAME: [other_authors_post.pk]},
    )
    assert response.status_code in (200, 302)
    other_authors_post.refresh_from_db()
    assert other_authors_post.is_published()


def test_an_author_still_edits_their_own_posts_and_a_superuser_everyones(
    client, author_user, other_authors_post, admin_client
):
    own = PostFactory(author=author_user.author_profile, title="Mine")
    client.force_login(author_user)
    assert client.get(reverse("admin:posts_post_change", args=[own.pk])).status_code == 200
    url = reverse("admin:posts_post_change", args=[other_authors_post.pk])
    assert admin_client.get(url).status_code == 200


def test_only_those_who_may_edit_a_draft_may_preview_it(client, author_user):
    draft = PostFactory(draft=True, title="Unannounced plans")
    url = reverse("posts:preview", args=[draft.pk])
    for user in [author_user, UserFactory(is_staff=True)]:
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(draft.author.user)
    assert "Unannounced plans" in client.get(url).content.decode()
