"""What a visitor sees when a service the site depends on is down, and what a load balancer asks.

- The database unreachable (PostgreSQL restarting, a connection refused or dropped, a statement
  cancelled by `statement_timeout`): the request fails fast with a 503 in the site's design and
  a `Retry-After`, rendered without touching the database (no session, no user, no Site).
  Django marks the failed connection and closes it when the request ends; the next request
  opens a new one (and `CONN_HEALTH_CHECKS` tests a kept one first): service comes back by
  itself as soon as the database does.
- `/readyz` answers 200 when the database and the caches answer, 503 otherwise, naming only which
  check failed (never an address, a password or an error message).
"""

import logging

from django.conf import settings
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)

# Errors that mean "the database is not there (or not answering in time)", not "our bug".
UNAVAILABLE = (OperationalError, InterfaceError)


def is_database_unavailable(error):
    """Whether `error` says the database could not be reached or gave up on a statement.

    Django wraps the driver's errors in its own classes; psycopg2's `QueryCanceled` (a
    statement past `statement_timeout`) is an OperationalError. IntegrityError and
    ProgrammingError are bugs or bad data and stay 500s.
    """
    return isinstance(error, UNAVAILABLE)


def unavailable_response(request=None):
    """The 503 page: static context only, so it renders with the database down."""
    retry_after = settings.DATABASE_UNAVAILABLE_RETRY_AFTER
    body = loader.render_to_string(
        "503.html", {"SITE_NAME": settings.SITE_NAME, "retry_after": retry_after}
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn "the database is down" raised by a view or a template into the 503 page.

    Errors raised by other middleware (a session saved on the way out) reach Django's error
    handler instead; `server_error` below gives them the same page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_unavailable(exception):
            return None
        log.warning("Database unavailable: answered 503 for %s", request.path, exc_info=True)
        return unavailable_response(request)


def server_error(request, template_name="500.html"):
    """`handler500`: the 503 page when the uncaught error is the database being down (raised
    in a middleware, where `process_exception` does not reach), Django's own 500 otherwise."""
    import sys

    from django.views.defaults import server_error as django_server_error

    error = sys.exc_info()[1]
    if error is not None and is_database_unavailable(error):
        return unavailable_response(request)
    return django_server_error(request, template_name)


@never_cache
@require_safe
def readyz(request):
    """Ready for traffic: the database answers `SELECT 1` and every configured cache answers.

    200 {"database": "ok", "cache:default": "ok", ...} or 503 with "unavailable" for what failed.
    For load balancers: take a server out of rotation while its database is unreachable.
    """
    checks = {"database": _check_database()}
    for alias in settings.CACHES:
        checks[f"cache:{alias}"] = _check_cache(alias)
    ready = all(value == "ok" for value in checks.values())
    response = JsonResponse({"ready": ready, **checks}, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = str(settings.DATABASE_UNAVAILABLE_RETRY_AFTER)
    return response


def _check_database():
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.warning("/readyz: the database is unavailable", exc_info=True)
        return "unavailable"
    return "ok"


def _check_cache(alias):
    try:
        cache = caches[alias]
        cache.set("readyz:probe", "1", timeout=10)
        if cache.get("readyz:probe") != "1":
            return "unavailable"
    except Exception:
        log.warning("/readyz: cache %r is unavailable", alias, exc_info=True)
        return "unavailable"
    return "ok"
