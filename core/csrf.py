"""Cross-site request protection for the forms on pages that the page cache shares.

A page served to every anonymous reader cannot carry anyone's CSRF token, so the public forms
(a comment, a like) are protected the way the token's own check begins: a browser says where
a POST comes from (`Sec-Fetch-Site`, else `Origin`, else `Referer`), and a POST that a browser
says comes from another site is refused. Signed-in readers get pages of their own, with
Django's token, and their POSTs are checked by Django's CSRF middleware as everywhere else.
The comment form is signed as well (django-contrib-comments' security hash and timestamp).
"""

from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

CROSS_SITE = "This form was sent from another website."


def same_origin_or_token(view):
    """For views that take POSTs from cached pages: anonymous POSTs must come from this site
    (when the browser says where they come from); signed-in POSTs need Django's token."""

    @csrf_exempt
    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.user.is_authenticated:
            refused = CsrfViewMiddleware(view).process_view(request, None, args, kwargs)
            if refused is not None:
                return refused
        elif not from_this_site(request):
            return import_string(settings.CSRF_FAILURE_VIEW)(request, reason=CROSS_SITE)
        return view(request, *args, **kwargs)

    return checked


def from_this_site(request):
    """False when the browser says the request comes from another site."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        referer = request.headers.get("Referer")
        if not referer:
            return True  # no browser we know of sends a cross-site POST without either
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    trusted = {f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS}
    return origin in trusted
