import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a throw-away folder, never the developer's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _page_cache_off(settings, tmp_path):
    """Most tests write inside a transaction that is rolled back, where no invalidation
    (an on-commit hook) ever runs: they see pages made afresh. The page cache's own tests
    (test_page_cache.py) turn it on with `page_cache`, in a folder of their own."""
    settings.PAGE_CACHE_ENABLED = False
    settings.PAGE_CACHE_DATA = False
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "core.cache.FileBasedCache",  # the embedded default's own
            "LOCATION": str(tmp_path / "page-cache"),
        },
    }


@pytest.fixture
def page_cache(settings):
    """The page cache on, as in production (its folder is this test's own)."""
    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_DATA = True
    return settings


@pytest.fixture(autouse=True)
def _mail_queue_at_once(settings):
    """Email goes through the queue, as in production, and is delivered straight away into
    Django's test outbox (`mail.outbox`); test_mail_queue.py tests the worker itself."""
    settings.EMAIL_BACKEND = "core.mailqueue.QueueBackend"
    settings.MAILER_EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MAIL_QUEUE_SEND_AT_ONCE = True


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Accounts made by the factories hash their passwords quickly: the suite makes hundreds,
    and the default hasher spends about a third of a second on each by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def author_user(db):
    """A councillor in the Authors group, as the admin sees them."""
    from django.contrib.auth.models import Group

    from tests.factories import AuthorFactory

    author = AuthorFactory(
        display_name="Robert Rams", slug="robert-rams", user__username="robertrams"
    )
    author.user.groups.add(Group.objects.get(name="Authors"))
    return author.user


@pytest.fixture
def comment_settings(settings):
    """For tests that post comments: rate limits start from nothing (they live in the cache,
    which outlives a test's database) and the minimum writing time, tested on its own, is off."""
    from django.core.cache import cache

    cache.clear()
    settings.COMMENTS_MIN_SECONDS_TO_WRITE = 0
    yield settings
    cache.clear()
