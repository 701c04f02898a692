"""The admin index's moderation panel: each queue's size, oldest item and median wait."""

from django import template

from ..models import moderates_comments
from ..moderation_services import waiting_times

register = template.Library()


@register.inclusion_tag("admin/comments/waiting_times.html", takes_context=True)
def moderation_waiting_times(context):
    user = context["request"].user
    rows = waiting_times(user) if moderates_comments(user) else []
    return {"rows": rows}
