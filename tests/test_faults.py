"""Faults, handled (issue 9): the database down, Redis down, the disk full.

The database failing is produced two ways. Here, in-process and on both databases, Django's own
`execute_wrapper` hook makes every SQL statement fail as a dropped connection does (the
driver's error, as Django raises it); `tests/test_fault_postgres.py` stops a real PostgreSQL
cluster of its own. Redis down is a real Redis client talking to a port nothing listens on (or
a private redis-server, paused). The full disk is a storage that raises ENOSPC, as a full
filesystem does.
"""

import contextlib
import errno
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from core import pagecache, ratelimit
from core.faults import is_database_unavailable
from posts.forms import DISK_FULL
from posts.models import Attachment, Image
from tests.factories import AuthorFactory, PostFactory, image_bytes

pytestmark = pytest.mark.django_db


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dropped_connection(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@contextlib.contextmanager
def database_down():
    """Every statement fails as it does when PostgreSQL has gone away mid-connection."""
    with connection.execute_wrapper(dropped_connection):
        yield


def assert_the_503_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "The blog will be back shortly" in page
    assert 'class="site-header"' in page  # the site's design, not a bare error
    assert "Traceback" not in page and "OperationalError" not in page
    assert "server closed the connection" not in page


# --- The database down ---------------------------------------------------------------------


def test_a_reader_gets_the_503_page_when_the_database_is_down(client):
    post = PostFactory()
    with database_down():
        assert_the_503_page(client.get("/"))
        assert_the_503_page(client.get(post.get_absolute_url()))
    # …and the site answers again as soon as the database does.
    assert client.get(post.get_absolute_url()).status_code == 200


def test_signed_in_staff_get_the_503_page_too_even_when_a_middleware_fails(admin_user):
    """The session and the user are read by middleware, outside any view: handler500 turns
    the same error into the same page."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    with database_down():
        assert_the_503_page(client.get("/"))
        assert_the_503_page(client.get(reverse("admin:index")))
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_comment_sent_while_the_database_is_down_gets_the_503_page(client, comment_settings):
    from tests.factories import comment_form_data

    post = PostFactory()
    data = comment_form_data(post)
    with database_down():
        response = client.post(reverse("comments:post", args=[post.pk]), data)
    assert_the_503_page(response)


def test_other_database_errors_stay_errors():
    """A bug (a bad query, a broken constraint) is not "the database is down"."""
    from django.db import IntegrityError, ProgrammingError

    assert is_database_unavailable(OperationalError("connection refused"))
    assert not is_database_unavailable(IntegrityError("duplicate key"))
    assert not is_database_unavailable(ProgrammingError("syntax error"))
    assert not is_database_unavailable(ValueError("nope"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement_timeout")
def test_postgresql_cancels_a_statement_past_the_timeout(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
        # The same cancellation, sooner: one slow query cannot pin a worker.
        cursor.execute("SET LOCAL statement_timeout = '100ms'")
        began = time.monotonic()
        with pytest.raises(OperationalError) as cancelled:
            cursor.execute("SELECT pg_sleep(5)")
    assert time.monotonic() - began < 2
    assert is_database_unavailable(cancelled.value)


def test_the_connection_options_fail_fast(settings):
    if connection.vendor == "postgresql":
        options = connection.settings_dict["OPTIONS"]
        assert options["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT
        assert (
            f"statement_timeout={settings.DATABASE_STATEMENT_TIMEOUT * 1000}"
            in (options["options"])
        )
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


# --- /readyz -------------------------------------------------------------------------------


def test_readyz_is_200_when_the_database_and_caches_answer(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "database": "ok",
        "cache:default": "ok",
        "cache:pages": "ok",
    }
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_when_the_database_is_down(client):
    with database_down():
        response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["ready"] is False
    assert "server closed" not in response.content.decode()


def redis_options():
    """The options settings.py gives Redis caches (when REDIS_URL is set)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_connect_timeout": 0.25, "socket_timeout": 0.5, "retry": Retry(NoBackoff(), 1)}


def dead_redis():
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "OPTIONS": redis_options(),
    }


