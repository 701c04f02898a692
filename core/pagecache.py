"""A full-page cache for anonymous readers, with exact invalidation.

The day a post goes viral, nearly every reader is anonymous and reads the same few pages. They
all get the same bytes for a URL, rendered once and kept (compressed) in the `pages` cache:
Redis in production, a folder on disk by default, shared by every worker either way.

Invalidation is by generation rather than by key. Every cached page is stored under the
current *generation*, a random token kept in the same cache. Any write a reader could see
(the apps connect their models' signals to `invalidate()`) replaces the token once the
transaction commits, so the next request of every URL renders fresh, on every worker and app
server, and old entries are simply never read again (they expire on their own).

Time-based changes need no write: each generation carries a deadline, the next moment at
which a page would change by itself (a scheduled post's publication time, a discussion
closing after N days). The apps register functions that name it (`register_deadline`); a
request after the deadline starts a new generation, and no entry outlives it.

Readers with something of their own on the page (signed in, a comment awaiting moderation,
"remember me", a like) carry one of the cookies in `PAGE_CACHE_PERSONAL_COOKIES`: they get a
fresh page, marked private. So do previews, staff, POSTs and anything setting a cookie.
If the cache cannot be reached, pages are rendered from the database as if there were none.
"""

import gzip
import hashlib
import logging
import secrets
import time

import brotli
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

log = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
_deadline_functions = []


def register_deadline(function):
    """Register `function()`, returning the next aware datetime at which a page changes by
    itself (or None). Called by the apps in `AppConfig.ready()`."""
    if function not in _deadline_functions:
        _deadline_functions.append(function)
    return function


def page_cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def invalidate(**kwargs):
    """Start a new generation once the current transaction commits (now, outside one).

    Connected to the signals of every model whose rows a public page shows; takes a signal's
    keyword arguments and ignores them.
    """
    transaction.on_commit(new_generation)


def new_generation():
    """A fresh token, valid until the next time-based change; returns it (None if the cache
    cannot be reached: then nothing is served from it until it can)."""
    token = secrets.token_hex(8)
    until = _next_deadline()
    try:
        page_cache().set(GENERATION_KEY, (token, until), timeout=None)
    except Exception:
        # A write that could not invalidate must not be forgotten: the cache may come back
        # with the old generation (a network blip rather than a restart). This process starts
        # a new one before it next reads the cache.
        _pending_invalidation["since"] = time.time()
        log.warning("Page cache unreachable: could not start a new generation", exc_info=True)
        return None
    _pending_invalidation.clear()
    return token, until


# Set while an invalidation this process owes the cache is outstanding (see new_generation).
_pending_invalidation = {}


def current_generation():
    """(token, deadline as a timestamp or None) of the pages that may be served now."""
    generation = page_cache().get(GENERATION_KEY)
    if generation is None or not _still_valid(generation):
        generation = new_generation()
    return generation


def read_current(key_for):
    """(current generation, the value stored under `key_for(its token)`, or None).

    One round trip to the cache when the generation is the one this process saw last (nearly
    always): the generation and the key it would name are read together, so a value is only
    used while its generation is still the current one. (None, None) if no generation can be
    had.
    """
    if _pending_invalidation and new_generation() is None:
        return None, None
    guess = _last_seen.get("token")
    if guess is not None:
        key = key_for(guess)
        found = page_cache().get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        if generation is not None and generation[0] == guess and _still_valid(generation):
            return generation, found.get(key)
    generation = current_generation()
    if generation is None:
        return None, None
    _last_seen["token"] = generation[0]
    return generation, page_cache().get(key_for(generation[0]))


def _still_valid(generation):
    return generation[1] is None or generation[1] > time.time()


# The generation this process last served under: a guess that saves a round trip, checked
# against the cache on every request (never trusted on its own).
_last_seen = {}


def cached(name, build):
    """`build()`'s result, kept for the current generation (so invalidated exactly like the
    pages): for data that cold renders share, such as the sidebar's."""
    if not settings.PAGE_CACHE_DATA:
        return build()

    def key_for(token):
        return f"data:{token}:{name}"

    try:
        generation, value = read_current(key_for)
    except Exception:
        log.warning("Page cache unreachable: building %s afresh", name, exc_info=True)
        return build()
    if value is None:
        value = build()
        if generation is not None:
            try:
                page_cache().set(key_for(generation[0]), value, timeout=_timeout(generation))
            except Exception:
                log.warning("Page cache unreachable: could not keep %s", name, exc_info=True)
    return value


def _timeout(generation):
    timeout = settings.PAGE_CACHE_TIMEOUT
    if generation[1] is not None:
        timeout = max(1, min(timeout, int(generation[1] - time.time())))
    return timeout


def _next_deadline():
    moments = [moment for function in _deadline_functions if (moment := function()) is not None]
    return min(moments).timestamp() if moments else None


