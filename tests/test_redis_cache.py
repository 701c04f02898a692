"""The Redis cache backend (core/cache.py) against the real Redis on loopback: it behaves as
Django's, and makes its redis-py client once rather than on every call."""

import pytest
from django.core.cache import caches

REDIS = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "redis_test": {"BACKEND": "core.cache.RedisCache", "LOCATION": REDIS, "KEY_PREFIX": "t"},
    }
    cache = caches["redis_test"]
    cache.clear()
    yield cache
    cache.clear()


def test_it_keeps_reads_and_forgets_values_like_djangos_backend(redis_cache):
    redis_cache.set("generation", ("abc", None), timeout=None)
    redis_cache.set_many({"page:1": b"\x1f\x8b bytes", "page:2": {"html": "<p>é</p>"}})
    assert redis_cache.get_many(["generation", "page:1", "page:2", "missing"]) == {
        "generation": ("abc", None),
        "page:1": b"\x1f\x8b bytes",
        "page:2": {"html": "<p>é</p>"},
    }
    assert redis_cache.incr(redis_cache.add("count", 1) and "count") == 2
    redis_cache.delete("page:1")
    assert redis_cache.get("page:1") is None


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client("a")
    redis_cache.get("a")
    redis_cache.set("b", 1)
    assert redis_cache._cache.get_client("b") is client
