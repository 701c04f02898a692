"""A full-page cache for anonymous readers, with exact invalidation.

The day a post goes viral, nearly every reader is anonymous and reads the same few pages. They
all get the same bytes for a URL, rendered once and kept (compressed) in the `pages` cache:
Redis in production, a folder on disk by default, shared by every worker either way.

Invalidation is by generation rather than by key. Every cached page is stored under the
current *generation*, a random token kept in the same cache. Any write a reader could see
(the apps connect their models' signals to `invalidate()`) replaces the token once the
transaction commits, so the next request of every URL renders fresh, on every worker and app
server, and old entries are simply never read again (they expire on their own).

Two generations, so that a comment does not throw away what comments cannot change. The
*pages* generation names every cached page and the data that shows the discussion (threads,
counts, lists with their "N Responses"); the *content* generation names data that only posts
and the site's settings change (a post with its neighbours, the sidebar, the pre-election
period). `invalidate()` starts both; `invalidate_discussion()`, connected to comments, likes,
reports and reviews, starts only the pages one, so the first render after a comment is
approved rebuilds the discussion and nothing else. The content generation is replaced before
the pages one, so a page rendered in between is made from fresh content anyway.

Time-based changes need no write: each generation carries a deadline, the next moment at
which a page would change by itself (a scheduled post's publication time, a discussion
closing after N days). The apps register functions that name it (`register_deadline`); a
request after the deadline starts a new generation, and no entry outlives it.

Readers with something of their own on the page (signed in, a comment awaiting moderation,
"remember me", a like) carry one of the cookies in `PAGE_CACHE_PERSONAL_COOKIES`: they get a
fresh page, marked private. So do previews, staff, POSTs and anything setting a cookie.
If the cache cannot be reached, pages are rendered from the database as if there were none.
"""

import contextlib
import functools
import gzip
import hashlib
import logging
import pickle
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

import brotli
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

log = logging.getLogger(__name__)

GENERATION_KEY = "pagecache:generation"
CONTENT_KEY = "pagecache:content-generation"
SCOPES = {"pages": GENERATION_KEY, "content": CONTENT_KEY}
_deadline_functions = []


def register_deadline(function):
    """Register `function()`, returning the next aware datetime at which a page changes by
    itself (or None). Called by the apps in `AppConfig.ready()`."""
    if function not in _deadline_functions:
        _deadline_functions.append(function)
    return function


def page_cache():
    return caches[settings.PAGE_CACHE_ALIAS]


@functools.cache
def release():
    """A name for the code that makes the pages, part of every entry's key (not of the
    generations'): after a deploy, nothing made by the previous templates, code or static
    files' names is served, while app servers old and new still share their invalidations.

    `BARNETBLOG_RELEASE` when the deployment sets it (PAGE_CACHE_RELEASE); otherwise a hash
    of the project's Python files, templates and static files (and the collected manifest,
    if any) and of the versions of the libraries that render pages: the same on every
    server with the same files, computed once per process (a few milliseconds)."""
    if settings.PAGE_CACHE_RELEASE:
        return str(settings.PAGE_CACHE_RELEASE)
    import django
    import django_comments
    import django_comments_xtd

    digest = hashlib.sha256()
    for module in (django, django_comments, django_comments_xtd):
        digest.update(f"{module.__name__}={getattr(module, '__version__', '')}\n".encode())
    base = Path(settings.BASE_DIR)
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    files = [manifest] if manifest.exists() else []
    for top in settings.PAGE_CACHE_RELEASE_SOURCES:
        for path in sorted((base / top).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".html", ".txt", ".css", ".js", ".svg"):
                files.append(path)
    for path in files:
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def invalidate(**kwargs):
    """Start new generations, content and pages, once the current transaction commits (now,
    outside one).

    Connected to the signals of every model whose rows a public page shows; takes a signal's
    keyword arguments and ignores them.
    """
    transaction.on_commit(new_generation)


def invalidate_discussion(**kwargs):
    """Start a new pages generation once the current transaction commits, keeping the
    content one: for comments, likes, reports and reviews, which no content data shows."""
    transaction.on_commit(lambda: new_generation(keys=(GENERATION_KEY,)))


def new_generation(keys=(CONTENT_KEY, GENERATION_KEY)):
    """Fresh tokens for `keys` (content before pages), valid until the next time-based change;
    returns the last one (None if the cache cannot be reached: then nothing is served from it
    until every generation has been replaced)."""
    until = _next_deadline()
    generation = None
    _forget_request_generations()
    for key in keys:
        generation = (secrets.token_hex(8), until)
        try:
            page_cache().set(key, generation, timeout=None)
        except Exception:
            # A write that could not invalidate must not be forgotten: the cache may come
            # back with the old generation (a network blip rather than a restart). This
            # process replaces every generation before it next reads the cache.
            _pending_invalidation["since"] = time.time()
            log.warning("Page cache unreachable: could not start a new generation", exc_info=True)
            return None
    if set(keys) == set(SCOPES.values()):
        _pending_invalidation.clear()
    return generation


# Set while an invalidation this process owes the cache is outstanding (see new_generation).
_pending_invalidation = {}


def current_generation(key=GENERATION_KEY):
    """(token, deadline as a timestamp or None) of the pages (or, with CONTENT_KEY, the
    content data) that may be served now."""
    generation = page_cache().get(key)
    if generation is None or not _still_valid(generation):
        generation = new_generation(keys=(key,))
    return generation


