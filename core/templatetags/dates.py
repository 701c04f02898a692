"""`|iso` and `|long_date`: a post's dates as `|date:"c"` and `|date:"j F Y"` write them, in
local time, without `|date`'s look-ups of the language and format (core/dates.py).

    {% load dates %}
    <time datetime="{{ post.published_at|iso }}">{{ post.published_at|long_date }}</time>

Both give "" for no date, as `|date` does.
"""

import datetime

from django import template

from .. import dates

register = template.Library()


@register.filter(expects_localtime=False)
def iso(value):
    return dates.iso(value) if isinstance(value, datetime.datetime) else ""


@register.filter(expects_localtime=False)
def long_date(value):
    return dates.long_date(value) if isinstance(value, datetime.datetime) else ""
