"""Hostile input, everywhere a visitor controls something: a clear 4xx or a form error, never
a 500 and never a partial row. A new URL parameter, form field or cookie joins these tables.

(The rest of issue 9's hostile-input list — oversized bodies, tampered form hashes and
timestamps, expired tokens — is covered in test_comment_hazards.py and test_comments.py.)
"""

import json

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse

from comments import data_rights
from comments.models import Comment, DataLink, PostLike
from comments.views import OWN_COMMENTS_COOKIE, REMEMBER_COOKIE, VISITOR_COOKIE
from tests.factories import CommentFactory, PostFactory, UserFactory, comment_form_data, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("comment_settings")]

RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"


@pytest.fixture
def post():
    return PostFactory(title="Parking charges")


# --- URL parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/?page=0",
        "/?page=-1",
        "/?page=99999999999999999999999999",
        "/?page=%00",
        "/?page=1e3",
        "/?page=%C2%B2",  # "²": str.isdigit() says yes, int() says no
        "/search/?q=%00",
        "/search/?q=" + "x" * 5000,
        "/search/?q=%ED%A0%80",  # a lone surrogate, percent-encoded
        "/search/?q=a&page=abc",
        "/2011/02/30/",
        "/2011/13/01/",
        "/0000/01/01/",
        "/9999/12/31/any/",
        "/9999/12/31/any/feed/",
        "/comments/99999999999999999999999999999/",
        "/comments/reply/99999999999999999999999999999/",
        "/preview/99999999999999999999999999999/",
        "/comments/confirm/not-a-token/",
        "/comments/unsubscribe/not-a-token/",
        "/comments/your-data/open/not-a-token/",
        "/comments/your-data/open/" + "x" * 5000 + "/",
        "/comments/your-data/open/%00/",
        "/comments/your-data/comments/",
        "/comments/your-data/comments.json",
        "/comments/your-data/comments.csv",
        "/comments/your-data/comments/?done=%00",
        "/category/%E2%80%AE/",
        "/corrections/?page=abc",
        "/corrections/?page=0",
        "/corrections/?page=99999999999999999999999999",
        "/corrections/?page=%C2%B2",
        "/corrections/feed/?page=%00",
        "/corrections/feed/atom/?q=%ED%A0%80",
        "/pre-election-period/?page=%00",
    ],
)
def test_odd_urls_get_a_page_not_an_error(client, post, path):
    response = client.get(path)
    assert 200 <= response.status_code < 500


@pytest.mark.parametrize("cpage", ["0", "-3", "abc", "9" * 30, "%00"])
def test_odd_comment_page_numbers_fall_back_to_the_first_page(client, post, cpage):
    CommentFactory(post=post, comment="Still shown.")
    response = client.get(post.get_absolute_url(), {"cpage": cpage})
    assert response.status_code == 200
    assert "Still shown." in text(response)


@pytest.mark.parametrize("reply", ["abc", "9" * 30, "-1", "²"])
def test_odd_reply_to_parameters_are_ignored(client, post, reply):
    assert client.get(post.get_absolute_url(), {"replytocom": reply}).status_code == 200


