from django.conf import settings

from .site import site_url as absolute_site_url


def site(request):
    """The site's name, tagline and absolute address, this page's canonical URL and its place
    in the main navigation.

    Absolute URLs (canonical links, link previews, feeds) use the domain recorded in the admin
    under Sites, so that every copy of a page names one address. The Site is cached per process.
    """
    site_url = absolute_site_url(request)
    canonical = site_url + request.path
    page = request.GET.get("page", "")
    if page.isascii() and page.isdigit() and int(page) > 1:
        canonical += f"?page={int(page)}"
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_TAGLINE": settings.SITE_TAGLINE,
        "SITE_URL": site_url,
        "canonical_url": canonical,
        "nav_current": _nav_current(request),
        # The search page's words (its view names its own): empty elsewhere, since the site's
        # header asks on every page, and a name missing from the context costs the template
        # engine an exception.
        "query": "",
    }


# Pages of the main navigation other than the home page, marked as the current page there.
NAV_PAGES = frozenset({"/about/", "/house-rules/"})


def _nav_current(request):
    """Which link of the main navigation is this page ("home", a path of NAV_PAGES, or ""):
    all that the site's header needs of the request (it is kept, per value, by `{% kept %}`)."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name == "home":
        return "home"
    return request.path if request.path in NAV_PAGES else ""
