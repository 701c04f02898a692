"""Dates as the interface writes them, in British English, without `|date`'s machinery.

`|date` looks up the language, the format and the time zone on every call (30–60 µs each);
the parts of a page written in Python (the comment thread, the sidebar) and the dates every
post shows (`{% load dates %}`: `|iso`, `|long_date`) use these instead.
"""

from django.utils import timezone

MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def iso(value):
    """As `|date:"c"`: ISO 8601 in local time (the site's, Europe/London), with its offset."""
    return timezone.localtime(value).isoformat()


def long_date(value):
    """As `|date:"j F Y"`: "2 December 2026", in local time."""
    day = timezone.localtime(value)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