def is_personal(request):
    """Whether this request may see something only its reader sees."""
    return any(name in request.COOKIES for name in settings.PAGE_CACHE_PERSONAL_COOKIES)


class PageCacheMiddleware:
    """Serve anonymous GET and HEAD requests of public pages from the page cache.

    Placed after the security, CSP and static-file middleware (their headers go on every
    response) and before sessions, so a hit touches neither sessions nor the database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self.may_serve_cached(request):
            response = self.get_response(request)
            if request.method in ("GET", "HEAD"):
                mark_private(response)
            return response
        encoding = accepted_encoding(request)
        try:
            generation, entry = read_current(lambda token: entry_key(token, request, encoding))
        except Exception:
            log.warning("Page cache unreachable: serving from the database", exc_info=True)
            return mark_private(self.get_response(request))
        if generation is None:
            return mark_private(self.get_response(request))
        if entry is not None:
            return self.respond(request, entry, generation, hit=True)

        response = self.get_response(request)
        if not storable(response):
            return mark_private(response)
        entries = make_entries(response)
        try:
            page_cache().set_many(
                {entry_key(generation[0], request, e): value for e, value in entries.items()},
                timeout=_timeout(generation),
            )
        except Exception:
            log.warning("Page cache unreachable: could not store %s", request.path, exc_info=True)
        return self.respond(request, entries[encoding], generation, hit=False)

    def may_serve_cached(self, request):
        if not settings.PAGE_CACHE_ENABLED or request.method not in ("GET", "HEAD"):
            return False
        if is_personal(request) or request.path.startswith(settings.PAGE_CACHE_NEVER):
            return False
        request.get_host()  # a Host the site does not serve is a 400, cached page or not
        # A query string the site does not use is an uncached page, not a new cache entry:
        # random parameters must not fill the cache.
        return set(request.GET) <= settings.PAGE_CACHE_QUERY_PARAMETERS

    def respond(self, request, entry, generation, hit):
        status, headers, body = entry
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response.headers[name] = value
        max_age = settings.PAGE_CACHE_MAX_AGE
        if generation[1] is not None:
            max_age = max(0, min(max_age, int(generation[1] - time.time())))
        response.headers["Cache-Control"] = (
            f"public, max-age={max_age}, stale-while-revalidate={settings.PAGE_CACHE_STALE}"
        )
        response.headers["X-Page-Cache"] = "hit" if hit else "miss"
        return get_conditional_response(
            request,
            etag=response.headers.get("ETag"),
            last_modified=_parse_http_date(response.headers.get("Last-Modified")),
            response=response,
        )


def _parse_http_date(value):
    return parse_http_date_safe(value) if value else None


def storable(response):
    """A complete, public, cookie-free success that every anonymous reader may share."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if response.has_header("Content-Encoding"):
        return False
    cache_control = response.headers.get("Cache-Control", "").lower()
    if any(word in cache_control for word in ("private", "no-cache", "no-store")):
        return False
    vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    return vary <= {"cookie", "accept-encoding"}


def make_entries(response):
    """The stored forms of a response: (status, headers, body) per content encoding."""
    body = response.content
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in ("cache-control", "content-length", "vary", "x-page-cache")
    }
    # Weak: the same validator names the plain and the compressed bytes.
    etag = headers.get("ETag") or f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers["ETag"] = etag if etag.startswith("W/") else f"W/{etag}"
    headers.setdefault("Last-Modified", http_date())
    headers["Vary"] = "Cookie, Accept-Encoding"
    entries = {"identity": (response.status_code, list(headers.items()), body)}
    for encoding, compress in _COMPRESSORS.items():
        compressed = compress(body)
        entries[encoding] = (
            response.status_code,
            [*headers.items(), ("Content-Encoding", encoding)],
            compressed,
        )
    return entries


def _gzip(body):
    return gzip.compress(body, compresslevel=6, mtime=0)


def _brotli(body):
    return brotli.compress(body, quality=5)  # quality 5: about gzip's speed, smaller output


_COMPRESSORS = {"gzip": _gzip, "br": _brotli}


def accepted_encoding(request):
    """The best stored encoding the client accepts: br, gzip, or none."""
    accepted = set()
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.partition(";")
        quality = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    for encoding in ("br", "gzip"):
        if encoding in accepted and encoding in _COMPRESSORS:
            return encoding
    return "identity"


def entry_key(token, request, encoding):
    """HEAD and GET share entries; http and https do not (pages may name their scheme)."""
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:40]
    return f"page:{token}:{request.scheme}:{path}:{encoding}"


def mark_private(response):
    """A page made for one reader (or one that sets a cookie) is never kept by a proxy."""
    if "Cache-Control" not in response.headers or response.cookies:
        existing = response.headers.get("Cache-Control", "")
        if "no-store" not in existing:
            response.headers["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie"])
    return response
