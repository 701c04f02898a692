"""The admin import: superusers upload an export, read the dry run, confirm; nobody else may."""

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image as PILImage

from posts.models import Image, Post
from tests.factories import UserFactory
from tests.test_images import camera_photo
from tests.test_wordpress_import import SEED, media_files

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


# --- Media: a zip of wp-content/uploads, or a folder on the server -----------------------


def zip_of(members, symlinks=()):
    """A zip archive in memory: {name: bytes}, and names stored as symbolic links."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


PHOTO = "wp-content/uploads/2011/06/town-hall.jpg"


@pytest.fixture(autouse=True)
def import_folder(settings, tmp_path):
    settings.WORDPRESS_IMPORT_FOLDER = tmp_path / "waiting"
    return settings.WORDPRESS_IMPORT_FOLDER


def leftovers(folder):
    return sorted(p for p in folder.rglob("*")) if folder.exists() else []


def check(client, **files):
    token = csrf(client)
    return client.post(URL, {"export": upload(), "csrfmiddlewaretoken": token, **files})


def test_a_superuser_imports_the_pictures_from_a_zip_of_the_uploads_folder(
    superuser_client, import_folder, settings
):
    media = SimpleUploadedFile("uploads.zip", zip_of({PHOTO: camera_photo((1200, 800))}))
    checked = check(superuser_client, media=media)
    assert checked.status_code == 200
    assert "Media files: 1 pictures imported" in checked.content.decode()
    assert Image.objects.count() == 0 and media_files(settings) == []  # a dry run

    token = checked.context["token"]
    confirmed = superuser_client.post(
        URL, {"token": token, "csrfmiddlewaretoken": superuser_client.cookies["csrftoken"].value}
    )
    assert confirmed.status_code == 200
    post = Post.objects.get()
    assert post.image is not None and post.image.default_url in post.body_html
    with PILImage.open(post.image.file.path) as stored:
        assert not stored.getexif()  # through posts/images.py: no GPS
    assert leftovers(import_folder) == []  # the upload and its unpacked copy are gone


@pytest.mark.parametrize(
    "members",
    [
        {"2011/06/town-hall.jpg": "photo"},
        {"uploads/2011/06/town-hall.jpg": "photo"},
        {PHOTO: "photo", "wp-content/plugins/akismet/akismet.php": b"<?php evil();"},
    ],
)
def test_the_zip_may_hold_the_uploads_folder_its_contents_or_all_of_wp_content(
    superuser_client, import_folder, settings, members
):
    photo = camera_photo((600, 400))
    media = {name: photo if data == "photo" else data for name, data in members.items()}
    checked = check(superuser_client, media=SimpleUploadedFile("u.zip", zip_of(media)))
    assert "Media files: 1 pictures imported" in checked.content.decode()
    work = next(import_folder.glob("import-*"))
    assert not list(work.rglob("*.php"))  # plugins are not unpacked


def big_zeros():
    return b"\0" * (10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("members", "symlinks", "reason"),
    [
        ({"../../evil.jpg": b"x"}, (), "climbs out"),
        ({"wp-content/uploads/../../../evil.jpg": b"x"}, (), "climbs out"),
        ({"/etc/cron.d/evil": b"x"}, (), "climbs out"),
        ({"C:/Windows/evil.jpg": b"x"}, (), "climbs out"),
        ({"..\\..\\evil.jpg": b"x"}, (), "climbs out"),
        ({PHOTO: b"x"}, ["wp-content/uploads/2011/06/link.jpg"], "symbolic link"),
        ({f"2011/06/{n}.jpg": b"x" for n in range(4)}, (), "at most 3 are accepted"),
        ({"2011/06/zeros.jpg": big_zeros()}, (), "compressed beyond belief"),
    ],
)
def test_a_hostile_zip_is_refused_with_a_reason_and_leaves_nothing(
    superuser_client, import_folder, settings, members, symlinks, reason
):
    settings.WORDPRESS_MEDIA_ZIP_MAX_FILES = 3
    media = SimpleUploadedFile("uploads.zip", zip_of(members, symlinks))
    response = check(superuser_client, media=media)
    assert response.status_code == 200
    errors = response.context["form"].errors["media"]
    assert any(reason in error for error in errors), errors
    assert Post.objects.count() == Image.objects.count() == 0
    assert leftovers(import_folder) == [] and media_files(settings) == []
    assert not (Path("/tmp") / "evil.jpg").exists()


def test_a_zip_larger_than_allowed_is_refused(superuser_client, import_folder, settings):
    settings.WORDPRESS_MEDIA_ZIP_MAX_BYTES = 1000
    media = SimpleUploadedFile("uploads.zip", zip_of({"2011/06/a.jpg": os.urandom(2000)}))
    response = check(superuser_client, media=media)
    assert "at most 1,000 are accepted" in str(response.context["form"].errors["media"])
    assert leftovers(import_folder) == []


def test_a_file_that_is_not_a_zip_is_refused(superuser_client, import_folder):
    media = SimpleUploadedFile("uploads.zip", b"PK\x03\x04 not really")
    response = check(superuser_client, media=media)
    assert "not a zip archive" in str(response.context["form"].errors["media"])
    assert leftovers(import_folder) == []


def test_a_refused_export_removes_the_unpacked_media_too(superuser_client, import_folder):
    token = csrf(superuser_client)
    bad = SimpleUploadedFile("x.xml", b"<rss><channel>", content_type="text/xml")
    media = SimpleUploadedFile("uploads.zip", zip_of({PHOTO: camera_photo((400, 300))}))
    response = superuser_client.post(
        URL, {"export": bad, "media": media, "csrfmiddlewaretoken": token}
    )
    assert "Nothing can be imported" in str(response.context["form"].errors["export"])
    assert leftovers(import_folder) == []


@pytest.fixture
def server_media(settings, tmp_path):
    root = tmp_path / "server-media"
    folder = root / "barnet-uploads" / "2011" / "06"
    folder.mkdir(parents=True)
    (folder / "town-hall.jpg").write_bytes(camera_photo((1200, 800)))
    settings.WORDPRESS_MEDIA_SERVER_ROOT = str(root)
    return root


def test_a_superuser_names_a_folder_on_the_server_instead(
    superuser_client, import_folder, server_media
):
    page = superuser_client.get(URL).content.decode()
    assert 'name="media_folder"' in page and str(server_media) in page
    checked = check(superuser_client, media_folder="barnet-uploads")
    assert "Media files: 1 pictures imported" in checked.content.decode()
    superuser_client.post(
        URL,
        {
            "token": checked.context["token"],
            "csrfmiddlewaretoken": superuser_client.cookies["csrftoken"].value,
        },
    )
    assert Post.objects.get().image is not None
    assert (server_media / "barnet-uploads" / "2011" / "06" / "town-hall.jpg").exists()
    assert leftovers(import_folder) == []


@pytest.mark.parametrize("name", ["..", "../..", "/etc", "barnet-uploads/../../", "missing"])
def test_a_server_folder_outside_the_allowed_one_is_a_form_error(
    superuser_client, import_folder, server_media, name
):
    response = check(superuser_client, media_folder=name)
    assert "That folder cannot be used" in str(response.context["form"].errors["media_folder"])
    assert Post.objects.count() == 0 and leftovers(import_folder) == []


def test_no_server_folder_is_offered_unless_one_is_set(superuser_client, settings):
    settings.WORDPRESS_MEDIA_SERVER_ROOT = ""
    assert 'name="media_folder"' not in superuser_client.get(URL).content.decode()
    response = check(superuser_client, media_folder="/etc")
    assert response.context["token"]  # the field is ignored, not used
    assert "no --media-dir" in response.content.decode()


def test_a_zip_and_a_folder_together_are_a_form_error(
    superuser_client, import_folder, server_media
):
    media = SimpleUploadedFile("uploads.zip", zip_of({PHOTO: b"x"}))
    response = check(superuser_client, media=media, media_folder="barnet-uploads")
    assert "not both" in str(response.context["form"].non_field_errors())
    assert leftovers(import_folder) == []
