"""The site's one public address, for absolute URLs (canonical links, feeds, sitemaps, email).

It is the domain recorded in the admin under Sites (cached per process by Django), with https
whenever the site runs in secure mode, so every copy of a page names the same address.
"""

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site


def site_url(request=None):
    scheme = "https" if settings.SECURE or request is None else request.scheme
    return f"{scheme}://{get_current_site(request).domain}"