def read_current(key_for, generation_key=GENERATION_KEY):
    """(current generation, the value stored under `key_for(its token)`, or None).

    One round trip to the cache when the generation is the one this process saw last (nearly
    always): the generation and the key it would name are read together, so a value is only
    used while its generation is still the current one. (None, None) if no generation can be
    had.
    """
    if _pending_invalidation and new_generation() is None:
        return None, None
    generation, value = _read_generation_and_value(key_for, generation_key)
    seen = _request_generations()
    if seen is not None and generation is not None:
        seen[generation_key] = generation
    return generation, value


def _read_generation_and_value(key_for, generation_key):
    guess = _last_seen.get(generation_key)
    if guess is not None:
        key = key_for(guess)
        value = _copies.get(key)
        if value is not None:
            # The process holds the value already: the generation alone says whether it is
            # still current (a long discussion is not fetched and unpickled again).
            generation = page_cache().get(generation_key)
        else:
            found = page_cache().get_many([generation_key, key])
            generation, value = found.get(generation_key), found.get(key)
        if generation is not None and generation[0] == guess and _still_valid(generation):
            return generation, value
    generation = current_generation(generation_key)
    if generation is None:
        return None, None
    _last_seen[generation_key] = generation[0]
    return generation, page_cache().get(key_for(generation[0]))


# The generations this request has read (while PageCacheMiddleware handles one): a request
# reads each once, and the data it names from the process's own copies where it can.
_request = threading.local()


def _request_generations():
    return getattr(_request, "generations", None)


def _forget_request_generations():
    seen = _request_generations()
    if seen is not None:
        seen.clear()
    values = getattr(_request, "values", None)
    if values is not None:
        values.clear()


@contextlib.contextmanager
def request_scope():
    """What one request reads once (its generations, `once_per_request` values) is kept
    within this block: PageCacheMiddleware handles each request in one."""
    _request.generations, _request.values = {}, {}
    try:
        yield
    finally:
        _request.generations = _request.values = None


def once_per_request(name, build):
    """`build()`'s result, built at most once in the request being handled (every part of a
    page that needs the same data shares it), and afresh after the request changes content;
    outside a request, built each time."""
    values = getattr(_request, "values", None)
    if values is None:
        return build()
    if name not in values:
        values[name] = build()
    return values[name]


def request_value(name):
    """What `once_per_request(name, …)` holds for the request being handled, or None."""
    values = getattr(_request, "values", None)
    return None if values is None else values.get(name)


def generation_read(scope="pages"):
    """The token of the generation of `scope` that the request being handled has read, or
    None. Data read from the database while it holds the same token is kept under that
    generation (a change committed meanwhile starts a new one, and never shows it)."""
    seen = _request_generations()
    if seen is None or _pending_invalidation:
        return None
    generation = seen.get(SCOPES[scope])
    return None if generation is None else generation[0]


class _LocalCopies:
    """This process's copies of data entries, pickled, the most recently used kept.

    An entry's key names its generation's token, and what is stored under a key never
    changes: a copy is as good as the cache's own for as long as the token is current, which
    the request has just read. (Pickled, so that every request gets objects of its own, as
    from the cache.)"""

    def __init__(self, size=128):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            data = self.entries.get(key)
            if data is None:
                return None
            self.entries.move_to_end(key)
        return pickle.loads(data)  # noqa: S301 - our own pickles, made in this process

    def put(self, key, value):
        with self.lock:
            if key in self.entries:  # what a key names never changes
                self.entries.move_to_end(key)
                return
        data = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
        with self.lock:
            self.entries[key] = data
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_copies = _LocalCopies()


def _still_valid(generation):
    return generation[1] is None or generation[1] > time.time()


# The generation this process last served under: a guess that saves a round trip, checked
# against the cache on every request (never trusted on its own).
_last_seen = {}


def cached(name, build, scope="pages"):
    """`build()`'s result, kept for the current generation of `scope`: "pages" (invalidated
    exactly like the pages) or "content" (only by changes that are not to the discussion):
    for data that cold renders share, such as the sidebar's."""
    if not settings.PAGE_CACHE_DATA:
        return build()

    def key_for(token):
        return f"data:{scope}:{token}:{release()}:{name}"

    generation_key = SCOPES[scope]
    seen = _request_generations()
    if seen is not None and generation_key in seen and _pending_invalidation:
        # What this request read under the generation it saw (`once_per_request`, a read
        # ahead) may predate a change this process has not been able to announce since:
        # made afresh, and kept under no generation.
        return build()
    try:
        if seen is not None and generation_key in seen:
            # The generation this request has read already: no round trip for it, and none
            # for the value either when this process holds a copy.
            generation = seen[generation_key]
            value = _copies.get(key_for(generation[0]))
            if value is not None:
                return value
            value = page_cache().get(key_for(generation[0]))
        else:
            generation, value = read_current(key_for, generation_key)
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
    if generation is not None:
        _copies.put(key_for(generation[0]), value)
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
        with request_scope():
            return self.handle(request)

    def handle(self, request):
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
    """HEAD and GET share entries; http and https do not (pages may name their scheme); no
    release shares another's."""
    path = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:40]
    return f"page:{token}:{release()}:{request.scheme}:{path}:{encoding}"


def mark_private(response):
    """A page made for one reader (or one that sets a cookie) is never kept by a proxy."""
    if "Cache-Control" not in response.headers or response.cookies:
        existing = response.headers.get("Cache-Control", "")
        if "no-store" not in existing:
            response.headers["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie"])
    return response
