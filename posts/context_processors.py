from django.utils.functional import SimpleLazyObject

from .models import ElectionPeriod


def election_period(request):
    """The pre-election period in force (None outside one), for the banner on every page.

    Looked up only by a template that shows it: a sitemap or an admin page asks nothing. It
    comes with the rest of the site's state (`pagedata.site()`): one query, or none.
    """
    return {"election_period": SimpleLazyObject(ElectionPeriod.current)}
