"""Zero-padded date parts, so one canonical address resolves for each post."""

import datetime

from django.http import Http404
from django.urls import register_converter


class FourDigitYearConverter:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class TwoDigitConverter:
    regex = "[0-9]{2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


# Registered when this module is first imported; every URLconf that uses <yyyy>, <mm> or <dd>
# imports it, so no URLconf depends on another having been loaded first.
register_converter(FourDigitYearConverter, "yyyy")
register_converter(TwoDigitConverter, "mm")
register_converter(TwoDigitConverter, "dd")


def period_or_404(year, month=None, day=None):
    """The days a URL's year, month or day covers, as (first day, the day after, "year",
    "month" or "day"); Http404 for a date that does not exist (30 February, day 0) or one
    whose period ends past the calendar (31 December 9999). Every URL that takes a date
    parses it here."""
    try:
        first = datetime.date(year, month or 1, day or 1)
        if day is not None:
            return first, first + datetime.timedelta(days=1), "day"
        if month is not None:
            return first, (first + datetime.timedelta(days=32)).replace(day=1), "month"
        return first, first.replace(year=year + 1), "year"
    except (ValueError, OverflowError):
        raise Http404("No such date.") from None
