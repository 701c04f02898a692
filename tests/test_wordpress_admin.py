"""The admin import: superusers upload an export, read the dry run, confirm; nobody else may."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from posts.models import Post
from tests.factories import UserFactory
from tests.test_wordpress_import import SEED

pytestmark = pytest.mark.django_db
URL = "/admin/wordpress/importedobject/import/"


def upload():
    return SimpleUploadedFile("export.xml", SEED.read_bytes(), content_type="text/xml")


@pytest.fixture
def superuser_client():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def csrf(client):
    client.get(URL)
    return client.cookies["csrftoken"].value


def test_a_superuser_uploads_reads_the_dry_run_and_confirms(superuser_client, mailoutbox):
    assert reverse("admin:wordpress_import") == URL
    token = csrf(superuser_client)
    checked = superuser_client.post(URL, {"export": upload(), "csrfmiddlewaretoken": token})
    assert checked.status_code == 200
    assert "Posts: 1 published" in checked.content.decode()
    assert Post.objects.count() == 0  # the dry run wrote nothing

    confirmed = superuser_client.post(
        URL, {"token": checked.context["token"], "csrfmiddlewaretoken": token}
    )
    assert confirmed.status_code == 200
    assert Post.objects.count() == 1
    assert mailoutbox == []
    # The upload is used once.
    again = superuser_client.post(
        URL, {"token": checked.context["token"], "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 302 and Post.objects.count() == 1


def test_posts_without_the_csrf_token_are_refused(superuser_client):
    assert superuser_client.post(URL, {"export": upload()}).status_code == 403
    assert Post.objects.count() == 0


def test_a_broken_file_is_refused_in_the_form(superuser_client):
    token = csrf(superuser_client)
    bad = SimpleUploadedFile("x.xml", b"<rss><channel>", content_type="text/xml")
    response = superuser_client.post(URL, {"export": bad, "csrfmiddlewaretoken": token})
    assert "Nothing can be imported" in response.content.decode()


@pytest.mark.parametrize("group", ["Authors", "Moderators"])
def test_authors_and_moderators_may_not_import(client, group):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"export": upload()}).status_code == 403
    assert client.get("/admin/wordpress/importedobject/").status_code == 403
    assert Post.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_token_from_another_superuser_is_refused(superuser_client):
    token = csrf(superuser_client)
    checked = superuser_client.post(URL, {"export": upload(), "csrfmiddlewaretoken": token})
    other = Client()
    other.force_login(UserFactory(username="root2", is_staff=True, is_superuser=True))
    assert other.post(URL, {"token": checked.context["token"]}).status_code == 403
    assert Post.objects.count() == 0