def test_readyz_is_503_and_names_no_address_when_a_cache_is_down(client, settings):
    settings.CACHES = {**settings.CACHES, "default": dead_redis()}
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["cache:default"] == "unavailable" and body["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()
    assert "redis" not in response.content.decode().lower()


def test_readyz_refuses_posts(client):
    assert client.post(reverse("readyz")).status_code == 405


# --- Redis down ----------------------------------------------------------------------------


def test_pages_are_made_from_the_database_while_the_page_cache_is_down(client, page_cache):
    page_cache.CACHES = {**page_cache.CACHES, "pages": dead_redis()}
    post = PostFactory(title="Library hours")
    began = time.monotonic()
    for _ in range(3):
        response = client.get(post.get_absolute_url())
        assert response.status_code == 200
        assert "Library hours" in response.content.decode()
        assert "X-Page-Cache" not in response
        assert "private" in response["Cache-Control"]
    assert time.monotonic() - began < 1.5  # refused at once, never a hang or a backoff


def test_rate_limits_count_in_each_process_while_the_shared_cache_is_down(settings):
    settings.CACHES = {**settings.CACHES, "default": dead_redis()}
    ratelimit._local.clear()
    key = f"203.0.113.{free_port() % 250}"
    assert [ratelimit.over_limit("test", key, limit=2) for _ in range(4)] == [
        False,
        False,
        True,
        True,
    ]


def test_a_resident_can_still_comment_while_redis_is_down(client, settings):
    from django.core import mail

    from comments.models import Comment
    from tests.factories import send_comment

    settings.CACHES = {**settings.CACHES, "default": dead_redis()}
    settings.COMMENTS_MIN_SECONDS_TO_WRITE = 0
    ratelimit._local.clear()
    post = PostFactory()
    response = send_comment(client, post, ip="198.51.100.7")
    assert response.status_code == 302
    # Stored, or waiting for its email address to be confirmed: either way, accepted.
    assert Comment.objects.filter(object_pk=str(post.pk)).exists() or len(mail.outbox) == 1


@pytest.fixture
def private_redis():
    """A redis-server of this test's own on a free port, shut down afterwards."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
         "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        for _ in range(50):
            ping = subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        yield port
    finally:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True)


def test_an_invalidation_lost_to_a_redis_blip_is_made_up_once_it_is_back(
    page_cache, private_redis, django_capture_on_commit_callbacks
):
    """Redis pausing (a blip, not a restart: the old pages are still there) while a post is
    changed: the change cannot start a new generation then, and must not be forgotten, or the
    old page would be served until it expires."""
    page_cache.CACHES = {
        **page_cache.CACHES,
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{private_redis}/0",
            "KEY_PREFIX": "pages",
            "OPTIONS": redis_options(),
        },
    }
    pagecache._last_seen.clear()
    client = Client()
    post = PostFactory(title="Bins collected on Monday")
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "miss"
    assert client.get(post.get_absolute_url())["X-Page-Cache"] == "hit"

    subprocess.run(
        ["redis-cli", "-p", str(private_redis), "client", "pause", "1500", "write"], check=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Bins collected on Tuesday"
        post.save()
    assert pagecache._pending_invalidation  # the new generation could not be written
    time.sleep(1.6)  # Redis is back, with the old generation and its pages

    page = client.get(post.get_absolute_url())
    assert "Bins collected on Tuesday" in page.content.decode()
    assert not pagecache._pending_invalidation
    caches["pages"].clear()


# --- The disk full -------------------------------------------------------------------------


class FullDiskStorage(FileSystemStorage):
    """A filesystem with no space left: every write fails as the kernel says so."""

    def _save(self, name, content):
        raise OSError(errno.ENOSPC, "No space left on device", name)


@pytest.fixture
def full_disk(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.test_faults.FullDiskStorage"},
    }


def test_a_picture_uploaded_to_a_full_disk_is_a_form_error(admin_client, full_disk):
    upload = SimpleUploadedFile("hall.jpg", image_bytes(), content_type="image/jpeg")
    response = admin_client.post(
        reverse("admin:posts_image_add"),
        {"title": "Town hall", "alt_text": "The town hall in the sun", "file": upload},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["file"] == [DISK_FULL]
    assert "no room on the server" in response.content.decode()
    # What the writer typed is still in the form.
    assert 'value="The town hall in the sun"' in response.content.decode()
    assert not Image.objects.exists()


def test_a_document_attached_on_a_full_disk_is_a_form_error_and_the_post_is_unchanged(
    admin_client, full_disk
):
    from tests.test_admin import PDF_BYTES, attachment_data, inline_errors

    post = PostFactory(author=AuthorFactory(), title="Budget")
    pdf = SimpleUploadedFile("budget.pdf", PDF_BYTES, content_type="application/pdf")
    data = attachment_data(post.author, post, [("Budget report", pdf)])
    data["title"] = "Budget, revised"
    response = admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), data)
    assert response.status_code == 200
    (errors,) = inline_errors(response)
    assert errors["file"] == [DISK_FULL]
    assert not Attachment.objects.exists()
    post.refresh_from_db()
    assert post.title == "Budget"  # nothing half-saved


def test_a_picture_is_stored_once_when_the_disk_has_room(admin_client):
    upload = SimpleUploadedFile("hall.jpg", image_bytes(), content_type="image/jpeg")
    response = admin_client.post(
        reverse("admin:posts_image_add"),
        {"title": "Town hall", "alt_text": "The town hall", "file": upload},
    )
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.file.name.startswith(f"images/{image.key}/original")
    assert image.file.storage.exists(image.file.name)
    assert all(image.file.storage.exists(r["name"]) for r in image.renditions)