def test_a_host_the_site_does_not_serve_is_a_400(client, post):
    assert client.get(post.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400


# --- Form fields ---------------------------------------------------------------------------

HOSTILE_FIELDS = [
    ({"name": f"Jane {RLO}tnedisereR"}, "name"),
    ({"name": f"{LRI}Admin{PDI}"}, "name"),
    ({"name": "Jane\x07Bell"}, "name"),
    ({"name": "Jane\x00"}, "name"),
    ({"name": "J" * 51}, "name"),
    ({"email": f"jane{RLO}@example.org"}, "email"),
    ({"email": "not an email"}, "email"),
    ({"url": f"https://example.org/{RLO}"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"comment": f"The price is {RLO}0001£"}, "comment"),
    ({"comment": "Tab\tand\x1bescape"}, "comment"),
    ({"comment": "\x00"}, "comment"),
    ({"comment": "x" * 3001}, "comment"),
    ({"comment": ""}, "comment"),
    ({"reply_to": "abc"}, "reply_to"),
    ({"reply_to": "9" * 30}, "reply_to"),
    ({"followup": "maybe"}, None),  # a checkbox: any value is "on"; not an error
]


@pytest.mark.parametrize(("fields", "field"), HOSTILE_FIELDS)
def test_hostile_comment_fields_get_a_form_error_and_store_nothing(client, post, fields, field):
    response = client.post(
        reverse("comments:post", args=[post.pk]), comment_form_data(post, **fields)
    )
    if field is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Comment.objects.count() == 0


def test_a_name_with_a_direction_override_is_explained(client, post):
    response = client.post(
        reverse("comments:post", args=[post.pk]),
        comment_form_data(post, name=f"Jane {RLO}tnedisereR"),
    )
    assert "invisible control or text-direction characters" in text(response)


def test_ordinary_right_to_left_names_and_emoji_are_welcome(client, post):
    response = client.post(
        reverse("comments:post", args=[post.pk]),
        comment_form_data(post, name="مريم حداد 👩‍👧", comment="שלום — a fine decision."),
    )
    assert response.status_code == 302
    assert Comment.objects.get().user_name == "مريم حداد 👩‍👧"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"content_type": "auth.user"},
        {"object_pk": "99999999999999999999999"},
        {"timestamp": "not-a-number"},
        {"timestamp": "9" * 40},
        {"security_hash": "0" * 40},
        {"honeypot": "I am a bot"},
    ],
)
def test_tampered_or_missing_signed_fields_are_form_errors(client, post, data):
    form = {**comment_form_data(post), **data} if data else {"comment": "Only this."}
    response = client.post(reverse("comments:post", args=[post.pk]), form)
    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_a_comment_on_a_post_that_does_not_exist_is_a_404(client):
    assert client.post(reverse("comments:post", args=[999999]), {}).status_code == 404


# --- Cookies -------------------------------------------------------------------------------


def signed(name, value):
    return signing.get_cookie_signer(salt=name).sign(value)


@pytest.mark.parametrize(
    ("cookie", "value"),
    [
        (OWN_COMMENTS_COOKIE, "9" * 30),
        (OWN_COMMENTS_COOKIE, "²,³"),  # isdigit(), but not ids (cookies arrive as Latin-1)
        (OWN_COMMENTS_COOKIE, ",,,"),
        (OWN_COMMENTS_COOKIE, "1," * 10000),
        (REMEMBER_COOKIE, json.dumps(["Jane", "jane@example.org"])),
        (REMEMBER_COOKIE, json.dumps("just a string")),
        (REMEMBER_COOKIE, json.dumps({"name": ["a list"], "email": 5})),
        (REMEMBER_COOKIE, json.dumps({"name": "x" * 10000})),
        (REMEMBER_COOKIE, "{not json"),
        (VISITOR_COOKIE, "x" * 500),
        (VISITOR_COOKIE, "short"),
        (VISITOR_COOKIE, "ÿ" * 32),
    ],
)
def test_a_signed_cookie_of_an_unexpected_shape_changes_nothing(post, cookie, value):
    reader = Client()
    reader.cookies[cookie] = signed(cookie, value)
    response = reader.get(post.get_absolute_url())
    assert response.status_code == 200
    like = reader.post(reverse("comments:like", args=[post.pk]))
    assert like.status_code == 302
    assert PostLike.objects.count() == 1
    assert all(len(like.visitor) <= 64 for like in PostLike.objects.all())


@pytest.mark.parametrize("cookie", [OWN_COMMENTS_COOKIE, REMEMBER_COOKIE, VISITOR_COOKIE])
def test_an_unsigned_or_forged_cookie_is_ignored(post, cookie):
    reader = Client()
    reader.cookies[cookie] = "1,2,3"
    assert reader.get(post.get_absolute_url()).status_code == 200


