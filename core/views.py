"""Views every deployment shares, whatever the apps."""

from django.http import HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request):
    """The process is alive: "ok", without touching the database, a cache or the session.

    For load balancers and uptime checks, and the benchmark's baseline (the cost of the
    framework alone). Never kept by a proxy or the page cache (`PAGE_CACHE_NEVER`).
    """
    response = HttpResponse("ok", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response
