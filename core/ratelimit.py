"""A fixed-window rate limit in the cache, shared by every worker when the cache is Redis.

When the shared cache cannot be reached (Redis down), limits fall back to a cache in this
process's memory rather than failing open (every bot unlimited while Redis is down) or closed
(no resident could comment): each worker still enforces the limit on its own, so a client gets
at most the limit times the number of workers, and residents keep commenting.
"""

import logging

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

log = logging.getLogger(__name__)

_local = LocMemCache("ratelimit-fallback", {"MAX_ENTRIES": 10_000})


def over_limit(scope, key, limit, window=60):
    """Count one more action by `key` in `scope`; True when that goes past `limit` per
    `window` seconds (the action should then be refused)."""
    bucket = int(timezone.now().timestamp() // window)
    name = f"ratelimit:{scope}:{key}:{bucket}"
    try:
        count = _count(cache, name, window)
    except Exception:  # the shared cache is unreachable: this worker counts on its own
        log.warning("Rate limits: shared cache unreachable, counting in this process")
        count = _count(_local, name, window)
    return count > limit


def _count(store, name, window):
    store.add(name, 0, window + 30)
    try:
        return store.incr(name)
    except ValueError:  # the entry expired between add() and incr()
        store.add(name, 1, window + 30)
        return 1