# --- Admin ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["admin:comments_comment_change", "admin:comments_comment_reply"])
@pytest.mark.parametrize("object_id", ["9" * 30, "abc", "-1", "١٢"])
def test_impossible_ids_on_admin_comment_pages_are_not_found(admin_client, name, object_id):
    response = admin_client.get(reverse(name, args=[object_id]))
    assert response.status_code in (302, 404)


def test_the_setting_lists_every_cookie_that_makes_a_page_personal():
    for cookie in (OWN_COMMENTS_COOKIE, REMEMBER_COOKIE, VISITOR_COOKIE):
        assert cookie in settings.PAGE_CACHE_PERSONAL_COOKIES
    assert settings.SESSION_COOKIE_NAME in settings.PAGE_CACHE_PERSONAL_COOKIES


def test_a_signed_in_users_comment_with_a_direction_override_is_refused(client, post):
    client.force_login(UserFactory(first_name=f"Evil{RLO}"))
    response = client.post(
        reverse("comments:post", args=[post.pk]),
        comment_form_data(post, comment=f"Hello {RLO}dlrow"),
    )
    assert response.status_code == 400
    assert Comment.objects.count() == 0


# --- "Your comments and your data" (comments/data_rights.py) -------------------------------


@pytest.mark.parametrize(
    "email",
    [
        f"jane{RLO}@example.org",
        "jane\x00@example.org",
        "not an email",
        "",
        "j" * 250 + "@example.org",
        f"{LRI}jane@example.org{PDI}",
        "jane@example.org\r\nBcc: everyone@example.org",
    ],
)
def test_hostile_addresses_for_a_data_link_get_a_form_error_and_store_nothing(client, email):
    response = client.post(reverse("comments:your-data-send"), {"email": email})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert DataLink.objects.count() == 0


def test_a_data_link_request_with_a_list_of_addresses_is_one_address_or_an_error(client):
    response = client.post(
        reverse("comments:your-data-send"), {"email": ["a@example.org", "b@example.org"]}
    )
    assert response.status_code in (200, 400)
    assert DataLink.objects.count() <= 1


def data_session(client, email="jane@example.org"):
    """A browser holding an opened "your data" session for `email`."""
    secret = "s" * 32
    link = DataLink.objects.create(email=email, secret_hash=data_rights._hash(secret))
    token = signing.dumps({"l": link.pk, "s": secret}, salt=data_rights.LINK_SALT)
    client.cookies[data_rights.SESSION_COOKIE] = signed(
        data_rights.SESSION_COOKIE, data_rights.open_link(token)
    )
    return client


@pytest.mark.parametrize("which", ["abc", "9" * 30, "²", "-1", "", "١٢", "all\x00", "1.5"])
def test_hostile_comment_choices_on_the_delete_form_delete_nothing(client, which):
    mine = CommentFactory(user_email="jane@example.org")
    data_session(client)
    response = client.post(
        reverse("comments:your-data-delete"), {"comment": which, "confirm": "yes"}
    )
    assert 400 <= response.status_code < 500
    assert Comment.objects.filter(pk=mine.pk, user_email="jane@example.org").exists()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * 5000,
        signing.dumps(["l", 1], salt=data_rights.SESSION_SALT),
        signing.dumps({"l": "1", "s": "x"}, salt=data_rights.SESSION_SALT),
        signing.dumps({"l": 1, "s": 5}, salt=data_rights.SESSION_SALT),
        signing.dumps({"l": 1, "s": "x"}, salt=data_rights.LINK_SALT),  # a link, not a session
    ],
)
def test_a_data_session_cookie_of_an_unexpected_shape_opens_nothing(client, value):
    CommentFactory(user_email="jane@example.org")
    data_session(Client())  # someone else's session exists
    client.cookies[data_rights.SESSION_COOKIE] = signed(data_rights.SESSION_COOKIE, value)
    for name in ("comments:your-data-comments", "comments:your-data-json"):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("comments:your-data-delete"), {"comment": "all"}).status_code == 403


