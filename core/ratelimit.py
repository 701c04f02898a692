"""A fixed-window rate limit in the cache, shared by every worker when the cache is Redis."""

from django.core.cache import cache
from django.utils import timezone


def over_limit(scope, key, limit, window=60):
    """Count one more action by `key` in `scope`; True when that goes past `limit` per
    `window` seconds (the action should then be refused)."""
    bucket = int(timezone.now().timestamp() // window)
    name = f"ratelimit:{scope}:{key}:{bucket}"
    cache.add(name, 0, window + 30)
    try:
        count = cache.incr(name)
    except ValueError:  # the entry expired between add() and incr()
        cache.add(name, 1, window + 30)
        count = 1
    return count > limit
