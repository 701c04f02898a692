"""The site's one public address, for absolute URLs (canonical links, feeds, sitemaps, email).

It is the domain recorded in the admin under Sites (cached per process by Django), with https
whenever the site runs in secure mode (`DJANGO_SECURE`), so every copy of a page names the same
address. Otherwise the scheme is the request's, or plain http where there is no request (links
in email under `make run`, whose development server speaks only http).
"""

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site


def site_url(request=None):
    scheme = "http" if request is None else request.scheme
    if settings.SECURE:
        scheme = "https"
    return f"{scheme}://{get_current_site(request).domain}"