# --- Headers and bodies (issue 9) ----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "127.0.0.1:abc",
        "127.0.0.1@evil.example",
        "local host",
        "xn--80ak6aa92e.com",
        "a" * 300,
        "localhost\r\nX-Injected: 1",
        "",
    ],
)
@pytest.mark.parametrize("path", ["/", "/readyz", "/admin/login/"])
def test_a_bad_host_header_is_a_400_everywhere(post, host, path):
    client = Client(raise_request_exception=False)
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == 400, (host, path, response.status_code)
    assert host.encode() not in response.content or not host


def test_an_oversized_comment_body_is_a_400_and_stores_nothing(client, post):
    too_big = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    data = comment_form_data(post, comment="x" * too_big)
    client.raise_request_exception = False
    response = client.post(reverse("comments:post", args=[post.pk]), data)
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_an_oversized_sign_in_body_is_a_400(client):
    client.raise_request_exception = False
    response = client.post(
        "/admin/login/",
        {"username": "robertrams", "password": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


HOSTILE_SIGN_IN = [
    {"username": "robert\x00rams"},
    {"username": "r" * 5000},
    {"username": f"robert{RLO}rams"},
    {"password": "\x00"},
    {"password": "p" * 100_000},
    {"otp_token": "abc"},
    {"otp_token": "9" * 30},
    {"otp_token": "\x00"},
    {"otp_device": "not-a-device"},
    {"otp_device": "otp_totp.totpdevice/99999999999999999999999999"},
    {"otp_challenge": "1"},
    {"username": ["a", "b"]},
]


@pytest.mark.parametrize("fields", HOSTILE_SIGN_IN)
def test_hostile_sign_in_fields_get_a_form_error_not_a_session(fields):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = UserFactory(username="robertrams", is_staff=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    data = {"username": "robertrams", "password": "correct horse battery staple", **fields}
    client = Client(raise_request_exception=False)
    response = client.post("/admin/login/", data, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 200, fields
    assert "errornote" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- The admin's WordPress import and body preview ------------------------------------------


def _zip(name, data=b"x"):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"export": b""}, "export"),
        ({"export": b"not xml at all"}, "export"),
        ({"export": b"<?xml version='1.0'?><rss><channel><item>"}, "export"),
        ({"export": "<rss>\u202e</rss>".encode("utf-16")}, "export"),
        ({"media": b"not a zip"}, "media"),
        ({"media": _zip("../../etc/passwd")}, "media"),
        ({"media": _zip("C:/boot.ini")}, "media"),
        ({"media_folder": "\x00"}, "media_folder"),
        ({"media_folder": "../" * 40}, "media_folder"),
        ({"media_folder": "x" * 501}, "media_folder"),
    ],
)
def test_hostile_wordpress_import_fields_get_a_form_error_and_store_nothing(
    admin_client, settings, tmp_path, fields, field
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from posts.models import Post
    from tests.test_wordpress_import import SEED

    settings.WORDPRESS_IMPORT_FOLDER = tmp_path / "waiting"
    settings.WORDPRESS_MEDIA_SERVER_ROOT = str(tmp_path)
    data = {"export": SEED.read_bytes(), **fields}
    form = {
        name: SimpleUploadedFile(f"{name}.bin", value) if isinstance(value, bytes) else value
        for name, value in data.items()
    }
    response = admin_client.post(reverse("admin:wordpress_import"), form)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Post.objects.count() == 0
    assert not any((tmp_path / "waiting").glob("import-*/*"))


@pytest.mark.parametrize("body_format", ["", "HTML", "php", "\x00", "x" * 5000])
def test_odd_body_formats_in_the_editor_preview_are_a_400_or_markdown(admin_client, body_format):
    response = admin_client.post(
        reverse("admin:posts_post_markdown_preview"), {"body": "*hi*", "body_format": body_format}
    )
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["html"] == "<p><em>hi</em></p>"
