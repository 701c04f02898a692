from django.conf import settings

from .site import site_url as absolute_site_url


def site(request):
    """The site's name, tagline and absolute address, and this page's canonical URL.

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
    }
