"""`|iso` and `|long_date` (core/templatetags/dates.py) write what `|date:"c"` and
`|date:"j F Y"` write, in London time, in summer and winter and across midnight."""

import datetime
import zoneinfo

import pytest
from django.template import engines

LONDON = zoneinfo.ZoneInfo("Europe/London")

MOMENTS = [
    datetime.datetime(2026, 7, 1, 23, 30, tzinfo=datetime.UTC),  # 2 July in London (BST)
    datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC),  # still 31 December (GMT)
    datetime.datetime(2026, 3, 29, 0, 59, 59, tzinfo=datetime.UTC),  # the hour clocks go forward
    datetime.datetime(2026, 10, 25, 1, 0, tzinfo=datetime.UTC),  # the hour they go back
    datetime.datetime(2011, 6, 5, 9, 4, 3, 123456, tzinfo=LONDON),  # microseconds, as saved
]


def render(text, **context):
    return engines["django"].from_string(text).render(context)


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_the_filters_write_what_date_writes(moment):
    ours = render("{% load dates %}{{ d|iso }} {{ d|long_date }}", d=moment)
    djangos = render("{{ d|date:'c' }} {{ d|date:'j F Y' }}", d=moment)
    assert ours == djangos


def test_a_post_page_dates_in_london_time():
    assert render("{% load dates %}{{ d|long_date }}", d=MOMENTS[0]) == "2 July 2026"
    assert render("{% load dates %}{{ d|iso }}", d=MOMENTS[0]) == "2026-07-02T00:30:00+01:00"


@pytest.mark.parametrize("value", [None, "", "not a date"])
def test_no_date_writes_nothing(value):
    assert render("{% load dates %}[{{ d|iso }}|{{ d|long_date }}]", d=value) == "[|]"


def test_a_request_runs_in_london_time_and_leaves_no_zone_behind(rf):
    """SiteTimeZoneMiddleware (core/middleware.py) activates the site's zone for a request,
    as Django would use it anyway, and deactivates it after, even when the view fails."""
    from django.http import HttpResponse
    from django.utils import timezone

    from core.middleware import SiteTimeZoneMiddleware

    seen = []

    def view(request):
        seen.append((timezone.get_current_timezone_name(), timezone.localtime(MOMENTS[0]).day))
        if request.GET.get("fail"):
            raise RuntimeError("the view failed")
        return HttpResponse()

    middleware = SiteTimeZoneMiddleware(view)
    middleware(rf.get("/"))
    with pytest.raises(RuntimeError):
        middleware(rf.get("/", {"fail": "1"}))
    assert seen == [("Europe/London", 2), ("Europe/London", 2)]
    assert not hasattr(timezone._active, "value")  # nothing activated outside a request
